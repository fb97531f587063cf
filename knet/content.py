"""The content contract: features register their content types; a change to content becomes a job.

A service records that an object changed in the same transaction as the change itself, so the
search index (and, later, federation) can never miss one: the job exists exactly when the change
was committed. Only the worker acts on it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app

from knet import jobs
from knet.db import as_utc
from knet.search.index import SearchDocument

EXTENSION = "knet.content_types"
INDEX_JOB = "search.index"


@dataclass(frozen=True)
class ContentType:
    """One kind of content (a wiki page, a question, a course…) as the rest of the node sees it."""

    name: str
    #: The search document of the object with this id, or None when it is gone or deleted.
    search_document: Callable[[int], SearchDocument | None]
    #: The ids of every object of this type that should be in the index (for rebuilds and checks).
    indexable_ids: Callable[[], Iterable[int]]
    #: The object's document for peers (see `document`), or None when it is gone, deleted or not
    #: shareable (only `network` and `public` objects ever leave the node). None for types that
    #: never travel.
    document: Callable[[int], dict | None] | None = None


def register(app: Flask, content_type: ContentType) -> None:
    app.extensions.setdefault(EXTENSION, {})[content_type.name] = content_type


def content_type(name: str) -> ContentType:
    return current_app.extensions[EXTENSION][name]


def content_types() -> dict[str, ContentType]:
    return current_app.extensions.get(EXTENSION, {})


def changed(type_name: str, object_id: int, uri: str) -> None:
    """Record, in the caller's transaction, that an object was created, changed or removed: a job for
    each package that follows changes of types that travel to peers (see `follow_changes`; first, so
    that peers hear of it as soon as possible), and one for the index."""
    followers = current_app.extensions.get(FOLLOWERS, ()) if content_type(type_name).document else ()
    for kind in (*followers, INDEX_JOB):
        jobs.enqueue(kind, type=type_name, id=object_id, uri=uri)


def reindex(type_name: str, object_id: int, uri: str) -> None:
    """Record a change only the search index sees (a question's last activity): no job for peers."""
    jobs.enqueue(INDEX_JOB, type=type_name, id=object_id, uri=uri)


FOLLOWERS = "knet.content_followers"


def follow_changes(app: Flask, job_kind: str) -> None:
    """Have every content change also queue a job of this kind (with the same payload as the index's):
    federation learns of changes this way, without features knowing it exists."""
    app.extensions.setdefault(FOLLOWERS, []).append(job_kind)


SHAREABLE = ("network", "public")
#: Marks, in a document's ``attributedTo``, an author who was erased at their request: peers name them
#: "former staff" in their readers' language rather than in the home's.
FORMER_STAFF = "knet:formerStaff"


class FormerStaffName(str):
    """The name of someone erased at their request ("former staff", in the current language); documents
    made with it as their author carry FORMER_STAFF."""


def document(*, id: str, type: str, name: str, url: str, content: str = "", source: str = "", summary: str = "",
             tags: Iterable[str] = (), author: str = "", published: datetime | None = None,
             updated: datetime | None = None, language: str = "", licence: str = "", visibility: str,
             in_reply_to: str | None = None, context: str | None = None, **extra: Any) -> dict:
    """An object as it travels to peers: a plain dict in ActivityStreams 2.0 shape.

    `id` is the object's permanent URI at its home, `url` the address of its page there, `content`
    sanitised HTML and `source` its markdown; `author` is a display name. Feature-specific parts
    (`extra`) are named ``knet:…``. The federation layer adds ``knet:version``."""
    result = {
        "id": id, "type": type, "name": name, "url": url, "content": content,
        "summary": summary, "tag": [{"type": "Hashtag", "name": tag} for tag in tags],
        "attributedTo": _attributed_to(author),
        "published": iso(published), "updated": iso(updated), "inReplyTo": in_reply_to, "context": context,
        "contentMap": {language: content} if language else None, "knet:language": language,
        "knet:licence": licence, "knet:visibility": visibility,
    }
    if source:
        result["source"] = {"content": source, "mediaType": "text/markdown"}
    result.update(extra)
    return {key: value for key, value in result.items() if value is not None}


def _attributed_to(author: str) -> dict | None:
    if not author:
        return None
    if isinstance(author, FormerStaffName):
        return {"type": "Person", "name": str(author), FORMER_STAFF: True}
    return {"type": "Person", "name": author}


def iso(moment: datetime | None) -> str | None:
    """A timestamp as documents carry it: ISO 8601 in UTC, with a Z."""
    return as_utc(moment).astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


# Copies of other nodes' objects -----------------------------------------------------------------

COPIES = "knet.content.copies"
COPY_ACTIONS = "knet.content.copy_actions"


@dataclass(frozen=True)
class Copy:
    """Another node's object as this node keeps a copy of it (federation's replica), as features see it."""

    uri: str
    #: The home's version of the object this copy is at (it only grows).
    version: int
    document: dict
    home_name: str
    home_url: str


@dataclass(frozen=True)
class CopyAction:
    """Something a feature offers to do with a copy (fork a page…): a button on the copy's page that
    POSTs the copy's `uri` to `endpoint`, shown where `applies(document)` and to signed-in people."""

    kind: str
    label: str
    endpoint: str
    applies: Callable[[dict], bool]


def keep_copies_with(app: Flask, find: Callable[[str], Copy | None]) -> None:
    """Let features read this node's copies of other nodes' objects (federation keeps them; features
    must not import it)."""
    app.extensions[COPIES] = find


def copy_of(uri: str) -> Copy | None:
    """This node's copy of another node's object, while it has one that is not deleted."""
    find = current_app.extensions.get(COPIES)
    return find(uri) if find else None


def offer_on_copies(app: Flask, action: CopyAction) -> None:
    app.extensions.setdefault(COPY_ACTIONS, []).append(action)


def actions_on(kind: str, document: dict) -> list[CopyAction]:
    return [action for action in current_app.extensions.get(COPY_ACTIONS, ())
            if action.kind == kind and action.applies(document)]


# What features attach to communities -------------------------------------------------------------

ATTACHED_EXTENSION = "knet.community_attachments"


@dataclass(frozen=True)
class Attached:
    """Something a feature attached to a community (a course…), as the community's page lists it."""

    title: str
    #: A path on this node.
    url: str
    language: str = ""
    summary: str = ""


@dataclass(frozen=True)
class AttachedListing:
    """A feature's list on community pages: its heading, what it says when it has nothing, and how it
    finds what `viewer` (a signed-in person, or None) may see of what is attached to a community (by URI)."""

    key: str
    heading: str
    empty: str
    #: The text of the link to the full list.
    more: str
    find: Callable[[object, str, int], list[Attached]]
    #: The address of the feature's full list for a community (by URI).
    everything: Callable[[str], str]


def attach_to_communities(app: Flask, listing: AttachedListing) -> None:
    """Let a feature list what it attached to a community on the community's page (communities
    belong to another feature, which it must not import)."""
    app.extensions.setdefault(ATTACHED_EXTENSION, {})[listing.key] = listing


def attached_to(viewer: object, community_uri: str, limit: int = 10) -> list[tuple[AttachedListing, list[Attached]]]:
    """Each registered feature's list for the community, as `viewer` may see it."""
    listings = current_app.extensions.get(ATTACHED_EXTENSION, {}).values()
    return [(listing, listing.find(viewer, community_uri, limit)) for listing in listings]
