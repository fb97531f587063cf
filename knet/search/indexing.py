"""Keeping the node's index in step with its database: the worker's side of search."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask, current_app

from knet import content, jobs
from knet.search.index import SearchIndex, open_or_create
from knet.search.rebuild import live_directory

logger = logging.getLogger(__name__)

EXTENSION = "knet.search_index"
INDEX_DIRECTORY = "search-index"
_opening = threading.Lock()


def index_path(app: Flask) -> Path:
    """The live index's directory (`knet index rebuild` swaps in new ones; see knet.search.rebuild)."""
    return live_directory(Path(app.instance_path) / INDEX_DIRECTORY)


def node_index() -> SearchIndex:
    """This node's index, opened (or created) on first use, and again after a rebuild swapped in another."""
    app = current_app._get_current_object()
    path = index_path(app)  # one small file read, so every process follows a swap at its next search
    with _opening:
        index = app.extensions.get(EXTENSION)
        if index is None or index.path != path:
            index = app.extensions[EXTENSION] = open_or_create(path)
    return index


def index_one(type: str, id: int, uri: str) -> None:  # noqa: A002 - the job payload's names
    """Job handler: write one object's current search document, or remove it when it is gone."""
    document = content.content_type(type).search_document(id)
    with node_index().writer() as writer:
        if document is None:
            writer.delete(uri)
        else:
            writer.upsert(document)
    logger.debug("Indexed %s %s (%s)", type, id, "removed" if document is None else "written")


def init_app(app: Flask) -> None:
    jobs.register(app, content.INDEX_JOB, index_one)
