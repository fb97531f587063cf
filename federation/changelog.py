"""The numbered change log (the outbox): what this node's shareable objects became, in order.

Every content change queues a job (knet.content.follow_changes) that looks at the object's document
now: if it is shareable and differs from what the log holds, the log gets a Create or Update; if it
is no longer shareable (deleted, or its visibility narrowed) while peers have it, a Delete. Each
object has one entry, the latest: peers pull from any cursor and get every object changed since.
"""
from __future__ import annotations

import logging

from sqlalchemy import delete, func, select

from federation import discovery, peers, protocol
from federation.models import Change, DeadLetter, HourlyStats, LogHead, Peer, Received
from knet import content, jobs
from knet.db import as_utc, db, lock_row
from knet.render_cache import not_shown_on_pages

logger = logging.getLogger(__name__)

# The log, the cursors and the delivery figures change no cached page (replicas do: a fork shows its source).
not_shown_on_pages(Change, LogHead, Peer, Received, DeadLetter, HourlyStats)

RECORD_JOB = "federation.record"
PUSH_JOB = "federation.push"
#: Changes recorded in one transaction.
RECORD_BATCH = 200


def record(payloads: list[dict]) -> None:
    """Job handler: bring the log in step with the objects that changed."""
    head = db.session.get(LogHead, 1)
    lock_row(head, "last_seq")  # one writer at a time, so numbers are committed in order
    recorded = 0
    for type_name, object_id, uri in dict.fromkeys((p["type"], p["id"], p["uri"]) for p in payloads):
        content_type = content.content_types().get(type_name)
        if content_type is None or content_type.document is None:
            continue
        recorded += _record_one(head, type_name, object_id, uri, content_type.document(object_id))
    if recorded:
        jobs.run_soon(PUSH_JOB)
        logger.debug("Recorded %d change(s) for peers", recorded)



def _record_one(head: LogHead, type_name: str, object_id: int, uri: str, document: dict | None) -> int:
    last = db.session.scalar(select(Change).where(Change.uri == uri))
    shared = last is not None and last.activity != "Delete"
    if document is None:
        if not shared:
            return 0
        activity, digest = "Delete", ""
    else:
        digest = protocol.digest(document)
        if shared and last.digest == digest:
            return 0
        activity = "Update" if shared else "Create"
    if last is not None:
        db.session.execute(delete(Change).where(Change.seq == last.seq))
    head.last_seq += 1
    db.session.add(Change(seq=head.last_seq, uri=uri, content_type=type_name, object_id=object_id,
                          activity=activity, document=document, digest=digest))
    db.session.flush()
    return 1


def last_seq() -> int:
    return db.session.scalar(select(LogHead.last_seq).where(LogHead.id == 1)) or 0


def count() -> int:
    """How many entries the log holds (one per object ever shared)."""
    return db.session.scalar(select(func.count()).select_from(Change)) or 0


def after(seq: int, limit: int) -> list[Change]:
    """The changes numbered after `seq`, oldest first."""
    return list(db.session.scalars(select(Change).where(Change.seq > seq).order_by(Change.seq).limit(limit)))


def activity(change: Change) -> dict:
    node = peers.own_url()
    return protocol.build(node, discovery.actor_url(node), change.seq, change.activity, change.uri,
                          change.document, as_utc(change.created_at))
