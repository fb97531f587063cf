"""A node deployed as docs/deploy.md says (gunicorn with 2 workers and 2 `knet worker` processes, on PostgreSQL)
survives crashes under load: while staff write pages, questions and answers, gunicorn's master, one of its
workers and the `knet worker`s are SIGKILLed at random moments and started again (systemd's Restart=always).
Afterwards every write the node acknowledged is there as it was sent, no 500 was ever served, the job queue
drains with no job dead, and `knet index check` finds the search index in step with the database.

The moments are drawn from a seeded random generator; the seed is printed, and KNET_CRASH_SEED repeats a run."""
from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from tests.deploy.staff import Tally, Writer, deploy, read_back
from tests.production import Production, free_port
from tests.test_cli import knet

PEOPLE = 8
LOAD_SECONDS = 20
KILLS = int(os.environ.get("KNET_CRASH_KILLS", 5))
#: How long the queue may take to drain once the load ends.
DRAIN_SECONDS = 30


def test_a_node_under_load_survives_processes_killed_at_random(tmp_path, production_database):
    seed = int(os.environ.get("KNET_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    print(f"\ncrash test seed: {seed} (KNET_CRASH_SEED={seed} repeats this run)")
    chance = random.Random(seed)
    port = free_port()
    deployed = deploy(tmp_path / "srv-knet", f"http://127.0.0.1:{port}", production_database, people=PEOPLE)
    node = Production(deployed.instance, tmp_path / "logs", web_workers=2, workers=int(os.environ.get("KNET_CRASH_WORKERS", 2)), port=port)
    tally, stop = Tally(), threading.Event()
    kills: list[str] = []
    with node:
        staff = [Writer(deployed, token, number, tally, stop, seed) for number, token in enumerate(deployed.tokens)]
        for writer in staff:
            writer.start()
        started = time.monotonic()
        moments = sorted(chance.uniform(1, LOAD_SECONDS - 3) for _ in range(KILLS))
        victims = ["gunicorn master", "gunicorn worker", "knet worker"]
        victims = (victims + [chance.choice(victims) for _ in range(KILLS - len(victims))])[:KILLS]
        chance.shuffle(victims)
        for moment, victim in zip(moments, victims):
            time.sleep(max(0.0, started + moment - time.monotonic()))
            kills.append(f"{victim} at {time.monotonic() - started:.1f} s")
            if victim == "gunicorn master":
                node.kill(node.web)
                node.restart(node.web)  # waits until it answers again
            elif victim == "gunicorn worker":
                os.kill(chance.choice(_children(node.web.pid)), signal.SIGKILL)  # gunicorn starts another
            else:
                worker = chance.choice(node.workers)
                node.kill(worker)
                time.sleep(chance.uniform(0, 1))
                node.restart(worker)
        time.sleep(max(0.0, started + LOAD_SECONDS - time.monotonic()))
        stop.set()
        for writer in staff:
            writer.join(30)
        load_seconds = time.monotonic() - started

        drain_started = time.monotonic()
        leftover, dead = _drain(production_database, DRAIN_SECONDS)
        drained = time.monotonic() - drain_started
        wrong = read_back(deployed.url, deployed.tokens[0], tally)
        checked = knet("index", "check", "--instance", str(deployed.instance))
        assert all(process.running() for process in node.processes)

    print(f"{len(tally.acknowledged)} writes acknowledged in {load_seconds:.0f} s by {PEOPLE} people; kills: "
          f"{'; '.join(kills)}; statuses {dict(tally.statuses)}; {tally.connection_errors} connection errors; queue drained in {drained:.1f} s")
    assert tally.failures == [], tally.failures[:5]
    assert 500 not in tally.statuses
    assert len(tally.acknowledged) > 100, "the load did not write enough to prove anything"
    assert wrong == [], f"{len(wrong)} acknowledged writes are missing or changed: {wrong[:5]}"
    assert dead == [], f"jobs died: {dead}"
    assert leftover == [], f"jobs still due {DRAIN_SECONDS} s after the load ended: {leftover}"
    assert checked.returncode == 0, checked.stdout + checked.stderr + f"(seed {seed}; kills: {kills})\n" + "\n".join(
        line for process in node.workers for line in process.log_text().splitlines()
        if "failed" in line or "Error" in line)[-3000:]
    assert "in step" in checked.stdout
    for process in node.processes:
        assert "Traceback" not in process.log_text() or process in node.workers, process.log_text()[-3000:]


def _children(pid: int) -> list[int]:
    """The processes gunicorn's master started (its workers)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    assert children, "gunicorn has no workers"
    return children


def _drain(database: str, seconds: float) -> tuple[list, list]:
    """Wait until no job is due now or waiting to be tried again (recurring jobs wait for their next time);
    return those still due at the deadline and the dead ones."""
    engine = sa.create_engine(database)
    due = sa.text("SELECT id, kind, attempts, last_error FROM jobs WHERE state = 'pending' "
                  "AND (run_after <= now() OR attempts > 0)")
    try:
        deadline = time.monotonic() + seconds
        while True:
            with engine.connect() as conn:
                leftover = [tuple(row) for row in conn.execute(due)]
                dead = [tuple(row) for row in conn.execute(sa.text(
                    "SELECT id, kind, attempts, last_error FROM jobs WHERE state = 'dead'"))]
            if not leftover or time.monotonic() > deadline:
                return leftover, dead
            time.sleep(0.25)
    finally:
        engine.dispose()
