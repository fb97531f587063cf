"""Signing in through one's home node: the button on the sign-in page starts the flow, and the peer sends
the person back to the callback (auth/peer_signin.py does the work)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, redirect, request
from flask_login import current_user

from auth import peer_signin
from auth.routes import start_session
from auth.sign_on import CALLBACK_PATH, LOGIN_PATH, own_url
from knet.db import db
from knet.errors import KnetError
from knet.views import local_path

bp = Blueprint("peer_signin", __name__)


@bp.post("/auth/peers/start")
def start():
    """Send the person to their home node to sign in (a form, since it keeps the flow's secrets here)."""
    address = peer_signin.start(request.form.get("peer", ""), request.form.get("next"))
    db.session.commit()
    return redirect(address)


@bp.get(LOGIN_PATH)
def initiated():
    """Sign-in started from the person's home node (OpenID Connect's "initiated by a third party"): its
    copy of one of our objects links here, with `iss` its URL and `target_link_uri` the object's address
    here, so that "answer at its home" signs the person in through their home (silently after their first
    consent) and leads to the object. Someone already signed in here goes straight there."""
    target = local_path(_path_here(request.args.get("target_link_uri", "")))
    if current_user.is_authenticated:
        return redirect(target)
    address = peer_signin.start(request.args.get("iss", ""), target)
    db.session.commit()
    return redirect(address)


def _path_here(url: str) -> str:
    """The path of an address on this node ("/" for anything else)."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != own_url():
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.get(CALLBACK_PATH)
def callback():
    """The home node sends the person back here with a code (or an error)."""
    try:
        visitor, next_path = peer_signin.finish(request.args.to_dict(), request.remote_addr or "")
    except KnetError:
        db.session.commit()  # the flow is used up, and the audit log keeps refused sign-ins too
        raise
    start_session(visitor)
    db.session.commit()
    return redirect(next_path)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
