"""Federation benchmark: propagation latency across local networks of nodes, a returning peer's catch-up,
and the outbox's growth while a peer is dead, each beside a reference measured in the same run.

Run through bench/federation. Every node is a `knet run` process with its worker, on 127.0.0.1, a copy of one
node made by `knet init` (SQLite) in a temporary directory, with a secret and a federation key of its own.
Writes happen in this process on a node's own database, through the services, as the federation tests do
(tests/federation/network.py); what the nodes hold is read the same way or through their search API.

1. Propagation: for each network size of --nodes, every node peered with every other; --writes times a
   public page with a word of its own is created at the first node, and every node's search API is asked,
   until it finds it (scope=network, home = the first node), how long since the commit. Per write the
   slowest other node counts; the reference is the same write becoming searchable at its own node.
2. Catch-up: a peer stopped while the home node records --backlog new pages comes back (pulling every
   second, set in its knet.toml): time until it keeps a replica of each, changes/s and its memory. The
   reference applies the same activities (the home's change log, built and parsed as on the wire) on a
   fresh node in this process, without HTTP.
3. Outbox with a dead peer: --updates edits spread over --objects pages while a peer is down for good;
   the change log's rows and bytes, and the dead peer's "waiting" in `knet peer list`, as edits go by.

Every node process and the temporary directory are removed at the end, also on failure or Ctrl+C.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests
import tomli_w
from flask import Flask, current_app

from http_bench import HOST, RESULTS, ROOT, BenchError, _commit, _terminate, bin_tool, free_port

sys.path.insert(0, str(ROOT))  # the feature packages are imported from the checkout, as the other benchmarks do

from sqlalchemy import func, select  # noqa: E402 - after the path above

from auth import services as auth_services  # noqa: E402
from auth.models import User  # noqa: E402
from federation import changelog, discovery, peers, protocol, replicas  # noqa: E402
from federation.models import Change, Peer, Received, Replica  # noqa: E402
from knet.app import create_app  # noqa: E402
from knet.cli import cli  # noqa: E402
from knet.db import db  # noqa: E402
from knet.jobs import PENDING, Job  # noqa: E402
from wiki import services as wiki  # noqa: E402
from wiki.models import Page  # noqa: E402

#: Seconds a node may take to answer after it is started (ten start at once on a busy machine).
START_SECONDS = 90
#: Goals of issue 7.
LATENCY_GOAL = 1.0
CATCH_UP_GOAL = 500
#: Memory counts as flat when its peak, from a quarter of a catch-up on, is at most this much above its size then.
FLAT_MEMORY = 0.10
#: How often the returning peer's memory is sampled, and its replicas counted.
RSS_SECONDS = 0.2
COUNT_SECONDS = 0.25
#: Pages created per commit when filling a node.
CREATE_BATCH = 250
WRITER = "bench-grafeio"
#: What stops a waiting loop at once: set on failure or Ctrl+C.
STOPPING = threading.Event()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/federation", description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="3,10",
                        help="comma-separated sizes of the networks for the propagation latency (default 3,10)")
    parser.add_argument("--writes", type=int, default=30, help="measured writes per network size (default 30)")
    parser.add_argument("--backlog", type=int, default=10_000,
                        help="changes waiting for the returning peer (default 10000)")
    parser.add_argument("--updates", type=int, default=2000, help="edits made while a peer is dead (default 2000)")
    parser.add_argument("--objects", type=int, default=200, help="pages those edits are spread over (default 200)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds a write may take to be searchable at every node (default 30)")
    parser.add_argument("--poll", type=float, default=0.05,
                        help="seconds between two searches at one node while waiting for a write (default 0.05)")
    parser.add_argument("--parts", default="latency,catchup,outbox",
                        help="which measurements to run, comma-separated (default latency,catchup,outbox)")
    parser.add_argument("--output", type=Path, default=RESULTS / "federation.md",
                        help="where to write the Markdown tables (default bench/results/federation.md)")
    args = parser.parse_args(argv)
    try:
        args.nodes = [int(n) for n in args.nodes.split(",")]
    except ValueError:
        parser.error("--nodes takes whole numbers separated by commas, such as 3,10")
    if any(n < 2 or n > 12 for n in args.nodes):
        parser.error("each size of --nodes must be from 2 to 12 (every node is a process of its own)")
    args.parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if not args.parts or args.parts - {"latency", "catchup", "outbox"}:
        parser.error("--parts takes latency, catchup and outbox, separated by commas")
    if args.writes < 1 or args.backlog < 1 or args.updates < 1 or args.objects < 1:
        parser.error("--writes, --backlog, --updates and --objects must be at least 1")
    if args.timeout <= 0 or not 0.005 <= args.poll <= 1:
        parser.error("--timeout must be positive and --poll from 0.005 to 1 second")
    return args


# Nodes ------------------------------------------------------------------------------------------------

@dataclass
class Node:
    """A node: its instance directory, its `knet run` process once started, and its app in this process
    (for writing and reading its database directly)."""

    name: str
    instance: Path
    port: int
    log: Path
    process: subprocess.Popen | None = None
    app: Flask | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:  # the child keeps its own copy of the file
            # A session of its own: Ctrl+C reaches this process alone, which then stops every node.
            self.process = subprocess.Popen([bin_tool("knet"), "run", "--instance", str(self.instance),
                                             "--port", str(self.port)], stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_up(self, seconds: float = START_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not STOPPING.is_set():
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} ({self.url}) stopped while starting, with status "
                                 f"{self.process.returncode}:\n{log_tail(self)}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise BenchError(f"{self.name} ({self.url}) did not answer within {seconds:.0f} s:\n{log_tail(self)}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass

    @contextmanager
    def at(self) -> Iterator[Flask]:
        """The node's app in this process, on the node's own database (made after the node's first start,
        which gives it its federation key)."""
        if self.app is None:
            self.app = create_app(self.instance)
        with self.app.app_context():
            try:
                yield self.app
            finally:
                db.session.remove()

    def close(self) -> None:
        if self.app is not None:
            with self.app.app_context():
                db.engine.dispose()
            self.app = None


class Network:
    """Every node of the run, made from one `knet init` template; all stop at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.template = workdir / "template"
        self.nodes: list[Node] = []
        with contextlib.redirect_stdout(io.StringIO()):  # its "Next: create an admin" is not for this run
            cli(["init", "--instance", str(self.template), "--name", "Δήμος Προτύπου", "--url",
                 f"http://{HOST}:5999"], standalone=False)

    def make(self, name: str, **settings: object) -> Node:
        """A new node (not started) as `knet init` would make it; `settings` go to its knet.toml."""
        number = len(self.nodes) + 1
        path = self.workdir / f"node-{number}"
        shutil.copytree(self.template, path, ignore=shutil.ignore_patterns("federation-keys"))
        node = Node(name, path, free_port(), self.workdir / f"node-{number}.log")
        config = tomllib.loads((path / "knet.toml").read_text(encoding="utf-8"))
        config.update(settings, name=name, url=node.url, secret_key=secrets.token_urlsafe(48))
        (path / "knet.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
        self.nodes.append(node)
        return node

    def start(self, *nodes: Node) -> None:
        for node in nodes:  # all at once: each spends seconds importing
            node.start()
        for node in nodes:
            node.wait_until_up()

    def stop(self, *nodes: Node) -> None:
        for node in nodes:
            node.close()
            node.stop()

    def stop_all(self) -> None:
        for node in self.nodes:
            try:
                node.close()
            finally:
                node.stop()


def log_tail(node: Node, lines: int = 30) -> str:
    """The end of a node's output, without the development server's line per request."""
    try:
        text = node.log.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join([line for line in text if not line.startswith(f"{HOST} - - [")][-lines:]) or "(nothing logged)"


def peer_all(nodes: list[Node]) -> None:
    """Every node adds every other, as `knet peer add URL --yes` does (federation.peer_cli), in this process."""
    for node in nodes:
        with node.at():
            for other in nodes:
                if other is not node:
                    try:
                        peer = peers.add(None, peers.fetch_node(other.url))
                    except peers.PeeringError as exc:
                        raise BenchError(f"{node.name} ({node.url}) could not add {other.name}: {exc}") from None
                    peers.handshake(peer)
                    db.session.commit()
    for node in nodes:
        with node.at():
            pending = [peer.url for peer in peers.all_peers() if peer.state != "active"]
            if pending or len(peers.all_peers()) != len(nodes) - 1:
                raise BenchError(f"{node.name} ({node.url}) has no active agreement with {', '.join(pending)}:\n"
                                 f"{log_tail(node)}")


def writer() -> User:
    user = User.by_username(WRITER)
    if user is None:
        user = auth_services.create_local_user(WRITER, "a benchmark password " + secrets.token_hex(8), role="admin",
                                               display_name="Γραφείο Τύπου")
        db.session.commit()
    return user


def limit() -> int:
    """The node's largest page body (in its app context)."""
    return current_app.config["KNET"]["max_body_bytes"]


def create_pages(node: Node, count: int, title: str) -> list[int]:
    """`count` public pages at the node, CREATE_BATCH per commit; returns their ids."""
    ids: list[int] = []
    with node.at():
        author, most = writer(), limit()
        for number in range(count):
            page = wiki.create_page(author, wiki.PageInput(f"{title} {number + 1}", BODY % (number + 1),
                                                           visibility="public"), most)
            ids.append(page.id)
            if len(ids) % CREATE_BATCH == 0:
                db.session.commit()
        db.session.commit()
    return ids


BODY = ("Η υπηρεσία λειτουργεί καθημερινά από τις 08:00 έως τις 15:00. Οι αιτήσεις υποβάλλονται ηλεκτρονικά "
        "ή στο πρωτόκολλο του δήμου (αριθμός %d).")


def wait_for(check, what, seconds: float, node: Node, every: float = COUNT_SECONDS):
    """Wait until `check()` is true (returning it), or stop the run saying what did not happen (`what`, a
    sentence or a function that makes one)."""
    deadline = time.monotonic() + seconds
    while not STOPPING.is_set():
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            break
        time.sleep(every)
    what = what() if callable(what) else what
    raise BenchError(f"Within {seconds:.0f} s: {what}.\nLast lines of {node.name}'s log ({node.url}):\n"
                     f"{log_tail(node)}")


def log_rows(node: Node) -> int:
    with node.at():
        return changelog.count()


def pending_jobs(node: Node, kind: str) -> int:
    with node.at():
        return db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == kind,
                                                                             Job.state == PENDING)) or 0


# 1. Propagation latency -------------------------------------------------------------------------------

def unique_word(rng: random.Random) -> str:
    return "zq" + "".join(rng.choice(string.ascii_lowercase) for _ in range(10))


def searchable(node: Node, word: str, home: str, since: float, deadline: float, poll: float) -> float:
    """Seconds from `since` until the node's search API finds the page titled with `word` whose home is
    `home`; BenchError when the deadline passes."""
    with requests.Session() as session:
        while not STOPPING.is_set():
            try:
                answer = session.get(node.url + "/api/v1/search", params={"q": word, "scope": "network"}, timeout=10)
                found = answer.status_code == 200 and any(
                    hit.get("home") == home and word in hit.get("title", "") for hit in answer.json()["results"])
            except (requests.RequestException, ValueError, KeyError):
                found = False
            now = time.perf_counter()
            if found:
                return now - since
            if now > deadline:
                raise BenchError(f"The page with the word “{word}” written at {home} was not searchable at "
                                 f"{node.name} ({node.url}) within {deadline - since:g} s.\nLast lines of its log:\n"
                                 f"{log_tail(node)}")
            time.sleep(poll)
    raise KeyboardInterrupt


@dataclass
class Propagation:
    nodes: int
    #: Per write: seconds until searchable at the slowest other node, and at the home node itself.
    slowest: list[float]
    home: list[float]
    #: Every (write, other node) figure.
    every: list[float]


def propagation(network: Network, size: int, args: argparse.Namespace, rng: random.Random) -> Propagation:
    nodes = [network.make(f"Δήμος {number + 1} από {size}") for number in range(size)]
    print(f"Starting {size} nodes …", flush=True)
    network.start(*nodes)
    print("  peering every node with every other …", flush=True)
    peer_all(nodes)
    home = nodes[0]
    result = Propagation(size, [], [], [])
    with ThreadPoolExecutor(size) as pool:
        try:
            for number in range(args.writes + 1):  # the first write warms every node up, unmeasured
                word = unique_word(rng)
                with home.at():
                    wiki.create_page(writer(), wiki.PageInput(f"Ανακοίνωση {word}", f"Νέα ανακοίνωση ({word}).",
                                                              visibility="public"), limit())
                    db.session.commit()
                    since = time.perf_counter()
                deadline = since + args.timeout
                futures = [pool.submit(searchable, node, word, home.url, since, deadline, args.poll)
                           for node in nodes]
                times = [future.result() for future in futures]
                if number:
                    result.home.append(times[0])
                    result.slowest.append(max(times[1:]))
                    result.every.extend(times[1:])
                print(f"  write {number}{' (warm-up)' if not number else ''}: every node "
                      f"{max(times[1:]) * 1000:.0f} ms, home {times[0] * 1000:.0f} ms", flush=True)
        except BaseException:
            STOPPING.set()  # the other searches end at once, so the pool can close
            raise
    network.stop(*nodes)
    return result


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def propagation_table(results: list[Propagation]) -> str:
    lines = ["| nodes | searchable at | p50 ms | p95 ms | max ms | goal p95 ≤ 1 s |", "|---|---|---:|---:|---:|---|"]
    for result in results:
        for label, values, goal in (("every other node (the slowest, per write)", result.slowest, True),
                                    ("any other node (each node, each write)", result.every, False),
                                    ("the home node (reference: local indexing)", result.home, False)):
            mark = ("✓" if percentile(values, 0.95) <= LATENCY_GOAL else "✗") if goal else ""
            lines.append(f"| {result.nodes} | {label} | {percentile(values, 0.5) * 1000:.0f} | "
                         f"{percentile(values, 0.95) * 1000:.0f} | {max(values) * 1000:.0f} | {mark} |")
    return "\n".join(lines)


# 2. Catch-up -------------------------------------------------------------------------------------------

class MemorySampler(threading.Thread):
    """The resident memory of a process, read from /proc every RSS_SECONDS, with when it was read."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid, self.samples, self.stopping = pid, [], threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                status = Path(f"/proc/{self.pid}/status").read_text()
            except OSError:
                return
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                self.samples.append((time.perf_counter(), int(match.group(1)) / 1024))
            self.stopping.wait(RSS_SECONDS)

    def at(self, moment: float) -> float:
        """The first sample from `moment` on (or the last one; 0 when there is none)."""
        return next((rss for when, rss in self.samples if when >= moment), self.samples[-1][1] if self.samples else 0)

    def peak(self, start: float, end: float) -> float:
        return max([rss for when, rss in self.samples if start <= when <= end] or [self.at(start)])


@dataclass
class CatchUp:
    backlog: int
    create_seconds: float
    fill_seconds: float
    start_seconds: float
    seconds: float
    first_seconds: float
    indexed_seconds: float
    pushed: int
    #: The returning peer's jobs after its catch-up, by kind (done and pending).
    jobs: dict[str, int]
    #: Its memory (MB) when it answered, once a quarter of the changes were applied, at most until all
    #: were, then, and once all were indexed.
    rss_start: float
    rss_quarter: float
    rss_peak: float
    rss_end: float
    rss_indexed: float
    reference_seconds: float

    @property
    def flat(self) -> bool:
        """Whether memory stayed flat: from a quarter of the changes on (the first imports and caches are
        behind it), it grows by at most FLAT_MEMORY."""
        return self.rss_peak <= self.rss_quarter * (1 + FLAT_MEMORY)

    @property
    def rate(self) -> float:
        return self.backlog / self.seconds

    @property
    def reference_rate(self) -> float:
        return self.backlog / self.reference_seconds


def replicas_of(node: Node, home: Node) -> int:
    with node.at():
        return db.session.scalar(select(func.count()).select_from(Replica).join(Peer)
                                 .where(Peer.url == home.url)) or 0


def catch_up(network: Network, args: argparse.Namespace) -> CatchUp:
    home = network.make("Δήμος Αφετηρίας")
    # The pull job recurs every pull_seconds (60 by default): a restarted node finds its next pull queued, due that
    # long after its last one (at once after a long outage, up to a minute later after a short one). Pulling every
    # second makes a short run's catch-up start at once too.
    returning = network.make("Δήμος Επιστροφής", federation={"pull_seconds": 1})
    print("Starting two nodes for the catch-up …", flush=True)
    network.start(home, returning)
    peer_all([home, returning])
    network.stop(returning)
    print(f"  {returning.name} stopped; creating {args.backlog} pages at {home.name} …", flush=True)
    started = time.perf_counter()
    create_pages(home, args.backlog, "Εγκύκλιος")
    create_seconds = time.perf_counter() - started
    wait_for(lambda: log_rows(home) >= args.backlog, f"{home.name}'s change log holds the {args.backlog} pages",
             max(120.0, args.backlog / 20), home, every=1.0)
    fill_seconds = time.perf_counter() - started
    target = log_rows(home)
    print(f"  {target} changes recorded in {fill_seconds:.0f} s; starting {returning.name} …", flush=True)

    launched = time.perf_counter()
    returning.start()
    sampler = MemorySampler(returning.process.pid)
    sampler.start()
    try:
        returning.wait_until_up()
        up = time.perf_counter()
        progress: list[tuple[float, int]] = []

        def applied() -> bool:
            progress.append((time.perf_counter(), replicas_of(returning, home)))
            return progress[-1][1] >= target

        wait_for(applied, lambda: f"{returning.name} keeps a replica of each of the {target} changes of {home.name} "
                                  f"(it has {replicas_of(returning, home)})", max(120.0, target / 20), returning)
        done = time.perf_counter()
        print(f"  applied {target} changes in {done - up:.1f} s; waiting for its index …", flush=True)
        wait_for(lambda: not pending_jobs(returning, "search.index"), f"{returning.name} indexes the replicas",
                 max(120.0, target / 20), returning, every=0.5)
        indexed = time.perf_counter()
    finally:
        sampler.stopping.set()
        sampler.join()
    with returning.at():
        pushed = db.session.scalar(select(func.count()).select_from(Received)) or 0
        jobs = dict(db.session.execute(select(Job.kind, func.count()).group_by(Job.kind)).all())
    network.stop(returning)
    reference = apply_in_process(network, home)
    network.stop(home)
    first = next(when for when, count in progress if count)
    quarter = next(when for when, count in progress if count >= target / 4)
    return CatchUp(target, create_seconds, fill_seconds, up - launched, done - up, first - up, indexed - up, pushed,
                   jobs, sampler.at(up), sampler.at(quarter), sampler.peak(quarter, done), sampler.at(done),
                   sampler.at(indexed), reference)


def apply_in_process(network: Network, home: Node) -> float:
    """Seconds a fresh node takes to apply the home's whole change log in this process: the activities
    built by changelog.activity, through JSON as on the wire, parsed and applied a pull page at a time."""
    print("  reference: applying the same activities in this process, without HTTP …", flush=True)
    pages: list[list[dict]] = []
    with home.at():
        after = 0
        while batch := changelog.after(after, 500):
            pages.append(json.loads(json.dumps([changelog.activity(change) for change in batch])))
            after = batch[-1].seq
    fresh = network.make("Δήμος Αναφοράς")
    with fresh.at():
        peer = peers.add(None, peers.fetch_node(home.url))
        peer.added_us = True
        db.session.commit()
        actor = discovery.actor_url(home.url)
        started = time.perf_counter()
        for page in pages:
            for item in page:
                replicas.apply(peer, protocol.parse(item, home.url, actor))
            db.session.commit()
        seconds = time.perf_counter() - started
        count = db.session.scalar(select(func.count()).select_from(Replica))
    fresh.close()
    if count != sum(map(len, pages)):
        raise BenchError(f"The reference node kept {count} replicas of {sum(map(len, pages))} activities.")
    return seconds


def catch_up_table(result: CatchUp) -> str:
    lines = ["| case | changes | seconds | changes/s | goal ≥ 500/s | memory MB: start, at 25 %, peak, end | "
             "memory flat |",
             "|---|---:|---:|---:|---|---|---|",
             f"| returning peer: pulls over HTTP, applies | {result.backlog:,} | {result.seconds:.1f} | "
             f"{result.rate:,.0f} | {'✓' if result.rate >= CATCH_UP_GOAL else '✗'} | {result.rss_start:.0f}, "
             f"{result.rss_quarter:.0f}, {result.rss_peak:.0f}, {result.rss_end:.0f} | {'✓' if result.flat else '✗'} |",
             f"| returning peer: until every replica is searchable | {result.backlog:,} | "
             f"{result.indexed_seconds:.1f} | {result.backlog / result.indexed_seconds:,.0f} | | "
             f"{result.rss_indexed:.0f} at the end | |",
             f"| reference: same activities applied in-process, no HTTP | {result.backlog:,} | "
             f"{result.reference_seconds:.1f} | {result.reference_rate:,.0f} | | | |"]
    return "\n".join(lines)


def catch_up_note(result: CatchUp) -> str:
    return (f"The backlog's pages were created at the home node in {result.create_seconds:.0f} s ({CREATE_BATCH} "
            f"per commit) and all in its change log after {result.fill_seconds:.0f} s. The returning peer "
            f"answered {result.start_seconds:.1f} s after its start; seconds count from then. Its first replica came "
            f"after {result.first_seconds:.1f} s; {result.pushed:,} of the activities also came by push (its inbox "
            f"kept them), the rest by pull only. Its job rows afterwards: "
            + ", ".join(f"{kind} {count:,}" for kind, count in sorted(result.jobs.items())) + ". Memory is "
            f"flat when its peak from a quarter of the changes on is at most {FLAT_MEMORY:.0%} above its "
            f"size then. The returning peer pulls every second (`[federation] pull_seconds = 1` in its knet.toml; "
            f"default 60).")


# 3. Outbox growth with a dead peer ----------------------------------------------------------------------

@dataclass
class OutboxStep:
    edits: int
    rows: int
    bytes: int
    last_seq: int
    waiting: int
    jobs: int


def outbox(network: Network, args: argparse.Namespace) -> list[OutboxStep]:
    home = network.make("Δήμος Εκκρεμοτήτων")
    dead = network.make("Δήμος Σιωπής")
    print("Starting two nodes for the outbox …", flush=True)
    network.start(home, dead)
    peer_all([home, dead])
    network.stop(dead)
    print(f"  {dead.name} stopped for good; {args.updates} edits over {args.objects} pages at {home.name} …",
          flush=True)
    ids = create_pages(home, args.objects, "Κανονισμός")
    checkpoints = sorted({0, args.updates // 4, args.updates // 2, args.updates})
    steps = [outbox_step(home, dead, 0)]
    with home.at():
        author, most = writer(), limit()
        for edit in range(1, args.updates + 1):
            page = db.session.get(Page, ids[(edit - 1) % len(ids)])
            data = wiki.PageInput(page.title, f"{BODY % edit} Μορφή {edit}.", page.language, page.tag_names,
                                  page.visibility, page.licence)
            wiki.update_page(author, page, data, page.revision, most)
            db.session.commit()
            if edit in checkpoints[1:]:
                steps.append(outbox_step(home, dead, edit))
    network.stop(home)
    return steps


def outbox_step(home: Node, dead: Node, edits: int) -> OutboxStep:
    wait_for(lambda: not pending_jobs(home, changelog.RECORD_JOB), f"{home.name} records its changes", 120, home)
    with home.at():
        rows = changelog.count()
        size = sum(len(json.dumps(document, ensure_ascii=False).encode())
                   for document in db.session.scalars(select(Change.document)) if document is not None)
        last = changelog.last_seq()
        jobs = db.session.scalar(select(func.count()).select_from(Job)) or 0
    listing = subprocess.run([bin_tool("knet"), "peer", "list", "--instance", str(home.instance)],
                             capture_output=True, text=True, timeout=120)
    match = re.search(re.escape(dead.url) + r".*\n\s+waiting to be sent: (\d+) change", listing.stdout)
    if listing.returncode != 0 or not match:
        raise BenchError(f"knet peer list at {home.name} did not show what waits for {dead.url}:\n"
                         f"{listing.stdout}{listing.stderr}")
    print(f"  after {edits} edits: {rows} rows, {size / 1024:.0f} KiB, waiting {match.group(1)}", flush=True)
    return OutboxStep(edits, rows, size, last, int(match.group(1)), jobs)


def outbox_table(steps: list[OutboxStep], objects: int) -> str:
    lines = [f"| edits made | change log rows | bytes (documents) | changes numbered (last seq) | waiting for the dead "
             f"peer (knet peer list) | bounded by {objects} objects | job rows (all kinds) |",
             "|---:|---:|---:|---:|---:|---|---:|"]
    lines += [f"| {step.edits:,} | {step.rows:,} | {step.bytes:,} | {step.last_seq:,} | {step.waiting:,} | "
              f"{'✓' if step.rows <= objects and step.waiting <= objects else '✗'} | {step.jobs:,} |"
              for step in steps]
    return "\n".join(lines)


# Main -------------------------------------------------------------------------------------------------

def settings_line(args: argparse.Namespace) -> str:
    return (f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; commit {_commit()}; "
            f"{os.cpu_count()} CPUs; SQLite; every node a `knet run` with its worker")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # SIGINT too: a shell without job control starts background commands with SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="knet-bench-federation-"))
    network: Network | None = None
    sections: list[str] = []
    try:
        load_before = os.getloadavg()[0]
        network = Network(workdir)
        rng = random.Random(7)
        if "latency" in args.parts:
            results = [propagation(network, size, args, rng) for size in args.nodes]
            sections.append(f"## Propagation latency\n\nFrom the commit of a public page at one node until every "
                            f"other node's search API finds it (scope=network, home = that node); {args.writes} "
                            f"writes per size after one unmeasured, each searched for every {args.poll * 1000:.0f} ms "
                            f"at every node.\n\n" + propagation_table(results))
        if "catchup" in args.parts:
            result = catch_up(network, args)
            sections.append("## Catch-up of a returning peer\n\n" + catch_up_table(result) + "\n\n"
                            + catch_up_note(result))
        if "outbox" in args.parts:
            steps = outbox(network, args)
            sections.append(f"## Outbox with a dead peer\n\n{args.updates:,} edits spread over {args.objects} public "
                            f"pages while the only peer is stopped for good.\n\n" + outbox_table(steps, args.objects))
        note = settings_line(args) + f"; load average before the run {load_before:.2f}, after {os.getloadavg()[0]:.2f}"
        report = "# Federation benchmark\n\n" + "\n\n".join(sections) + f"\n\n{note}\n"
        print()
        print(report)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf-8")
        print(f"Written to {args.output}")
        return 0
    except BenchError as exc:
        STOPPING.set()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        STOPPING.set()
        print(f"\nInterrupted ({exc or 'Ctrl+C'}); cleaning up.", file=sys.stderr)
        return 130
    finally:
        STOPPING.set()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if network is not None:
            network.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
