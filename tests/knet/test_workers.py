"""Several `knet worker` processes share one queue: each job runs exactly once, and their index
writes wait for each other (Whoosh allows one writer at a time) instead of failing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError

from knet import content, jobs
from knet.db import as_utc, db, utcnow
from knet.jobs import DEAD, DONE, PENDING, Job
from knet.search import indexing
from knet.search import rebuild
from knet.search.index import Viewer, open_or_create, search
from knet.search.indexing import index_path
from tests.knet.counting_worker import COUNT_JOB, CREATE_TABLES, SLOW_JOB
from wiki import content as wiki_content
from wiki.models import Page

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
JOBS = 5000
#: SQLite commits one transaction at a time, two per job here (its claim, then its end), each synced to disk.
SQLITE_JOBS = 1000
PAGES = 300
#: The `knet` command, as its console script runs it.
KNET = ["-c", "import sys; from knet.cli import cli; cli(sys.argv[1:])"]


class Workers:
    """`knet worker` processes for one instance, started together and stopped with SIGTERM."""

    def __init__(self, instance: Path, count: int, counting: bool = True):
        environment = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        program = ["-m", "tests.knet.counting_worker"] if counting else KNET
        command = [sys.executable, *program, "worker", "--instance", str(instance), "--poll", "0.05"]
        # Standard error to files: a worker that logged much would block on a full pipe.
        self.logs = [tempfile.TemporaryFile("w+") for _ in range(count)]
        self.processes = [subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                                           stderr=log, text=True) for log in self.logs]
        for process in self.processes:
            line = process.stdout.readline()
            if "started" not in line:
                errors = self.stop()
                raise AssertionError(f"a worker did not start: {line}{errors}")

    @property
    def pids(self) -> set[int]:
        return {process.pid for process in self.processes}

    def stop(self) -> list[str]:
        """Stop every worker the way a service manager does; return what each wrote on standard error."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        errors = []
        for process, log in zip(self.processes, self.logs):
            process.communicate(timeout=30)
            log.seek(0)
            errors.append(log.read())
            log.close()
        for process, err in zip(self.processes, errors):
            assert process.returncode == 0, err
        return errors

    def kill(self) -> None:
        """Kill every worker at once (SIGKILL: a power cut, the kernel's out-of-memory killer)."""
        for process in self.processes:
            process.kill()
        for process, log in zip(self.processes, self.logs):
            process.communicate(timeout=30)
            log.close()


def make_tables() -> None:
    for statement in CREATE_TABLES:
        db.session.execute(text(statement))
    db.session.commit()


def wait_until_drained(kind: str, timeout: float) -> float:
    """Seconds until no job of ``kind`` is pending (the test fails after ``timeout``)."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        pending = db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == kind,
                                                                                 Job.state == PENDING))
        db.session.rollback()
        if not pending:
            return time.monotonic() - began
        time.sleep(0.2)
    raise AssertionError(f"{pending} job(s) of {kind} still pending after {timeout} s")


def test_three_worker_processes_run_each_of_5000_jobs_exactly_once(app, database_kind):
    """5,000 jobs on PostgreSQL (1,000 on SQLite), queued at once for three `knet worker` processes."""
    total = JOBS if database_kind == "postgresql" else SQLITE_JOBS
    make_tables()
    workers = Workers(Path(app.instance_path), WORKERS)
    try:
        for n in range(total):
            jobs.enqueue(COUNT_JOB, n=n)
        db.session.commit()
        seconds = wait_until_drained(COUNT_JOB, timeout=90)
    finally:
        errors = workers.stop()
    print(f"\n{total} jobs, {WORKERS} worker processes, {database_kind}: {seconds:.1f} s")

    runs = Counter(n for (n,) in db.session.execute(text("SELECT n FROM job_runs")))
    assert len(runs) == total and set(runs) == set(range(total))
    twice = {n: times for n, times in runs.items() if times != 1}
    assert not twice, f"{len(twice)} job(s) ran more than once, e.g. {list(twice.items())[:5]}"
    states = Counter(db.session.scalars(select(Job.state).where(Job.kind == COUNT_JOB)))
    assert states == {DONE: total}
    shares = Counter(pid for (pid,) in db.session.execute(text("SELECT pid FROM job_runs")))
    print("jobs per worker:", sorted(shares.values()))
    assert set(shares) == workers.pids, "every worker took a share of the queue"
    assert not any("Traceback" in err for err in errors), errors


def job_runs() -> list[tuple[int, int]]:
    """(job number, process id) of each run noted so far."""
    runs = [tuple(row) for row in db.session.execute(text("SELECT n, pid FROM job_runs"))]
    db.session.rollback()
    return runs


def starters(started: Path) -> set[int]:
    """The processes that began the slow job, in order (one line each)."""
    return [int(line) for line in started.read_text().split()]


def test_a_job_whose_worker_was_killed_runs_again_at_once_and_only_once(app, database_kind):
    """A worker killed in the middle of a job (SIGKILL) cannot finish it; the job must not wait for
    its claim to run out, nor be started by a second worker while the first still runs it. (On
    PostgreSQL the dead worker's row lock ends with its connection; SQLite has claims instead.)"""
    make_tables()
    instance = Path(app.instance_path)
    first = Workers(instance, 1)
    started = instance / "slow-job-started"
    jobs.enqueue(SLOW_JOB, n=1, seconds=300, started=str(started))
    db.session.commit()
    began = time.monotonic()
    while not started.exists() and time.monotonic() - began < 30:
        time.sleep(0.1)
    assert started.exists() and starters(started) == list(first.pids), "the first worker began the job"
    second = Workers(instance, 1)
    third, errors = None, []
    try:
        time.sleep(2)  # the second worker has looked at the queue many times, and at who holds the job
        assert starters(started) == list(first.pids) and not job_runs(), \
            "a job its worker is still running was not begun again"
        first.kill()
        third = Workers(instance, 1)  # a worker starting (systemd restarting the one that was killed)
        seconds = wait_until_drained(SLOW_JOB, timeout=20)
    finally:
        for workers in (second, third):
            if workers is not None:
                errors += workers.stop()
    print(f"\nthe killed worker's job was done {seconds:.1f} s after another worker started")
    again = starters(started)[1:]
    assert len(again) == 1 and again[0] in second.pids | third.pids, "begun once more, by a live worker"
    assert job_runs() == [(1, again[0])], "and done by it, once"
    assert db.session.scalar(select(Job.state).where(Job.kind == SLOW_JOB)) == DONE
    assert not any("Traceback" in err for err in errors), errors
    if database_kind == "sqlite":
        assert any("no longer run" in err for err in errors), "the worker that ended the claim said so"


def test_three_workers_writing_the_index_at_once_leave_every_page_in_it(app, make_user, make_page):
    """Changes to 300 pages come in while three workers run; the workers' batches meet at Whoosh's
    one writer (held at first by this test, as by a slow batch) and wait for each other. In the end the
    index matches the database and no job has failed."""
    author = make_user("maria")
    jobs.run_pending()  # her entry in the people search
    began = time.monotonic()
    for n in range(PAGES):
        make_page(author, f"Σελίδα {n} για την ύδρευση", f"Κείμενο της σελίδας αριθμός {n}.")
    db.session.execute(delete(Job).where(Job.kind == content.INDEX_JOB))  # the changes come in below
    make_tables()
    pages = db.session.scalars(select(Page).order_by(Page.id)).all()
    print(f"\npages made in {time.monotonic() - began:.1f} s")
    workers = Workers(Path(app.instance_path), WORKERS)
    held = open_or_create(index_path(app))
    try:
        with held.writer():
            for first in range(0, PAGES // 2, 10):  # each commit of ten changes is a batch for a worker
                for page in pages[first:first + 10]:
                    content.changed(wiki_content.TYPE, page.id, wiki_content.page_uri(page.id))
                db.session.commit()
                time.sleep(0.15)  # a worker polls every 0.05 s: each of the three claims a batch meanwhile
        for first in range(PAGES // 2, PAGES, 10):
            for page in pages[first:first + 10]:
                content.changed(wiki_content.TYPE, page.id, wiki_content.page_uri(page.id))
            db.session.commit()
        seconds = wait_until_drained(content.INDEX_JOB, timeout=60)
    finally:
        held.close()
        errors = workers.stop()

    drift = rebuild.check(index_path(app), content.content_types().values())
    assert (drift.database, drift.indexed) == (PAGES + 1, PAGES + 1)  # the pages and their author (people search)
    assert drift.in_step, drift
    assert db.session.scalars(select(Job.kind).where(Job.state == DEAD)).all() == []
    batches = Counter(pid for (pid,) in db.session.execute(text("SELECT pid FROM index_runs")))
    print(f"\n{PAGES} page changes indexed by {WORKERS} workers within {seconds:.1f} s of the last one; "
          f"batches per worker: {sorted(batches.values())}")
    assert set(batches) == workers.pids, "each worker wrote some of the batches"
    assert not any("Traceback" in err or "ERROR" in err for err in errors), errors


def test_an_index_job_that_finds_the_index_busy_is_postponed_not_failed(app, make_user, make_page, monkeypatch,
                                                                      caplog):
    monkeypatch.setattr(indexing, "WRITE_WAIT_SECONDS", 0.3)
    page = make_page(make_user("maria"), "Ύδρευση και αποχέτευση", "Οι βλάβες του δικτύου.")
    other_writer = open_or_create(index_path(app))  # as another worker process would hold it
    try:
        with other_writer.writer():
            jobs.run_pending()
    finally:
        other_writer.close()
    index_jobs = db.session.scalars(select(Job).where(Job.kind == content.INDEX_JOB)).all()  # page and author
    assert {(job.state, job.attempts) for job in index_jobs} == {(PENDING, 0)}
    assert all(job.last_error.startswith("Postponed: another writer held the search index") for job in index_jobs)
    assert not [record for record in caplog.records if record.levelno >= 30], "no warning, let alone an error"

    for job in index_jobs:
        job.run_after = job.created_at  # its postponement is over
    db.session.commit()
    jobs.run_pending()
    assert {(job.state, job.attempts) for job in index_jobs} == {(DONE, 0)}
    found = search(indexing.node_index(), "βλάβες", viewer=Viewer("1"))
    assert [hit.title for hit in found.hits] == [page.title]


def test_a_job_whose_end_the_database_refuses_is_free_again_at_once(app):
    """On SQLite a worker claims its jobs for minutes; if the database then fails the job's own
    commit, the claim is let go, so that the job runs again at the next look rather than much later."""
    def leaves_a_bad_row() -> None:
        db.session.add(Job(kind=None, payload={}))  # refused (NOT NULL) when the job's end is committed

    jobs.register(app, "test.bad-row", leaves_a_bad_row)
    jobs.enqueue("test.bad-row")
    db.session.commit()
    with pytest.raises(IntegrityError):
        jobs.run_pending()
    job = db.session.scalars(select(Job).where(Job.kind == "test.bad-row")).one()
    assert (job.state, job.attempts) == (PENDING, 0)
    assert as_utc(job.run_after) <= utcnow(), "due again now, not when a claim runs out"
