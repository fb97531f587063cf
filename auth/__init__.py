"""People: accounts, sign-in and API tokens."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager

from auth import (account_purge, admin_routes, api, digest, directory, notification_routes, peer_signin_routes,
                  people_routes, personal_data, personal_data_routes, provider_routes, routes, upstream_routes)
from auth.audit_cli import audit_group
from auth.cli import user
from auth.ldap_cli import ldap
from auth.mail_cli import mail
from auth.bearer import api_actor
from auth.models import User
from knet import jobs
from knet.api import add_openapi, register_api
from knet.views import add_nav_link
from knet.db import db
from knet.search.api import set_api_viewer
from knet.search.index import Viewer
from knet.search.views import viewer_of

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = _l("Please sign in to see this page.")

commands = (user, ldap, mail, audit_group)
demo_content = None


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    account = db.session.get(User, int(user_id))
    if account is None or not account.active or not routes.session_is_current(account.session_epoch):
        return None
    return account


def _api_search_viewer() -> Viewer:
    actor = api_actor()
    return viewer_of(actor)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    directory.init_app(app)
    settings = app.config["KNET"]["ldap"]
    if settings["url"] and settings["sync_minutes"]:
        jobs.register(app, directory.SYNC_JOB, directory.run_sync_job, max_attempts=3,
                      every=settings["sync_minutes"] * 60)
    app.register_blueprint(routes.bp)
    app.register_blueprint(admin_routes.bp)
    add_nav_link(app, "admin.accounts", _l("Accounts"), role="admin")
    register_api(app, api.bp)
    add_openapi(app, api.PATHS, api.SCHEMAS)
    people_routes.init_app(app)
    notification_routes.init_app(app)
    provider_routes.init_app(app)
    peer_signin_routes.init_app(app)
    account_purge.init_app(app)
    upstream_routes.init_app(app)
    digest.init_app(app)
    personal_data.init_app(app)
    personal_data_routes.init_app(app)
    # API searches see what the token's owner may see.
    set_api_viewer(app, _api_search_viewer)
