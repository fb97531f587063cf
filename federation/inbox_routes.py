"""POST /federation/inbox: where peers deliver signed activities (the peering handshake's `Follow`, and
replication's Create, Update and Delete), and where servers outside the network follow the node actor: a
request signed the draft-cavage way (a Signature header without RFC 9421's Signature-Input) goes to
federation.fediverse_routes, which takes a Follow of the node actor and its Undo, and nothing else.

Every refusal is a problem document with a reason, never a change: unsigned, badly signed, stale or
future-dated requests, requests from anyone but a peer, and activities that speak for another node are
401; a body that is not an activity this node understands is 400; one over the size limit is 413. An
accepted activity is stored and answered 202 at once; a job applies it (federation.inbox).
"""
from __future__ import annotations

import json

from flask import Blueprint, Flask, request
from flask_babel import lazy_gettext as _l

from federation import discovery, fediverse_routes, inbox, peers, protocol
from federation.signed_requests import require_active, signing_peer
from knet.api import csrf
from knet.db import db
from knet.errors import Invalid, TooLarge, Unauthorized

bp = Blueprint("federation_inbox", __name__)
#: The largest activity a peer may deliver.
MAX_ACTIVITY_BYTES = 1024 * 1024


@bp.post("/federation/inbox")
def receive():
    if (request.content_length or 0) > MAX_ACTIVITY_BYTES:
        raise TooLarge(_l("An activity may be at most %(size)d KB.", size=MAX_ACTIVITY_BYTES // 1024))
    body = request.get_data(cache=True)
    if len(body) > MAX_ACTIVITY_BYTES:
        raise TooLarge(_l("An activity may be at most %(size)d KB.", size=MAX_ACTIVITY_BYTES // 1024))
    if "Signature" in request.headers and "Signature-Input" not in request.headers:
        return fediverse_routes.receive(body)
    peer = signing_peer()
    activity = _activity(body)
    if activity.get("actor") != discovery.actor_url(peer.url):
        raise Unauthorized(_l("The activity's actor is not the node whose key signed it."), reason="actor-mismatch")
    if activity.get("type") == "Follow":
        if activity.get("object") != discovery.actor_url(peers.own_url()):
            raise Invalid(_l("A peering request follows this node's actor."), field="object", reason="wrong-object")
        peers.peering_requested(peer)
        db.session.commit()
        return {"accepted": activity.get("id")}, 202
    require_active(peer)  # (a Follow, above, is how a pending agreement becomes active)
    try:
        incoming = protocol.parse(activity, peer.url, discovery.actor_url(peer.url))
    except protocol.NotItsOwn as exc:
        raise Unauthorized(exc.message, reason=exc.reason) from None
    except protocol.Malformed as exc:
        raise Invalid(exc.message, reason=exc.reason) from None
    new = inbox.receive(peer, incoming)
    return {"accepted": incoming.id, "duplicate": not new}, 202


def _activity(body: bytes) -> dict:
    try:
        activity = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Invalid(_l("The body is not JSON."), reason="not-json") from None
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise Invalid(_l("The body is not an activity: a JSON object with a type."), reason="not-an-activity")
    return activity


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # peers sign their requests; no cookie ever authenticates one
    app.register_blueprint(bp)
