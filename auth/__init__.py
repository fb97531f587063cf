"""People: accounts, sign-in and API tokens."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager

from auth import routes
from auth.cli import user
from auth.models import User
from knet.db import db

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = _l("Please sign in to see this page.")

commands = (user,)
demo_content = None


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    account = db.session.get(User, int(user_id))
    return account if account is not None and account.active else None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(routes.bp)
