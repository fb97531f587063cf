"""Rebuilding the node's index beside the live one and swapping it in; comparing index and database.

Where the live index is: the directory named in the pointer file ``search-index.live`` beside the
default directory ``search-index`` (or ``search-index`` itself while there is no pointer, as on a new
node). A rebuild writes a complete index into a new sibling directory ``search-index.<time>-<hex>``,
then replaces the pointer with :func:`os.replace`, which is atomic on POSIX: every reader sees either
the old directory or the new one, and a rebuild killed at any moment leaves the old index serving.
The next rebuild removes whatever a killed one left behind. Only one rebuild runs at a time (an
advisory lock, which the kernel releases when its holder dies).

Changes made while a rebuild runs reach the old index through the worker; their index jobs are
queued again after the swap, so the worker writes them into the new index too (handlers are safe
to run twice).
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ContextManager, Protocol

from sqlalchemy import select
from whoosh import index as whoosh_index

from knet import content, jobs  # the module, not its names: knet.content imports this package
from knet.db import db, utcnow
from knet.errors import Conflict
from knet.search.index import SearchDocument, open_or_create, outdated

logger = logging.getLogger(__name__)

POINTER_SUFFIX = ".live"
LOCK_SUFFIX = ".lock"
#: Index jobs created this long before a rebuild started are queued again after its swap too: a
#: job becomes visible only when its transaction commits, which may be a while after it was created.
REQUEUE_GRACE = timedelta(minutes=15)


class Progress(Protocol):
    def update(self, n_steps: int) -> None: ...


#: Makes a progress reporter for a number of steps (``click.progressbar(length=…)`` is one).
ProgressFactory = Callable[[int], ContextManager[Progress]]


@contextlib.contextmanager
def _no_progress(length: int) -> Iterator[Progress]:
    class Silent:
        def update(self, n_steps: int) -> None:
            pass
    yield Silent()


# --- where the live index is ---------------------------------------------------------------------

def _pointer(base: Path) -> Path:
    return base.with_name(base.name + POINTER_SUFFIX)


def _is_sibling_name(base: Path, name: str) -> bool:
    return re.fullmatch(re.escape(base.name) + r"\.[0-9A-Za-z_-]+", name) is not None


def live_directory(base: Path) -> Path:
    """The directory of the live index: the one the pointer file names, else ``base`` itself."""
    try:
        name = _pointer(base).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return base
    if not _is_sibling_name(base, name):
        logger.warning("ignoring %s: %r does not name an index directory", _pointer(base), name)
        return base
    return base.with_name(name)


def _point_to(base: Path, target: Path) -> None:
    """Make ``target`` the live index in one atomic step (write a new pointer, then rename it over the old)."""
    temporary = base.with_name(f"{_pointer(base).name}.tmp-{secrets.token_hex(4)}")
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(target.name + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, _pointer(base))
    _fsync_directory(base.parent)


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_tree(path: Path) -> None:
    """Flush the new index to disk before it goes live, so a power cut cannot leave the pointer
    naming a half-written directory."""
    for item in path.iterdir():
        if item.is_file():
            with open(item, "rb") as file:
                os.fsync(file.fileno())
    _fsync_directory(path)


def leftovers(base: Path) -> list[Path]:
    """Directories and pointer drafts beside the live index that no one uses (from killed rebuilds)."""
    live = live_directory(base)
    found = [base] if base != live and base.exists() else []
    for item in base.parent.glob(base.name + ".*"):
        if item == live:
            continue
        if item.is_dir() and _is_sibling_name(base, item.name):
            found.append(item)
        elif item.is_file() and item.name.startswith(_pointer(base).name + ".tmp-"):
            found.append(item)
    return sorted(found)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive(base: Path) -> Iterator[None]:
    base.parent.mkdir(parents=True, exist_ok=True)
    with open(base.with_name(base.name + LOCK_SUFFIX), "a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("Another 'knet index rebuild' is running for this node; wait for it to finish.") from None
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


# --- rebuilding ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RebuildResult:
    documents: int
    seconds: float
    directory: Path
    removed_leftovers: int
    requeued: int


def _work(types: Iterable[content.ContentType]) -> list[tuple[content.ContentType, int]]:
    return [(content_type, object_id) for content_type in types for object_id in content_type.indexable_ids()]


def rebuild(base: Path, types: Iterable[content.ContentType],
            progress: ProgressFactory = _no_progress, processes: int = 1) -> RebuildResult:
    """Build a complete index from the database beside the live one, swap it in, and remove the old one.

    ``base`` is the default index directory (``<instance>/search-index``). ``processes`` analyse
    documents in parallel; more than one forks, which only a single-threaded caller (the CLI)
    may do safely. The caller commits the session (the index jobs of changes made meanwhile are
    queued again in it)."""
    began = time.monotonic()
    with _exclusive(base):
        stale = leftovers(base)
        for item in stale:
            logger.info("removing %s, left by an unfinished rebuild", item)
            _remove(item)
        started = utcnow()
        target = base.with_name(f"{base.name}.{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}")
        work = _work(types)
        count = 0
        index = open_or_create(target)
        try:
            with progress(len(work)) as bar, index.bulk_writer(processes) as writer:
                for content_type, object_id in work:
                    document = content_type.search_document(object_id)
                    if document is not None:
                        writer.add(document)
                        count += 1
                    bar.update(1)
            index.close()
            _sync_tree(target)
        except BaseException:
            index.close()
            _remove(target)
            raise
        old = live_directory(base)
        _point_to(base, target)
        logger.info("the search index is now %s (%d documents); removing %s", target, count, old)
        if old != target:
            _remove(old)
        requeued = _requeue_changes_since(started - REQUEUE_GRACE)
    return RebuildResult(count, time.monotonic() - began, target, len(stale), requeued)


def _requeue_changes_since(moment: datetime) -> int:
    """Queue again the index jobs of objects changed since ``moment``: the worker may have written
    them into the old index after the rebuild had read them."""
    payloads = db.session.scalars(select(jobs.Job.payload).where(jobs.Job.kind == content.INDEX_JOB,
                                                                 jobs.Job.created_at >= moment))
    changed = {(p["type"], p["id"], p["uri"]) for p in payloads}
    for type_name, object_id, uri in sorted(changed):
        content.changed(type_name, object_id, uri)
    return len(changed)


# --- checking ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Drift:
    """How the index differs from the database (URIs, sorted)."""

    database: int  #: documents the database says should be indexed
    indexed: int  #: documents in the index
    missing: list[str] = field(default_factory=list)  #: in the database, not in the index
    stale: list[str] = field(default_factory=list)  #: in both, but the title, updated or visibility differ
    extra: list[str] = field(default_factory=list)  #: in the index, not (or no longer) in the database
    pending: int = 0  #: objects with index jobs still queued, not compared
    index_exists: bool = True
    outdated: bool = False  #: written with other analysis rules: every entry's terms may differ

    @property
    def in_step(self) -> bool:
        return not (self.missing or self.stale or self.extra or self.outdated)


def stored_documents(directory: Path) -> dict[str, dict] | None:
    """Every document's stored fields in the index in ``directory``, by URI (None: there is no index)."""
    if not directory.is_dir() or not whoosh_index.exists_in(str(directory)):
        return None
    ix = whoosh_index.open_dir(str(directory))
    with ix.searcher() as searcher:
        return {fields["uri"]: fields for fields in searcher.all_stored_fields()}


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _differs(document: SearchDocument, stored: dict) -> bool:
    return (document.title != stored.get("title", "") or document.visibility != stored.get("visibility")
            or _utc(document.updated) != _utc(stored.get("updated")))


def _pending_uris() -> set[str]:
    payloads = db.session.scalars(select(jobs.Job.payload).where(jobs.Job.kind == content.INDEX_JOB,
                                                                 jobs.Job.state == jobs.PENDING))
    return {payload["uri"] for payload in payloads}


def check(directory: Path, types: Iterable[content.ContentType]) -> Drift:
    """Compare the index in ``directory`` with the database's search documents.

    Objects with a pending index job are left out: the worker has yet to write them, which is the
    normal delay, not drift. (Dead jobs are not left out: their objects are drift.)"""
    expected: dict[str, SearchDocument] = {}
    for content_type, object_id in _work(types):
        document = content_type.search_document(object_id)
        if document is not None:
            expected[document.uri] = document
    stored = stored_documents(directory)
    pending = _pending_uris()
    indexed = stored or {}
    missing = sorted(uri for uri in expected if uri not in indexed and uri not in pending)
    extra = sorted(uri for uri in indexed if uri not in expected and uri not in pending)
    stale = sorted(uri for uri, document in expected.items()
                   if uri in indexed and uri not in pending and _differs(document, indexed[uri]))
    return Drift(database=len(expected), indexed=len(indexed), missing=missing, stale=stale, extra=extra,
                 pending=len(pending & (set(expected) | set(indexed))), index_exists=stored is not None,
                 outdated=stored is not None and outdated(directory))
