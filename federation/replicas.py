"""Replicas: peers' objects as this node keeps them, read-only, and found by its search.

Applying an activity is idempotent and order-proof: a replica changes only for a higher version than
the one it has, and a Delete leaves a tombstone with its version, so a replay, a late Create or an
older Update changes nothing. A peer's HTML is sanitised again here: no peer is trusted to have done it.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select

from federation.models import Peer, Replica
from federation.protocol import Incoming
from knet import content
from knet.content import ContentType
from knet.db import as_utc, db
from knet.markup import sanitise
from knet.search.index import SearchDocument

logger = logging.getLogger(__name__)

TYPE = "federation.replica"
#: Fields of a document that hold HTML.
HTML_FIELDS = ("content",)
#: A link or image address relative to its node's root ("/wiki/…", not "//host/…").
_HOME_RELATIVE = re.compile(r'(\s(?:href|src)=")/(?!/)')


def apply(peer: Peer, incoming: Incoming) -> bool:
    """Bring the peer's object to the incoming version if it is newer; True when something changed."""
    replica = db.session.scalar(select(Replica).where(Replica.uri == incoming.uri).with_for_update())
    if replica is not None and (replica.peer_id != peer.id or replica.version >= incoming.version):
        return False
    if replica is None:
        replica = Replica(uri=incoming.uri, peer_id=peer.id)
        db.session.add(replica)
    replica.version = incoming.version
    if incoming.document is None:
        replica.document, replica.in_reply_to = None, None
        replica.kind = replica.kind or "deleted"
    else:
        replica.document = _cleaned(incoming.document, peer.url)
        replica.kind, replica.in_reply_to = incoming.kind, incoming.in_reply_to
    db.session.flush()
    content.changed(TYPE, replica.id, replica.uri)
    return True


def _cleaned(document: dict, home: str) -> dict:
    """The document with its HTML sanitised, and its links within the home node (/wiki/…) leading there."""
    cleaned = dict(document)
    for name in HTML_FIELDS:
        cleaned[name] = _HOME_RELATIVE.sub(rf"\1{home}/", sanitise(str(document.get(name) or "")))
    if "contentMap" in cleaned:
        cleaned["contentMap"] = {str(language)[:20]: cleaned["content"] for language in dict(document["contentMap"])}
    return cleaned


def get(uri: str) -> Replica | None:
    return db.session.scalar(select(Replica).where(Replica.uri == uri))


def purge(peer: Peer) -> int:
    """Remove every replica of the peer, tombstones too, from the database and (by the index jobs it
    queues) from search. Returns how many there were."""
    replicas = db.session.execute(select(Replica.id, Replica.uri).where(Replica.peer_id == peer.id)).all()
    for replica_id, uri in replicas:
        content.changed(TYPE, replica_id, uri)
    db.session.execute(Replica.__table__.delete().where(Replica.peer_id == peer.id))
    peer.pulled_seq = 0
    return len(replicas)


def search_document(replica_id: int) -> SearchDocument | None:
    replica = db.session.get(Replica, replica_id)
    if replica is None or replica.document is None:
        return None
    document = replica.document
    return SearchDocument(
        uri=replica.uri, type=replica.kind, title=str(document.get("name") or "")[:500],
        body="\n".join(part for part in (str(document.get("summary") or ""),
                                         Markup(document.get("content") or "").striptags()) if part),
        language=str(document.get("knet:language") or "")[:20],
        visibility=document.get("knet:visibility", "network"), home=replica.peer.url if replica.peer else "",
        author=_author(document), tags=tuple(tags_of(document)),
        updated=_moment(document.get("updated")) or as_utc(replica.updated_at),
        licence=str(document.get("knet:licence") or "")[:40])


def tags_of(document: dict) -> list[str]:
    tags = document.get("tag")
    return [str(tag.get("name"))[:100] for tag in tags if isinstance(tag, dict) and tag.get("name")] \
        if isinstance(tags, list) else []


def _author(document: dict) -> str:
    author = document.get("attributedTo")
    return str(author.get("name") or "")[:200] if isinstance(author, dict) else ""


def _moment(value: object) -> datetime | None:
    try:
        return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00"))) if value else None
    except ValueError:
        return None


def indexable_ids() -> list[int]:
    return list(db.session.scalars(select(Replica.id).where(Replica.document.is_not(None)).order_by(Replica.id)))


CONTENT_TYPE = ContentType(TYPE, search_document, indexable_ids)
