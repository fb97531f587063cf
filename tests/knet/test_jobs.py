"""Background jobs: rows with a state, attempts and a next-try time."""
import threading
from datetime import timedelta

from sqlalchemy import select

from knet import jobs
from knet.db import db, utcnow
from knet.jobs import DEAD, DONE, PENDING, Job


def test_a_job_runs_once_with_its_payload(app):
    seen = []
    jobs.register(app, "test.note", lambda **payload: seen.append(payload))
    jobs.enqueue("test.note", word="καλημέρα", number=3)
    db.session.commit()

    assert jobs.run_pending() == 1
    assert jobs.run_pending() == 0
    assert seen == [{"word": "καλημέρα", "number": 3}]
    job = db.session.scalars(select(Job)).one()
    assert (job.state, job.attempts) == (DONE, 0) and job.finished_at is not None


def test_a_job_of_a_rolled_back_change_never_exists(app):
    jobs.enqueue("test.note")
    db.session.rollback()
    assert jobs.run_pending() == 0


def test_a_failing_job_is_retried_later_then_given_up(app):
    attempts = []

    def flaky(**payload):
        attempts.append(1)
        raise OSError("the disk is full")

    jobs.register(app, "test.flaky", flaky, max_attempts=2, retry_after=lambda n: 30)
    jobs.enqueue("test.flaky")
    db.session.commit()

    assert jobs.run_pending() == 1
    job = db.session.scalars(select(Job)).one()
    assert (job.state, job.attempts) == (PENDING, 1)
    assert job.last_error == "OSError: the disk is full"
    assert jobs.run_pending() == 0, "not due again before its next-try time"

    job.run_after = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert jobs.run_pending() == 1
    db.session.refresh(job)
    assert (job.state, job.attempts, len(attempts)) == (DEAD, 2, 2)


def test_a_job_without_a_handler_is_dead_not_lost(app):
    jobs.enqueue("test.nobody-handles-this")
    db.session.commit()
    assert jobs.run_pending() == 1
    job = db.session.scalars(select(Job)).one()
    assert job.state == DEAD and "no handler" in job.last_error


def test_the_worker_thread_drains_the_queue_and_stops(app):
    done = threading.Event()
    jobs.register(app, "test.signal", lambda: done.set())
    jobs.enqueue("test.signal")
    db.session.commit()

    worker = jobs.start_worker_thread(app)
    try:
        assert done.wait(10), "the worker thread did not run the job"
    finally:
        worker.stop()
    assert not worker.is_alive()


def test_jobs_of_a_batching_kind_run_together_and_a_bad_one_fails_alone(app):
    batches = []

    def index_all(payloads):
        if any(payload["n"] == 3 for payload in payloads):
            raise ValueError("job 3 cannot be done")
        batches.append([payload["n"] for payload in payloads])

    jobs.register(app, "test.batch", index_all, batch=4, retry_after=lambda n: 60)
    for n in range(6):
        jobs.enqueue("test.batch", n=n)
    db.session.commit()

    assert jobs.run_pending() == 6
    # The first batch (0-3) failed because of 3; each of its jobs then ran alone.
    assert batches == [[0], [1], [2], [4, 5]]
    states = dict(db.session.execute(select(Job.payload["n"].as_integer(), Job.state)).all())
    assert states == {0: DONE, 1: DONE, 2: DONE, 3: PENDING, 4: DONE, 5: DONE}
    failed = db.session.scalars(select(Job).where(Job.state == PENDING)).one()
    assert failed.attempts == 1 and failed.last_error == "ValueError: job 3 cannot be done"


def test_the_worker_thread_starts_on_a_committed_job_without_waiting_for_its_poll(app):
    done = threading.Event()
    jobs.register(app, "test.wake", lambda **payload: done.set())
    worker = jobs.WorkerThread(app, poll_seconds=60)
    worker.start()
    try:
        jobs.enqueue("test.wake")
        db.session.commit()
        assert done.wait(10), "the commit did not wake the worker (it would have waited 60 s)"
    finally:
        worker.stop()
    assert not worker.is_alive()


def _pending(kind: str) -> list[Job]:
    return list(db.session.scalars(select(Job).where(Job.kind == kind, Job.state == PENDING)))


def test_a_recurring_job_queues_its_next_run_after_each_run(app):
    runs = []
    jobs.register(app, "test.every", lambda: runs.append(1), every=600)
    jobs.schedule_recurring()  # (the node's own recurring jobs, such as federation's pulls, are queued too)
    assert len(_pending("test.every")) == 1
    assert jobs.schedule_recurring() == 0  # one pending run is enough, however often workers start
    jobs.run_pending()
    assert runs == [1]
    [following] = _pending("test.every")
    wait = following.run_after.replace(tzinfo=following.run_after.tzinfo or utcnow().tzinfo) - utcnow()
    assert timedelta(seconds=590) < wait <= timedelta(seconds=600)
    assert jobs.run_pending() == 0  # not due yet


def test_a_recurring_job_that_keeps_failing_still_comes_back(app):
    def broken():
        raise ConnectionError("the directory is down")

    jobs.register(app, "test.every-broken", broken, max_attempts=1, every=60)
    jobs.schedule_recurring()
    jobs.run_pending()
    dead = db.session.scalars(select(Job).where(Job.state == DEAD)).one()
    assert "directory is down" in dead.last_error
    assert len(_pending("test.every-broken")) == 1


def test_a_claimed_job_is_not_started_by_another_worker_while_it_runs(app):
    """A handler that commits as it goes releases the job's row lock; its claim keeps others off."""
    seen = []

    def run() -> None:
        db.session.commit()  # as a handler that commits per item does
        seen.append(jobs.run_pending())  # another worker looking at the queue meanwhile

    jobs.register(app, "test.claimed", run, claim=600)
    jobs.enqueue("test.claimed")
    db.session.commit()
    assert jobs.run_pending() == 1
    assert seen == [0]
    job = db.session.scalar(select(jobs.Job).where(jobs.Job.kind == "test.claimed"))
    assert job.state == jobs.DONE


def test_finished_jobs_are_pruned_after_two_days_and_failed_ones_stay(app):
    from datetime import timedelta as days_ago

    old = Job(kind="test.old", payload={}, state=jobs.DONE, finished_at=utcnow() - days_ago(days=3))
    recent = Job(kind="test.recent", payload={}, state=jobs.DONE, finished_at=utcnow() - days_ago(hours=5))
    failed = Job(kind="test.failed", payload={}, state=DEAD, finished_at=None, last_error="the directory is down")
    db.session.add_all([old, recent, failed])
    db.session.commit()
    jobs.prune()
    db.session.commit()
    kinds = set(db.session.scalars(select(Job.kind).where(Job.kind.like("test.%"))))
    assert kinds == {"test.recent", "test.failed"}
    assert app.extensions[jobs.EXTENSION][jobs.PRUNE_JOB].every == 3600  # every node prunes hourly


def test_a_worker_whose_database_is_away_says_so_once_and_carries_on_when_it_returns(app, tmp_path, caplog):
    """A database that cannot be opened (here: its directory is gone) must not end the worker nor fill the log
    with a traceback at every poll; when the database is back, the worker runs the queue again."""
    from knet.app import create_app

    moved = tmp_path / "elsewhere"
    database = tmp_path / "away" / "node.sqlite"
    database.parent.mkdir()
    ran = []
    other = create_app(app.instance_path, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    jobs.register(other, "test.noted", lambda text: ran.append(text))
    with other.app_context():
        db.create_all()
        jobs.enqueue("test.noted", text="after the outage")
        db.session.commit()
        db.engine.dispose()
    database.parent.rename(moved)
    stop = threading.Event()
    worker = threading.Thread(target=jobs.work, args=(other, stop, 0.01))
    with caplog.at_level("INFO", logger="knet.jobs"):
        worker.start()
        threading.Event().wait(1.5)
        assert ran == [] and worker.is_alive()
        moved.rename(database.parent)
        for _ in range(100):
            if ran:
                break
            threading.Event().wait(0.1)
        stop.set()
        jobs.wake()
        worker.join(10)
    assert ran == ["after the outage"]
    warnings = [record.getMessage() for record in caplog.records
                if record.name == "knet.jobs" and record.levelname == "WARNING"]
    assert len(warnings) == 2, warnings  # every try failed for 1.5 s: one line for the outage, one for its end
    assert warnings[0].startswith("The worker cannot use the job queue (OperationalError")
    assert warnings[1].startswith("The worker uses the job queue again after")
