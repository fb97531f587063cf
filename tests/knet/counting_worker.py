"""`knet worker` with one job kind more, for tests that run several workers as real processes.

Run as ``python -m tests.knet.counting_worker worker --instance DIR``: the real `knet` command line,
with the test kind ``test.count`` registered on the app through Flask's ``appcontext_pushed`` signal
(the worker pushes its app's context before it looks at the queue). Each run of a ``test.count`` job
inserts a row (its number, this process's id) into ``job_runs`` in the job's own transaction, so a
test can count how often each job ran and which process ran it; a ``test.slow`` job does the same
after a pause the first time it is begun (saying in a file who began it), for a test to kill its worker in the middle. The node's index jobs run as
always, and each batch written also notes its size and process in ``index_runs``.
"""
from __future__ import annotations

import os
import sys
import time

from flask import appcontext_pushed
from sqlalchemy import text

from knet import content, jobs
from knet.cli import cli
from knet.db import db
from knet.search import indexing

COUNT_JOB = "test.count"
SLOW_JOB = "test.slow"
CREATE_TABLES = ("CREATE TABLE job_runs (n INTEGER NOT NULL, pid INTEGER NOT NULL)",
                 "CREATE TABLE index_runs (size INTEGER NOT NULL, pid INTEGER NOT NULL)")


def count(n: int) -> None:
    """Job handler: note that job number ``n`` ran here."""
    db.session.execute(text("INSERT INTO job_runs (n, pid) VALUES (:n, :pid)"), {"n": n, "pid": os.getpid()})


def slow_count(n: int, seconds: float, started: str) -> None:
    """Job handler: add this process's id to the file ``started``; wait if it was the first to begin
    the job; then note that job number ``n`` ran here."""
    first = not os.path.exists(started)
    with open(started, "a") as file:
        file.write(f"{os.getpid()}\n")
    if first:
        time.sleep(seconds)
    count(n)


def index_and_note(payloads: list[dict]) -> None:
    """Job handler: the node's own for index jobs, then a note of the batch it wrote."""
    indexing.index_changes(payloads)
    db.session.execute(text("INSERT INTO index_runs (size, pid) VALUES (:size, :pid)"),
                       {"size": len(payloads), "pid": os.getpid()})


def _register(app, **_) -> None:
    jobs.register(app, COUNT_JOB, count)
    jobs.register(app, SLOW_JOB, slow_count)
    jobs.register(app, content.INDEX_JOB, index_and_note, batch=indexing.INDEX_BATCH)


if __name__ == "__main__":
    appcontext_pushed.connect(_register)
    cli(sys.argv[1:])
