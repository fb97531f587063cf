"""What anyone may read, kind by kind: each feature says which of its objects are public, and feeds and
open data give out those and nothing else.

A kind lists the ids of its `public` objects; their content is the document its content type makes
(knet.content). Every document is checked once more here, so that an object made internal between the
listing and the reading never leaves the node.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from flask_babel import LazyString

from knet import content

EXTENSION = "knet.public_kinds"
PUBLIC = "public"
#: A public object that names no licence carries this one (ARCHITECTURE.md, principle 4).
DEFAULT_LICENCE = "CC-BY-4.0"
#: Licences under which anyone may reuse an object, with the address of each licence's text.
OPEN_LICENCES = {"CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
                 "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/"}
LICENCE_NAMES = {"CC-BY-4.0": "CC BY 4.0", "CC0-1.0": "CC0 1.0"}


@dataclass(frozen=True)
class PublicKind:
    """One kind of content as feeds and open data give it out: wiki pages, questions, courses."""

    #: Names the kind's dataset and its files ("pages" → pages.csv).
    key: str
    #: The knet.content type whose documents these are.
    type_name: str
    title: LazyString
    description: LazyString
    #: The ids of the kind's public objects, newest first; only those tagged so when a tag is given (a tag
    #: matches as the feature matches its tags); at most `limit` of them (None: all).
    newest: Callable[[str | None, int | None], list[int]]
    #: The documents that belong with an object in open data (a question's answers), in order.
    replies: Callable[[int], list[dict]] | None = None
    #: The object's document, when it is not the one its content type makes for peers.
    document: Callable[[int], dict | None] | None = None


def register(app: Flask, kind: PublicKind) -> None:
    app.extensions.setdefault(EXTENSION, {})[kind.key] = kind


def kinds() -> dict[str, PublicKind]:
    return current_app.extensions.get(EXTENSION, {})


def public_document(kind: PublicKind, object_id: int) -> dict | None:
    """The object's document while it is public (None when it is gone or anything but public)."""
    found = (kind.document or content.content_type(kind.type_name).document)(object_id)
    return found if found is not None and found.get("knet:visibility") == PUBLIC else None


def newest_documents(kind: PublicKind, tag: str | None = None, limit: int | None = None) -> list[dict]:
    """The documents of the kind's newest public objects (with a tag, those tagged so)."""
    found = (public_document(kind, object_id) for object_id in kind.newest(tag, limit))
    return [document for document in found if document is not None]


def public_replies(kind: PublicKind, object_id: int) -> list[dict]:
    replies = kind.replies(object_id) if kind.replies else []
    return [reply for reply in replies if reply.get("knet:visibility") == PUBLIC]


def licence_of(document: dict) -> str:
    return document.get("knet:licence") or DEFAULT_LICENCE


def licence_url(licence: str) -> str | None:
    """The address of an open licence's text (None for "all rights reserved")."""
    return OPEN_LICENCES.get(licence)


def author_of(document: dict) -> str:
    return (document.get("attributedTo") or {}).get("name", "")


def tags_of(document: dict) -> list[str]:
    return [tag["name"] for tag in document.get("tag", ())]
