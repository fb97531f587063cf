"""The node actor as the fediverse sees it: its inbox for servers that are not peers (a Follow and its Undo,
nothing else), its followers collection, its public outbox (federation.changes_routes serves it) and its
public objects at their own addresses, as JSON for whoever asks for ActivityPub (people get the page)."""
from __future__ import annotations

import json

from flask import Blueprint, Flask, jsonify, request
from flask_babel import lazy_gettext as _l

from federation import discovery, fediverse, fediverse_followers, fediverse_inbox, fediverse_publishing, peers
from federation.actor import CONTEXT, followers_url
from federation.protocol import Malformed
from knet.db import db
from knet.errors import Forbidden, Invalid, Unauthorized

bp = Blueprint("fediverse", __name__)

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"


def receive(body: bytes):
    """A signed activity from a server outside the network (federation.inbox_routes hands its body over): a
    Follow of the node actor or its Undo is taken and answered 202; anything else is refused, after the
    signature was checked (401 comes before 400, as for peers)."""
    remote = fediverse_inbox.signing_actor()
    try:
        activity = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Invalid(_l("The body is not JSON."), reason="not-json") from None
    if not isinstance(activity, dict):
        raise Invalid(_l("The body is not an activity: a JSON object with a type."), reason="not-an-activity")
    if fediverse.id_of(activity.get("actor")) != remote.id:
        raise Unauthorized(_l("The activity's actor is not the actor whose key signed it."), reason="actor-mismatch")
    try:
        request_ = fediverse.parse(activity, discovery.actor_url(peers.own_url()))
    except fediverse.NotAccepted as exc:
        raise Forbidden(exc.message, reason=exc.reason) from None
    except Malformed as exc:
        raise Invalid(exc.message, reason=exc.reason) from None
    if request_.type == "Follow":
        fediverse_followers.follow(remote, request_)
    else:
        fediverse_followers.unfollow(remote)
    db.session.commit()
    return {"accepted": fediverse.id_of(activity)}, 202


@bp.get("/federation/followers")
def followers():
    """How many follow the node actor (who they are is theirs to say)."""
    document = {"@context": CONTEXT, "id": followers_url(peers.own_url()), "type": "OrderedCollection",
                "totalItems": fediverse_followers.count()}
    return document, 200, {"Content-Type": ACTIVITY_JSON}


def wants_activity_json() -> bool:
    """Whether the request asks for ActivityPub JSON rather than a page (as Mastodon fetches objects), by name:
    a browser's */* does not. (ld+json comes with a profile parameter, which best_match would not match.)"""
    accepted = request.accept_mimetypes
    wanted = max((quality for value, quality in accepted if value.split(";")[0].strip() in (ACTIVITY_JSON, LD_JSON)),
                 default=0)
    return wanted > 0 and wanted > accepted["text/html"]


def public_object():
    """Before any view: a public object asked for as ActivityPub JSON at its own address is answered here;
    anything else goes on to its page (which applies its own rules to what is not public)."""
    if request.method not in ("GET", "HEAD") or not wants_activity_json():
        return None
    document = fediverse_publishing.public_document(peers.own_url() + request.path)
    if document is None:
        return None
    response = jsonify(document)
    response.headers["Content-Type"] = ACTIVITY_JSON
    response.headers["Vary"] = "Accept"
    return response


def init_app(app: Flask) -> None:
    app.before_request(public_object)
    app.register_blueprint(bp)
