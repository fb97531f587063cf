"""The content contract: features register their content types; a change to content becomes a job.

A service records that an object changed in the same transaction as the change itself, so the
search index (and, later, federation) can never miss one: the job exists exactly when the change
was committed. Only the worker acts on it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, current_app

from knet import jobs
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


def register(app: Flask, content_type: ContentType) -> None:
    app.extensions.setdefault(EXTENSION, {})[content_type.name] = content_type


def content_type(name: str) -> ContentType:
    return current_app.extensions[EXTENSION][name]


def content_types() -> dict[str, ContentType]:
    return current_app.extensions.get(EXTENSION, {})


def changed(type_name: str, object_id: int, uri: str) -> None:
    """Record, in the caller's transaction, that an object was created, changed or removed."""
    jobs.enqueue(INDEX_JOB, type=type_name, id=object_id, uri=uri)
