"""Keeping the node's index in step with its database: the worker's side of search."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import insert, select

from knet import content, jobs
from knet.db import db, utcnow
from knet.errors import Conflict
from knet.jobs import Job
from knet.search.index import IndexBusy, SearchIndex, open_or_create
from knet.search.rebuild import live_directory, rebuild

logger = logging.getLogger(__name__)

EXTENSION = "knet.search_index"
INDEX_DIRECTORY = "search-index"
REBUILD_JOB = "search.rebuild"
#: Index jobs written to the index in one commit (a commit costs more than a document).
INDEX_BATCH = 500
#: Seconds an index job waits for another worker's index writer (Whoosh allows one at a time) before
#: it is postponed; a batch of INDEX_BATCH documents takes a few seconds to write.
WRITE_WAIT_SECONDS = 10.0
#: Seconds until a postponed index job is tried again.
RETRY_BUSY_SECONDS = 2.0
_opening = threading.Lock()


def create_empty(app: Flask) -> None:
    """Give a new node its (empty) index, so that a missing index later means a lost one."""
    open_or_create(index_path(app)).close()


def index_path(app: Flask) -> Path:
    """The live index's directory (`knet index rebuild` swaps in new ones; see knet.search.rebuild)."""
    return live_directory(Path(app.instance_path) / INDEX_DIRECTORY)


def node_index() -> SearchIndex:
    """This node's index, opened (or created) on first use, and again after a rebuild swapped in another.

    If the index is gone (a deleted directory, a new disk), an empty one answers at once and a
    rebuild is queued for the worker, so the node keeps serving while the index comes back. An
    index written under other analysis rules (after an upgrade) keeps answering while a rebuild
    it needs is queued."""
    app = current_app._get_current_object()
    path = index_path(app)  # one small file read, so every process follows a swap at its next search
    with _opening:
        index = app.extensions.get(EXTENSION)
        if index is None or index.path != path or not path.is_dir():
            missing = not path.is_dir()
            if index is not None:
                index.close()  # swapped out by a rebuild, or deleted
            index = app.extensions[EXTENSION] = open_or_create(path)
            if missing:
                _queue_rebuild("The search index was missing; an empty one serves until the queued rebuild ends")
            elif index.outdated:
                _queue_rebuild("The search index was written with other analysis rules "
                               f"({index.analysis_version or 'before versions were recorded'}); it serves "
                               "until the queued rebuild ends")
    return index


def close_index(app: Flask) -> None:
    """Close the node's index and the searchers it keeps open (when an app is done with, as in tests)."""
    with _opening:
        index = app.extensions.pop(EXTENSION, None)
    if index is not None:
        index.close()


def _queue_rebuild(reason: str) -> None:
    # In a connection of its own: the caller may be a search (which writes nothing) or a job.
    with db.engine.begin() as connection:
        already = connection.scalar(select(Job.id).where(Job.kind == REBUILD_JOB, Job.state == jobs.PENDING))
        if already is None:
            connection.execute(insert(Job).values(kind=REBUILD_JOB, payload={}, state=jobs.PENDING, attempts=0,
                                                  run_after=utcnow(), created_at=utcnow()))
            logger.warning(reason)


def rebuilding() -> bool:
    """Whether a rebuild of the index is waiting or running (searches may miss things meanwhile)."""
    return db.session.scalar(select(Job.id).where(Job.kind == REBUILD_JOB, Job.state == jobs.PENDING)) is not None


def rebuild_job() -> None:
    """Job handler: rebuild the whole index from the database and swap it in."""
    try:
        result = rebuild(Path(current_app.instance_path) / INDEX_DIRECTORY, content.content_types().values())
    except Conflict as exc:  # a `knet index rebuild` is running: the new index will have everything
        raise jobs.Postpone(str(exc), seconds=60.0) from exc
    logger.info("Rebuilt the search index: %d documents in %.1f s", result.documents, result.seconds)


def index_changes(payloads: list[dict]) -> None:
    """Job handler: write the current search documents of the objects that changed (or remove
    those that are gone), in one commit for the whole batch."""
    changed = {(payload["type"], payload["id"], payload["uri"]): None for payload in payloads}
    try:
        # The documents are read once the index is ours: of two workers writing the same object, the
        # later one reads the later version.
        with node_index().writer(timeout=WRITE_WAIT_SECONDS) as writer:
            for type_name, object_id, uri in changed:
                document = content.content_type(type_name).search_document(object_id)
                if document is None:
                    writer.delete(uri)
                else:
                    writer.upsert(document)
    except IndexBusy as exc:  # another worker's batch is being written: not a failure, wait our turn
        raise jobs.Postpone(str(exc), seconds=RETRY_BUSY_SECONDS) from exc
    logger.debug("Indexed %d change(s)", len(changed))


def init_app(app: Flask) -> None:
    jobs.register(app, content.INDEX_JOB, index_changes, batch=INDEX_BATCH)
    jobs.register(app, REBUILD_JOB, rebuild_job, max_attempts=3)
