"""Background work as rows: each job has a state, attempts and a next-try time.

Handlers are registered per kind and must be safe to run twice (a worker that dies after doing the
work but before recording it runs the job again). Several workers (`knet worker` processes, or one
beside `knet run`'s thread) share the queue: on PostgreSQL a worker locks the jobs it runs with
`SELECT … FOR UPDATE SKIP LOCKED` (the others pass them by); SQLite has no row locks, so there a
worker first claims its jobs with a conditional UPDATE that only one worker can win (see _claim).
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import JSON, String, Text, delete, event, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from knet.db import as_utc, db, rollback_or_close, utcnow
from knet.errors import resource_failure

logger = logging.getLogger(__name__)

EXTENSION = "knet.jobs"
#: How often a worker looks at an empty queue. A worker in the process that queued a job starts
#: on it at once; one in another process (``knet worker``) within this many seconds.
POLL_SECONDS = 0.1
PENDING, DONE, DEAD = "pending", "done", "dead"
#: On SQLite, for how long a worker's claim on the jobs it runs keeps other workers off them (a
#: handler's own ``claim`` when it has one). A worker of this machine that dies mid-job has its claims
#: ended by the next worker that looks (release_abandoned_claims); one elsewhere leaves the job to be
#: run again when the claim runs out.
SQLITE_CLAIM_SECONDS = 600.0
#: How often a running worker looks for jobs claimed by workers that have died since.
ABANDONED_CLAIMS_EVERY = 30.0
#: A job postponed (see Postpone) for longer than this since it was queued is logged as a warning.
POSTPONED_TOO_LONG = timedelta(minutes=15)


#: Seconds until a job that met a full disk or an absent database is tried again (not a failed attempt).
RESOURCE_RETRY_SECONDS = 30.0
#: The longest a worker waits between tries while the job queue cannot be read (the database is away).
MAX_OUTAGE_WAIT = 5.0


class Postpone(Exception):
    """Raised by a handler that cannot do its work now for a reason that passes by itself, such as
    a lock another worker holds: its jobs run again after ``seconds`` (give or take a fifth, so that
    workers that met do not meet again), and the postponement is not a failed attempt."""

    def __init__(self, reason: str, seconds: float = 2.0):
        super().__init__(reason)
        self.seconds = seconds


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: pending → done, or dead after its last failed attempt.
    state: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not before this time (set further away after each failure).
    run_after: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: The worker process that claimed the job to run it ("host:pid", see _claim), until it is done.
    claimed_by: Mapped[str | None] = mapped_column(String(300))


@dataclass(frozen=True)
class Handler:
    run: Callable[..., None]
    max_attempts: int
    #: Seconds to wait before the next try, given the number of attempts so far.
    retry_after: Callable[[int], float]
    #: Up to this many due jobs of the kind are run together (``run`` then takes a list of payloads).
    batch: int = 1
    #: For a recurring job: seconds from the end of one run to the start of the next.
    every: float | None = None
    #: For a handler that commits as it goes (and so releases the job's row lock): seconds for which
    #: the job is claimed before it runs, so that no other worker starts it meanwhile (see _claim).
    claim: float | None = None


def _exponential(attempts: int) -> float:
    return min(2.0 ** attempts, 3600.0)


def register(app: Flask, kind: str, run: Callable[..., None], *, max_attempts: int = 8,
             retry_after: Callable[[int], float] = _exponential, batch: int = 1, every: float | None = None,
             claim: float | None = None) -> None:
    """Say which function does the jobs of one kind; it receives the job's payload as keywords or,
    with ``batch`` > 1, a list of up to that many jobs' payloads at once (one commit for them all).
    With ``every`` (seconds) the job recurs: a worker starts the first run and each run queues the next.
    A handler that commits as it goes needs ``claim`` (seconds): see Handler.claim."""
    app.extensions.setdefault(EXTENSION, {})[kind] = Handler(run, max_attempts, retry_after, batch, every, claim)


def schedule_recurring() -> int:
    """Queue a run of each recurring kind that has none pending (a worker calls it as it starts)."""
    handlers: dict[str, Handler] = current_app.extensions.get(EXTENSION, {})
    queued = sum(_queue_next(kind, handler, delay=0) for kind, handler in handlers.items() if handler.every)
    db.session.commit()
    return queued


def _queue_next(kind: str, handler: Handler, delay: float) -> bool:
    pending = db.session.scalar(select(Job.id).where(Job.kind == kind, Job.state == PENDING).limit(1))
    if pending is not None:
        return False
    db.session.add(Job(kind=kind, payload={}, run_after=utcnow() + timedelta(seconds=delay)))
    return True


def enqueue(kind: str, **payload: Any) -> Job:
    """Add a job in the caller's transaction: it exists only if the change that asked for it is committed."""
    job = Job(kind=kind, payload=payload)
    db.session.add(job)  # written at the caller's next flush or commit (a flush per job costs more than the job)
    db.session.info[_ENQUEUED] = True
    return job


def run_soon(kind: str, **payload: Any) -> None:
    """Have a job of this kind run as soon as a worker is free: bring a pending one forward, or queue
    one (in the caller's transaction). For jobs that act on everything due, such as deliveries."""
    pending = db.session.scalars(select(Job).where(Job.kind == kind, Job.state == PENDING,
                                                   Job.claimed_by.is_(None)).limit(1)).first()
    if pending is None:  # none, or only one that a worker is running (and may have read what is due already)
        enqueue(kind, **payload)
    elif as_utc(pending.run_after) > utcnow():
        pending.run_after = utcnow()
        db.session.info[_ENQUEUED] = True


# A worker in this process starts on new jobs as soon as the transaction that made them commits,
# instead of at its next poll. (Workers in other processes find them at their next poll.)
_ENQUEUED = "knet.jobs.enqueued"
_wakeup = threading.Event()


@event.listens_for(Session, "after_commit")
def _wake_the_worker(session: Session) -> None:
    if session.info.pop(_ENQUEUED, False):
        wake()


@event.listens_for(Session, "after_rollback")
def _forget_enqueued(session: Session) -> None:
    session.info.pop(_ENQUEUED, None)


def run_pending(limit: int | None = None) -> int:
    """Run the jobs that are due, oldest first, one transaction each; return how many ran."""
    handlers: dict[str, Handler] = current_app.extensions.get(EXTENSION, {})
    count = 0
    while limit is None or count < limit:
        job = db.session.scalars(
            select(Job).where(Job.state == PENDING, Job.run_after <= utcnow()).order_by(Job.id).limit(1)
            .with_for_update(skip_locked=True)).first()
        if job is None:
            db.session.rollback()
            return count
        handler = handlers.get(job.kind)
        group = [job]
        if handler is not None and handler.batch > 1:
            group += db.session.scalars(
                select(Job).where(Job.state == PENDING, Job.kind == job.kind, Job.run_after <= utcnow(),
                                  Job.id != job.id).order_by(Job.id).limit(handler.batch - 1)
                .with_for_update(skip_locked=True)).all()
        group = _claim(group, handler)
        if not group:
            continue  # another worker took them first (SQLite)
        count += len(group)
        ids = [member.id for member in group]
        try:
            if not _run(handler, group) and len(group) > 1:
                # One bad job must not hold back the others: run each of them on its own.
                for job_id in ids:
                    _run(handler, [db.session.get(Job, job_id)])
        except SQLAlchemyError:  # the database failed us (SQLite busy for too long, a lost connection)
            _release(ids)
            raise
    return count


def _release(ids: list[int]) -> None:
    """Let the jobs be taken again now rather than when their claim runs out (best effort: the
    database has just failed; the claim ends anyway)."""
    db.session.rollback()
    try:
        db.session.execute(update(Job).where(Job.id.in_(ids), Job.state == PENDING)
                           .values(run_after=utcnow(), claimed_by=None)
                           .execution_options(synchronize_session=False))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()


def _claim(group: list[Job], handler: Handler | None) -> list[Job]:
    """Keep other workers off these jobs while they run; return those of them this worker may run.

    On PostgreSQL the row locks taken when the jobs were read do that until the jobs' transaction
    ends; only a handler that commits as it goes (``claim``) needs its jobs put off for a while. SQLite
    has no row locks: two workers may read the same due job. There each worker puts its jobs off with
    an UPDATE that only matches jobs still pending and due, committed at once; SQLite runs one write
    at a time, so a job is claimed by one worker, and the others' UPDATE no longer matches it. A claim
    names the worker's process, so that it ends as soon as that process is gone (release_abandoned_claims)."""
    row_locks = db.engine.dialect.name != "sqlite"
    seconds = handler.claim if handler is not None and handler.claim else None
    if row_locks and seconds is None:
        return group
    now = utcnow()
    until, claimer = now + timedelta(seconds=seconds or SQLITE_CLAIM_SECONDS), _this_process()
    if row_locks:
        for member in group:
            member.run_after, member.claimed_by = until, claimer
        db.session.commit()
        return group
    ids = [member.id for member in group]
    claimed = set(db.session.scalars(
        update(Job).where(Job.id.in_(ids), Job.state == PENDING, Job.run_after <= now)
        .values(run_after=until, claimed_by=claimer)
        .returning(Job.id).execution_options(synchronize_session=False)))
    db.session.commit()
    return [db.session.get(Job, job_id) for job_id in ids if job_id in claimed]


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def release_abandoned_claims() -> int:
    """Make the jobs claimed by worker processes of this machine that no longer run due now (a worker
    killed mid-job, or `knet run` stopped by a power cut); return how many. Claims by processes of
    other machines are left to run out: whether those live cannot be told from here."""
    host = socket.gethostname()
    claimers = db.session.scalars(select(Job.claimed_by).distinct().where(
        Job.state == PENDING, Job.claimed_by.startswith(f"{host}:", autoescape=True))).all()
    gone = [claimer for claimer in claimers if not _running(int(claimer.rpartition(":")[2]))]
    if not gone:
        db.session.rollback()
        return 0
    released = db.session.execute(
        update(Job).where(Job.state == PENDING, Job.claimed_by.in_(gone)).values(run_after=utcnow(), claimed_by=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    logger.warning("%d job(s) claimed by worker process(es) that no longer run (%s) are due again",
                   released, ", ".join(gone))
    return released


def end_every_claim() -> int:
    """Make every claimed job due now, in the caller's transaction; return how many. For a node
    restored from a backup: the workers that held those claims belonged to the node backed up."""
    return db.session.execute(
        update(Job).where(Job.state == PENDING, Job.claimed_by.is_not(None)).values(run_after=utcnow(), claimed_by=None)
        .execution_options(synchronize_session=False)).rowcount


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user has that number now
        return True
    return True


def _run(handler: Handler | None, group: list[Job]) -> bool:
    """Run jobs of one kind in one transaction; on failure record it on each (alone) and return False."""
    try:
        if handler is None:
            raise LookupError(f"no handler for jobs of kind {group[0].kind!r}")
        if handler.batch > 1:
            handler.run([job.payload for job in group])
        else:
            handler.run(**group[0].payload)
    except Exception as exc:  # noqa: BLE001 - any failure of a handler is recorded on its job
        ids = [job.id for job in group]
        db.session.rollback()
        if not isinstance(exc, Postpone) and resource_failure(exc) is not None:
            # A full disk or a database going away is no fault of the job: it runs again once they are back.
            exc = Postpone(f"{type(exc).__name__}: {exc}", seconds=RESOURCE_RETRY_SECONDS)
        if isinstance(exc, Postpone):
            _postpone([db.session.get(Job, job_id) for job_id in ids], exc)
            db.session.commit()
            return True
        if len(ids) == 1:
            job = db.session.get(Job, ids[0])
            _record_failure(job, handler, exc)
            if job.state == DEAD and handler is not None and handler.every:
                _queue_next(job.kind, handler, handler.every)
            db.session.commit()
        return False
    for job in group:
        job.state, job.finished_at, job.claimed_by = DONE, utcnow(), None
    if handler.every:
        db.session.flush()
        _queue_next(group[0].kind, handler, handler.every)
    db.session.commit()
    return True


def _postpone(group: list[Job], postponed: Postpone) -> None:
    """Put the jobs off without counting an attempt (their handler will be able to run soon)."""
    until = utcnow() + timedelta(seconds=postponed.seconds * random.uniform(0.8, 1.2))
    oldest = min(as_utc(job.created_at) for job in group)
    for job in group:
        job.run_after, job.claimed_by = until, None
        job.last_error = f"Postponed: {postponed}"[:2000]
    level = logging.WARNING if utcnow() - oldest > POSTPONED_TOO_LONG else logging.INFO
    logger.log(level, "Postponed %d job(s) (%s) queued since %s until %s: %s", len(group), group[0].kind,
               oldest, until, postponed)


def _record_failure(job: Job, handler: Handler | None, exc: Exception) -> None:
    job.attempts += 1
    job.claimed_by = None
    job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if handler is None or job.attempts >= handler.max_attempts:
        job.state = DEAD
        logger.error("Job %d (%s) failed for good after %d attempt(s): %s", job.id, job.kind, job.attempts, exc)
    else:
        job.run_after = utcnow() + timedelta(seconds=handler.retry_after(job.attempts))
        logger.warning("Job %d (%s) failed (attempt %d), retrying at %s: %s", job.id, job.kind, job.attempts,
                       job.run_after, exc)


PRUNE_JOB = "jobs.prune"
#: How long finished jobs are kept (to see what ran) before they are deleted; failed ones stay.
KEEP_DONE = timedelta(days=2)


def prune() -> None:
    """Job handler: delete the jobs that finished well before KEEP_DONE ago, so the queue stays small."""
    db.session.execute(delete(Job).where(Job.state == DONE, Job.finished_at < utcnow() - KEEP_DONE))


def init_app(app: Flask) -> None:
    register(app, PRUNE_JOB, prune, every=3600.0)


def wake() -> None:
    """Make a waiting worker of this process look at the queue now (new jobs, or time to stop)."""
    _wakeup.set()


def work(app: Flask, stop: threading.Event, poll_seconds: float = POLL_SECONDS) -> None:
    """Run jobs until `stop` is set, waiting `poll_seconds` whenever the queue is empty."""
    with app.app_context():
        try:
            schedule_recurring()
        except Exception:  # noqa: BLE001 - the queue may be unreachable now and recover later
            logger.exception("The worker could not queue its recurring jobs")
            db.session.rollback()
        failures, next_look = 0, 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_look:
                    release_abandoned_claims()
                    next_look = time.monotonic() + ABANDONED_CLAIMS_EVERY
                ran = run_pending()
            except Exception as exc:  # noqa: BLE001 - a lost database connection must not end the worker
                rollback_or_close()
                failures += 1
                if failures == 1:  # once per outage, not at every poll
                    passing = resource_failure(exc) is not None
                    logger.warning("The worker cannot use the job queue (%s: %s); it tries again every %g s or so",
                                   type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "",
                                   MAX_OUTAGE_WAIT, exc_info=not passing)
                _wakeup.wait(min(poll_seconds * 2 ** failures, MAX_OUTAGE_WAIT))
                _wakeup.clear()
                continue
            if failures:
                logger.warning("The worker uses the job queue again after %d failed tries", failures)
                failures = 0
            if not ran:
                _wakeup.wait(poll_seconds)
                _wakeup.clear()
        db.session.remove()


class WorkerThread(threading.Thread):
    """Drains the queue inside this process (the embedded default, next to the web server)."""

    def __init__(self, app: Flask, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__(name="knet-worker", daemon=True)
        self.app, self.poll_seconds, self.stopping = app, poll_seconds, threading.Event()

    def run(self) -> None:
        work(self.app, self.stopping, self.poll_seconds)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish its current job and wait for it."""
        self.stopping.set()
        wake()
        self.join(timeout)


def start_worker_thread(app: Flask) -> WorkerThread:
    """Run background jobs in a thread of this process until stopped."""
    thread = WorkerThread(app)
    thread.start()
    return thread
