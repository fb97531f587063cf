"""Publishing to the fediverse: the node actor's public objects, as its followers receive them and as
anyone reads them from its outbox or at their own addresses.

Every content change queues a job (knet.content.follow_changes), as it does for peers. The job looks at
the object's document now: if it is public (and a page, course or question) and differs from what
followers last received, they get a Create or an Update; if it is no longer public (deleted, or its
visibility narrowed) while they had it, a Delete. What is not public is never in an activity.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select

from federation import fediverse, fediverse_delivery, fediverse_followers, peers, protocol
from federation.actor import CONTEXT
from federation.models import Change, Published
from knet import content
from knet.content import iso
from knet.db import db, utcnow
from knet.render_cache import not_shown_on_pages

logger = logging.getLogger(__name__)

not_shown_on_pages(Published)

PUBLISH_JOB = "fediverse.publish"
#: Changes looked at in one transaction.
PUBLISH_BATCH = 200
#: Activities on one page of the public outbox.
OUTBOX_PAGE = 20
#: The object types that may be public ones, as the change log's documents have them (see fediverse.is_public).
_TYPES = ("Article", "Page")


def publish(payloads: list[dict]) -> None:
    """Job handler: send followers what became of the public objects that changed."""
    sent = 0
    for type_name, object_id, uri in dict.fromkeys((p["type"], p["id"], p["uri"]) for p in payloads):
        content_type = content.content_types().get(type_name)
        if content_type is not None and content_type.document is not None:
            sent += _publish_one(uri, content_type.document(object_id))
    if sent:
        logger.debug("Sent %d public change(s) to the fediverse", sent)


def _publish_one(uri: str, document: dict | None) -> int:
    published = db.session.get(Published, uri)
    was_public = published is not None and published.digest != ""
    if fediverse.is_public(document):
        digest = protocol.digest(document)
        if was_public and published.digest == digest:
            return 0
        kind = "Update" if was_public else "Create"
    elif was_public:
        kind, document, digest = "Delete", None, ""
    else:
        return 0
    if published is None:
        published = Published(uri=uri, version=0)
        db.session.add(published)
    published.version += 1
    published.digest = digest
    db.session.flush()
    activity = fediverse.activity(kind, uri, document, peers.own_url(), published.version, iso(utcnow()))
    for inbox in fediverse_followers.inboxes():
        fediverse_delivery.send(inbox, activity)
    return 1


# The public outbox ------------------------------------------------------------------------------

def _public_changes():
    """The change log's entries that are public objects the fediverse may read (newest first)."""
    return (select(Change).where(Change.activity != "Delete", Change.document["knet:visibility"].as_string() == "public",
                                 Change.document["type"].as_string().in_(_TYPES))
            .order_by(Change.seq.desc()))


def outbox() -> dict:
    """The node actor's outbox as anyone outside its network reads it: its public objects only."""
    node = peers.own_url()
    total = db.session.scalar(select(func.count()).select_from(_public_changes().order_by(None).subquery())) or 0
    return {"@context": CONTEXT, "id": _outbox_url(node), "type": "OrderedCollection", "totalItems": total,
            "first": _outbox_url(node, page=True)}


def outbox_page(before: int | None) -> dict:
    """A page of the public outbox: the Create of each public object, newest first, before change `before`."""
    node = peers.own_url()
    query = _public_changes()
    if before is not None:
        query = query.where(Change.seq < before)
    found = [change for change in db.session.scalars(query.limit(OUTBOX_PAGE + 1))
             if fediverse.is_public(change.document)]
    more, found = len(found) > OUTBOX_PAGE, found[:OUTBOX_PAGE]
    page = {"@context": CONTEXT, "id": _outbox_url(node, page=True, before=before), "type": "OrderedCollectionPage",
            "partOf": _outbox_url(node),
            "orderedItems": [_created(change, node) for change in found]}
    if more:
        page["next"] = _outbox_url(node, page=True, before=found[-1].seq)
    return page


def _created(change: Change, node: str) -> dict:
    activity = fediverse.activity("Create", change.uri, change.document, node, change.seq,
                                  change.document.get("published") or iso(change.created_at))
    # Its own id: the ids of activities delivered to followers are numbered otherwise (Published.version).
    return {**activity, "id": f"{change.uri}#published-{change.seq}"}


def public_document(uri: str) -> dict | None:
    """The object at `uri` as the fediverse reads it, while it is public; None otherwise."""
    change = db.session.scalar(select(Change).where(Change.uri == uri))
    content_type = content.content_types().get(change.content_type) if change is not None else None
    if content_type is None or content_type.document is None:
        return None
    document = content_type.document(change.object_id)  # now, not as last logged: it may have become private
    if not fediverse.is_public(document):
        return None
    return {"@context": CONTEXT, **fediverse.public_object(document, peers.own_url())}


def _outbox_url(node: str, page: bool = False, before: int | None = None) -> str:
    url = f"{node}/federation/outbox"
    if page:
        url += "?page=true" + (f"&before={before}" if before is not None else "")
    return url
