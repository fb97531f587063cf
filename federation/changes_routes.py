"""GET /federation/changes?after=SEQ&limit=N: this node's change log, a page at a time, for its active
peers only (signed requests); GET /federation/outbox: the same log as the actor's outbox collection. A peer pulls from its cursor until no `next` remains, and so converges
however many pushes it missed. Anyone else who reads the outbox (unsigned, or signed by a node that is not
an active peer) gets the node's public objects only (federation.fediverse_publishing)."""
from __future__ import annotations

from flask import Blueprint, Flask, request
from flask_babel import lazy_gettext as _l

from federation import changelog, fediverse_publishing, peers
from federation.actor import CONTEXT
from federation.signed_requests import active_peer
from knet.db import db
from knet.errors import Invalid, Unauthorized

bp = Blueprint("federation_changes", __name__)
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
#: The highest change number a database integer holds.
MAX_SEQ = 2**31 - 1


@bp.get("/federation/changes")
def changes():
    peer = active_peer()
    after = whole_number("after", 0, 0, MAX_SEQ)
    limit = whole_number("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = changelog.after(after, limit + 1)
    more, page = len(page) > limit, page[:limit]
    last = page[-1].seq if page else after
    document = {
        "@context": CONTEXT, "id": _page_url(after, limit),
        "type": "OrderedCollectionPage", "orderedItems": [changelog.activity(change) for change in page],
        "knet:after": after, "knet:last": last, "knet:head": changelog.last_seq(),
    }
    if more:
        document["next"] = _page_url(last, limit)
    if peer.pushed_seq < last:
        # A peer reads from its own cursor, up to which it has applied everything: what it read now
        # need not be pushed to it too (that would only bring it duplicates).
        peer.pushed_seq = last
        db.session.commit()
    return document, 200, {"Content-Type": "application/activity+json"}


@bp.get("/federation/outbox")
def outbox():
    """The node actor's outbox, as ActivityPub names it: the change log as a collection whose first page
    is the change log's first page. For anyone but a peer: the public outbox."""
    if not _from_a_peer():
        if request.args.get("page"):
            before = whole_number("before", 0, 1, MAX_SEQ) or None
            return fediverse_publishing.outbox_page(before), 200, {"Content-Type": "application/activity+json"}
        return fediverse_publishing.outbox(), 200, {"Content-Type": "application/activity+json"}
    document = {"@context": CONTEXT, "id": f"{peers.own_url()}/federation/outbox", "type": "OrderedCollection",
                "totalItems": changelog.count(), "first": _page_url(0, DEFAULT_LIMIT),
                "knet:head": changelog.last_seq()}
    return document, 200, {"Content-Type": "application/activity+json"}


def _from_a_peer() -> bool:
    """Whether an active peer signed the request (RFC 9421). Anyone else reads the public outbox, but a peer's
    signature that fails for another reason than not being a peer's is refused, so that the peer learns why."""
    if "Signature-Input" not in request.headers:
        return False
    try:
        active_peer()
    except Unauthorized as exc:
        if exc.extra.get("reason") in ("unknown-key", "not-active"):
            return False
        raise
    return True


def _page_url(after: int, limit: int) -> str:
    return f"{peers.own_url()}/federation/changes?after={after}&limit={limit}"


def whole_number(name: str, default: int, least: int, most: int) -> int:
    """The query argument ``name`` as a whole number from ``least`` to ``most`` (``default`` when absent);
    Invalid otherwise."""
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and least <= int(raw) <= most):
        raise Invalid(_l("“%(name)s” must be a whole number from %(least)d to %(most)d.", name=name, least=least,
                         most=most), field=name)
    return int(raw)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
