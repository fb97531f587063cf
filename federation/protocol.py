"""The wire format of replication, as pure functions: activities built from the change log, and
activities from peers parsed and checked before anything is stored.

An activity carries one object: a `Create` or `Update` the object's whole document (knet.content.document),
a `Delete` a `Tombstone`. Both carry the object's version (`knet:version`, the number of the change at
home), which only grows: a receiver keeps the highest it has seen.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from federation.actor import CONTEXT

ACTIVITIES = ("Create", "Update", "Delete")
#: The object types that travel, and what search calls them. (A course is an Article with knet:kind.)
KINDS = {"Article": "page", "Page": "question", "Note": "answer", "Group": "community", "Person": "person"}
COURSE_KIND = "course"
#: Longest URI accepted (the database keeps 500 characters).
MAX_URI = 500


class Refused(Exception):
    """An activity is not taken; `reason` is a short code, the message a sentence for the sender."""

    def __init__(self, reason: str, message: object):
        super().__init__(message)
        self.reason, self.message = reason, message


class Malformed(Refused):
    """The activity is not one this node understands (answered 400)."""


class NotItsOwn(Refused):
    """The activity speaks for, or of, another node than the one that signed it (answered 401)."""


@dataclass(frozen=True)
class Incoming:
    """An activity from a peer, checked."""

    id: str
    type: str
    uri: str
    version: int
    #: The object's document for a Create or Update; None for a Delete.
    document: dict | None

    @property
    def kind(self) -> str | None:
        return kind_of(self.document) if self.document is not None else None

    @property
    def in_reply_to(self) -> str | None:
        value = (self.document or {}).get("inReplyTo")
        return value if isinstance(value, str) else None


def digest(document: dict) -> str:
    """A hash of a document that is equal exactly when the documents are."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def activity_id(node_url: str, seq: int) -> str:
    return f"{node_url}/federation/changes/{seq}"


def build(node_url: str, actor: str, seq: int, activity: str, uri: str, document: dict | None,
          published: datetime) -> dict:
    """The activity of one change of the log, as peers receive it by push and by pull."""
    if document is None:
        obj = {"id": uri, "type": "Tombstone", "knet:version": seq}
    else:
        obj = {**document, "knet:version": seq}
    return {"@context": CONTEXT, "id": activity_id(node_url, seq), "type": activity, "actor": actor,
            "published": published.isoformat().replace("+00:00", "Z"), "knet:version": seq, "object": obj}


def node_of(url: str) -> str | None:
    """The node (scheme://host[:port]) an address belongs to, or None when it is not an http(s) URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def kind_of(document: dict) -> str | None:
    if document.get("knet:kind") == COURSE_KIND and document.get("type") == "Article":
        return COURSE_KIND
    return KINDS.get(document.get("type"))


def parse(activity: object, peer_url: str, peer_actor: str) -> Incoming:
    """Check an activity from the peer at `peer_url`: Malformed or NotItsOwn say why it is refused."""
    if not isinstance(activity, dict):
        raise Malformed("not-an-object", _l("The activity is not a JSON object."))
    kind = activity.get("type")
    if kind not in ACTIVITIES:
        raise Malformed("unsupported-type", _l("This node takes Create, Update and Delete activities, not “%(type)s”.",
                                               type=str(kind)[:40]))
    activity_id_ = _uri(activity.get("id"), "id")
    if activity.get("actor") != peer_actor:
        raise NotItsOwn("actor-mismatch", _l("The activity's actor is not the node whose key signed it."))
    if node_of(activity_id_) != peer_url:
        raise NotItsOwn("id-mismatch", _l("The activity's id is not an address of the node that signed it."))
    obj = activity.get("object")
    if isinstance(obj, str) and kind == "Delete":
        obj = {"id": obj, "type": "Tombstone", "knet:version": activity.get("knet:version")}
    if not isinstance(obj, dict):
        raise Malformed("no-object", _l("The activity has no object."))
    uri = _uri(obj.get("id"), "object.id")
    if node_of(uri) != peer_url:
        raise NotItsOwn("object-mismatch", _l("The object %(uri)s does not belong to the node that sent it: a node "
                                              "speaks only for its own objects.", uri=uri[:200]))
    version = obj.get("knet:version", activity.get("knet:version"))
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise Malformed("no-version", _l("The object has no version (knet:version, a positive whole number)."))
    if kind == "Delete":
        return Incoming(activity_id_, kind, uri, version, None)
    return Incoming(activity_id_, kind, uri, version, _document(obj))


def _document(obj: dict) -> dict:
    if kind_of(obj) is None:
        raise Malformed("unsupported-object", _l("This node does not keep objects of type “%(type)s”.",
                                                 type=str(obj.get("type"))[:40]))
    for name in ("name", "content", "summary"):
        if not isinstance(obj.get(name, ""), str):
            raise Malformed("bad-field", _l("The object's “%(field)s” is not text.", field=name))
    if not str(obj.get("name", "")).strip() and obj.get("type") != "Note":
        raise Malformed("bad-field", _l("The object has no name."))
    if obj.get("knet:visibility") not in ("network", "public"):
        raise Malformed("not-shareable", _l("Only objects with network or public visibility travel between nodes."))
    reply_to = obj.get("inReplyTo")
    if reply_to is not None and (not isinstance(reply_to, str) or len(reply_to) > MAX_URI):
        raise Malformed("bad-field", _l("The object's “%(field)s” is not an address.", field="inReplyTo"))
    return obj


def _uri(value: object, field: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_URI or node_of(value) is None:
        raise Malformed("bad-id", _l("The activity's “%(field)s” is not an http(s) address of at most %(size)d "
                                     "characters.", field=field, size=MAX_URI))
    return value
