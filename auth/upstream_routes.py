"""The national sign-in's two addresses: the sign-in page's button starts it, and the provider sends the
person back to the callback (auth/upstream.py does the work)."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, request

from auth import upstream
from auth.routes import start_session
from knet.db import db
from knet.errors import KnetError

bp = Blueprint("upstream", __name__)


@bp.post("/auth/upstream/start")
def start():
    address = upstream.start(request.form.get("next"))
    db.session.commit()
    return redirect(address)


@bp.get("/auth/upstream/callback")
def callback():
    try:
        user, next_path = upstream.finish(request.args.to_dict(), request.remote_addr or "")
    except KnetError:
        db.session.commit()  # the flow is used up, and the audit log keeps the refusal
        raise
    start_session(user)
    db.session.commit()
    return redirect(next_path)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
