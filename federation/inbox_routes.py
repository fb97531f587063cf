"""POST /federation/inbox: where peers deliver signed activities. For now it takes the peering handshake
(a `Follow` of this node's actor); content activities come with replication.

Every refusal is a problem document with a reason, never a change: unsigned, badly signed, stale or
future-dated requests and requests from anyone but a peer are 401; a body that is not an activity is 400;
one over the size limit is 413.
"""
from __future__ import annotations

import json

from flask import Blueprint, Flask, request
from flask_babel import lazy_gettext as _l

from federation import discovery, peers, signatures
from knet.api import csrf
from knet.db import db
from knet.errors import Invalid, TooLarge, Unauthorized, problem

bp = Blueprint("federation_inbox", __name__)
#: The largest activity a peer may deliver.
MAX_ACTIVITY_BYTES = 1024 * 1024


@bp.post("/federation/inbox")
def inbox():
    if (request.content_length or 0) > MAX_ACTIVITY_BYTES:
        raise TooLarge(_l("An activity may be at most %(size)d KB.", size=MAX_ACTIVITY_BYTES // 1024))
    body = request.get_data(cache=True)
    if len(body) > MAX_ACTIVITY_BYTES:
        raise TooLarge(_l("An activity may be at most %(size)d KB.", size=MAX_ACTIVITY_BYTES // 1024))
    query = request.query_string.decode("latin-1")
    url = peers.own_url() + request.path + (f"?{query}" if query else "")

    def key_of(key_id: str):
        found = peers.signer(key_id)
        return found[1] if found else None

    verified = signatures.verify_request(request.method, url, dict(request.headers), body, key_of)
    found = peers.signer(verified.key_id)
    if found is None:  # removed or suspended since its key was looked up
        raise Unauthorized(_l("The key %(key)s is not the key of a peer of this node.", key=verified.key_id),
                           reason="unknown-key")
    peer = found[0]
    activity = _activity(body)
    if activity.get("actor") != discovery.actor_url(peer.url):
        raise Unauthorized(_l("The activity's actor is not the node whose key signed it."), reason="actor-mismatch")
    if activity.get("type") == "Follow":
        if activity.get("object") != discovery.actor_url(peers.own_url()):
            raise Invalid(_l("A peering request follows this node's actor."), field="object")
        peers.peering_requested(peer)
        db.session.commit()
        return {"accepted": activity.get("id")}, 202
    return problem(501, "Not Implemented", str(_l("This node does not take “%(type)s” activities yet.",
                                                    type=str(activity.get("type"))[:40])))


def _activity(body: bytes) -> dict:
    try:
        activity = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Invalid(_l("The body is not JSON.")) from None
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise Invalid(_l("The body is not an activity: a JSON object with a type."))
    return activity


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # peers sign their requests; no cookie ever authenticates one
    app.register_blueprint(bp)
