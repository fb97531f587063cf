"""Signing in through one's home node: the button on the sign-in page starts the flow, and the peer sends
the person back to the callback (auth/peer_signin.py does the work)."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, Flask, jsonify, redirect, request
from flask_login import current_user

from auth import account_purge, erasure, peer_signin
from auth.routes import start_session
from auth.sign_on import CALLBACK_PATH, LOGIN_PATH, own_url
from knet.api import csrf
from knet.db import db
from knet.errors import KnetError
from knet.views import local_path

logger = logging.getLogger(__name__)

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


@bp.post(account_purge.EVENTS_PATH)
def events():
    """A peer tells that one of its staff was erased there (a Security Event Token, RFC 8935): their
    visitor account here is erased too. Answered 202, or 400 with RFC 8935's error object."""
    try:
        if (request.content_length or 0) > account_purge.MAX_TOKEN:
            raise account_purge.Refused("invalid_request", "The event is too long.")
        purge = account_purge.received(request.get_data(cache=False), request.content_type or "")
    except account_purge.Refused as refused:
        logger.warning("A security event from %s was refused (%s): %s", request.remote_addr, refused.err,
                       refused.description)
        return jsonify(err=refused.err, description=refused.description), 400
    if purge.visitor is not None:
        erasure.erase_person(None, purge.visitor, reason=f"at the request of their home node, {purge.home.url}")
        db.session.commit()
    return "", 202


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(events)  # the event is a JWT signed by the peer's federation key; no cookie ever sends one
