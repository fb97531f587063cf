"""Network search benchmark: a search of every peered node, with one peer black-holed and one slow, against
the deadline, beside local searches on the same nodes.

Run through bench/search_network. Node 0 and --peers peers (10 by default) are `knet run` processes on
127.0.0.1, each a copy of one `knet init` node (bench/federation_bench.py's Network), each with --docs public
documents (10,000 by default) of bench/search_bench.py's generated bilingual corpus (a seed of its own per
node) written straight into its search index with the index's bulk writer before it starts (no database rows:
a peer answers network searches from its index alone). Node 0 and each peer add each other (a star).

After the peering, the last peer is stopped and its port taken by a server that accepts connections and never
answers (the black hole); the one before it is served behind a relay that waits --delay seconds (1 by default)
after accepting each connection before passing it on (the slow peer: its knet.toml names the relay's address,
which signatures cover). Then, over HTTP with --clients concurrent clients, node 0's search API is asked
--searches different queries with scope=network, and as references the same queries with scope=local at node 0
and at one healthy peer. Each network search must name the black hole as silent, and hold on its first page
the two best local results of node 0 and of every healthy peer (the slow one too), as each of them gives them,
within the deadline plus 150 ms at p95.

Every node process, the relay, the black hole and the temporary directory are removed at the end, also on
failure or Ctrl+C.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

import requests
from flask import current_app

from federation_bench import STOPPING, Network, Node, log_tail
from http_bench import HOST, PLACES, RESULTS, BenchError, _commit, _terminate, bin_tool, free_port
from search_bench import Vocabulary, document, load_vocabulary, percentile, query_pools, strip_accents

from federation import peers  # noqa: E402 - after federation_bench, which puts the checkout on the path
from knet.db import db  # noqa: E402
from knet.search.index import SearchDocument, open_or_create  # noqa: E402
from knet.search.indexing import INDEX_DIRECTORY, rebuilding  # noqa: E402
from knet.search.rebuild import live_directory  # noqa: E402

#: The issue's goal: a network search's p95 at most the deadline plus this.
MARGIN_MS = 150
#: The best results of each node that must be on the network search's first page.
TOP = 2
#: Network searches of the warm-up (one at a time, after local ones at every node).
WARM_NETWORK = 5
#: Seconds a client waits for one answer before the run fails.
REQUEST_SECONDS = 60
#: Query kinds and their weights: a typical Greek word (ranked 51-1,000), a very common one (among the 50 most
#: frequent searchable words) with a typical one, an English common word, two of them.
QUERY_KINDS = [("el t", 35), ("el ct", 35), ("en c", 10), ("en cc", 20)]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/search_network", description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=int, default=10,
                        help="peers of the node searched at, the last black-holed and the one before it slow "
                             "(default 10)")
    parser.add_argument("--docs", type=int, default=10_000, help="public documents per node (default 10000)")
    parser.add_argument("--searches", type=int, default=200, help="measured searches per case (default 200)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="unmeasured network searches of other queries first (default 20)")
    parser.add_argument("--delay", type=float, default=1.0,
                        help="seconds the slow peer's relay waits before passing on a connection (default 1)")
    parser.add_argument("--deadline-ms", type=int,
                        help="[federation] search_deadline_ms of the node searched at (default: the node's, 1500)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the corpus and the queries (default 1)")
    parser.add_argument("--output", type=Path, default=RESULTS / "search_network.md",
                        help="where to write the Markdown tables (default bench/results/search_network.md)")
    args = parser.parse_args(argv)
    if not 3 <= args.peers <= 12:
        parser.error("--peers must be from 3 to 12 (a black hole, a slow peer and at least one healthy one; "
                     "every node is a process of its own)")
    if args.docs < 100 or args.searches < 1 or args.clients < 1 or args.warmup < 0:
        parser.error("--docs must be at least 100, --searches and --clients at least 1, --warmup at least 0")
    if not 0 <= args.delay <= 10:
        parser.error("--delay must be from 0 to 10 seconds")
    if args.deadline_ms is not None and not 100 <= args.deadline_ms <= 30_000:
        parser.error("--deadline-ms must be from 100 to 30000, as the node's setting")
    return args


# The slow peer and the black hole -----------------------------------------------------------------------

@dataclass
class RelayedNode(Node):
    """A node whose URL (its knet.toml's, which signatures cover) is a relay's port; its `knet run` listens on
    `behind`."""

    behind: int = 0

    @property
    def behind_url(self) -> str:
        return f"http://{HOST}:{self.behind}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([bin_tool("knet"), "run", "--instance", str(self.instance),
                                             "--port", str(self.behind)], stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)


def direct(node: Node) -> str:
    """Where the node itself answers (for a relayed node, without the relay's wait)."""
    return node.behind_url if isinstance(node, RelayedNode) else node.url


def relayed(network: Network, node: Node) -> RelayedNode:
    """The node (made, not started), to be served behind a relay on its port."""
    slow = RelayedNode(**{item.name: getattr(node, item.name) for item in fields(Node)}, behind=free_port())
    network.nodes[network.nodes.index(node)] = slow
    return slow


class Listener(threading.Thread):
    """A server on a port of 127.0.0.1 that hands each connection it accepts to `serve`, in a thread of its
    own; `close` stops it and closes every connection."""

    def __init__(self, port: int, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.sock = socket.create_server((HOST, port), backlog=128)  # SO_REUSEADDR: the port was a node's
        self.connections: list[socket.socket] = []
        self.accepted = 0
        self.searches = 0  #: connections whose request was a federation search
        self._lock = threading.Lock()

    def run(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return  # closed
            with self._lock:
                self.accepted += 1
                self.connections.append(connection)
            threading.Thread(target=self.serve, args=(connection,), daemon=True).start()

    def serve(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def counted(self, data: bytes) -> None:
        if data.startswith(b"GET /federation/search?"):
            with self._lock:
                self.searches += 1

    def close(self) -> None:
        self.sock.close()
        with self._lock:
            connections, self.connections = self.connections, []
        for connection in connections:
            connection.close()


class BlackHole(Listener):
    """Accepts connections, reads what comes, never answers."""

    def serve(self, connection: socket.socket) -> None:
        first = True
        try:
            while data := connection.recv(65536):
                if first:
                    self.counted(data)
                    first = False
        except OSError:
            pass
        connection.close()


class SlowRelay(Listener):
    """Waits `delay` seconds after accepting each connection, then passes bytes both ways to `target`'s port
    (the federation client opens a new connection for each request, so each request waits)."""

    def __init__(self, port: int, target: int, delay: float) -> None:
        super().__init__(port, "slow-relay")
        self.target, self.delay = target, delay

    def serve(self, connection: socket.socket) -> None:
        time.sleep(self.delay)
        try:
            upstream = socket.create_connection((HOST, self.target), timeout=REQUEST_SECONDS)
        except OSError:
            connection.close()
            return
        upstream.settimeout(None)
        back = threading.Thread(target=_pipe, args=(upstream, connection), daemon=True)
        back.start()
        _pipe(connection, upstream, self.counted)
        back.join()
        upstream.close()
        connection.close()


def _pipe(source: socket.socket, sink: socket.socket, first=None) -> None:
    """Bytes from `source` to `sink` until `source` ends (then `sink` is told no more will come)."""
    try:
        while data := source.recv(65536):
            if first is not None:
                first(data)
                first = None
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


# Nodes and their documents ----------------------------------------------------------------------------

def fill(node: Node, vocab: Vocabulary, seed: int, count: int) -> float:
    """Write `count` public documents on the node's URL into its (empty) index, as a rebuild does: one bulk
    writer. Before the node starts; returns the seconds it took."""
    started = time.perf_counter()
    index = open_or_create(live_directory(node.instance / INDEX_DIRECTORY))
    try:
        if index.outdated:
            raise BenchError(f"{node.name}'s new index counts as outdated ({index.analysis_version}).")
        with index.bulk_writer() as writer:
            for number in range(count):
                doc = document(vocab, seed, number)
                writer.add(SearchDocument(uri=f"{node.url}/wiki/bench-{number}", type="page", title=doc.title,
                                          body=doc.body, language=doc.language, visibility="public",
                                          home=node.url, author="1", tags=doc.tags, updated=doc.updated))
        if index.doc_count() != count:
            raise BenchError(f"{node.name}'s index holds {index.doc_count()} documents instead of {count}.")
    finally:
        index.close()
    return time.perf_counter() - started


def peer_star(center: Node, others: list[Node]) -> None:
    """The center and each other node add each other, as `knet peer add URL --yes` does on both sides."""
    for node in others:
        for one, other in ((center, node), (node, center)):
            with one.at():
                try:
                    peer = peers.add(None, peers.fetch_node(other.url))
                except peers.PeeringError as exc:
                    raise BenchError(f"{one.name} ({one.url}) could not add {other.name}: {exc}") from None
                peers.handshake(peer)
                db.session.commit()
    with center.at():
        active = {peer.url for peer in peers.all_peers() if peer.state == "active"}
    missing = [node.name for node in others if node.url not in active]
    if missing:
        raise BenchError(f"{center.name} has no active agreement with {', '.join(missing)}:\n{log_tail(center)}")


def no_rebuild(nodes: list[Node]) -> None:
    """BenchError if a node found its index missing or outdated (and queued a rebuild)."""
    for node in nodes:
        with node.at():
            if rebuilding():
                raise BenchError(f"{node.name} queued a rebuild of its search index:\n{log_tail(node)}")


# Queries and measurements -----------------------------------------------------------------------------

def make_queries(vocab: Vocabulary, count: int, seed: int, purpose: str, exclude: set[str]) -> list[str]:
    """`count` different queries that every node has results for (the corpus's common and typical words);
    Greek ones half with their accents, half without. Different queries: knet keeps recent answers."""
    pools = query_pools(vocab)
    words = {"el": {"c": pools.greek_common, "t": pools.greek_typical[:500]},
             "en": {"c": pools.english_common}}
    rng = random.Random(f"{purpose}-{seed}")
    kinds, weights = zip(*QUERY_KINDS)
    queries: list[str] = []
    while len(queries) < count:
        language, pattern = rng.choices(kinds, weights)[0].split()
        picked = [rng.choice(words[language][letter]) for letter in pattern]
        text = " ".join(picked)
        if language == "el" and rng.random() < 0.5:
            text = strip_accents(text)
        if len(set(picked)) == len(picked) and text not in exclude:
            exclude.add(text)
            queries.append(text)
    return queries


@dataclass
class Answer:
    query: str
    ms: float
    uris: list[str]
    silent: list[str]


@dataclass
class Case:
    label: str
    answers: list[Answer] = field(default_factory=list)

    def ms(self, p: float) -> float:
        return percentile([answer.ms for answer in self.answers], p)

    @property
    def most(self) -> float:
        return max(answer.ms for answer in self.answers)


def ask_all(base: str, queries: list[str], params: dict, clients: int) -> list[Answer]:
    """Each query once at `base`'s search API, `clients` at a time; an answer other than 200 stops the run."""
    local = threading.local()

    def ask(query: str) -> Answer:
        if STOPPING.is_set():
            raise BenchError("stopped")
        if not hasattr(local, "session"):
            local.session = requests.Session()
        started = time.perf_counter()
        try:
            response = local.session.get(base + "/api/v1/search", params={"q": query, **params},
                                         timeout=REQUEST_SECONDS)
        except requests.RequestException as exc:
            raise BenchError(f"{base} did not answer a search for “{query}”: {exc}") from None
        ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise BenchError(f"{base} answered {response.status_code} to a search for “{query}”:\n"
                             f"{response.text[:500]}")
        found = response.json()
        return Answer(query, ms, [hit["uri"] for hit in found["results"]], found["silent"])

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(ask, queries))


@dataclass
class Checks:
    searches: int
    #: Searches whose first page held the top results of node 0 and of every healthy peer (the slow one too).
    complete: int
    #: Searches whose first page held the top results of node 0 and of every healthy peer that answered.
    complete_answering: int
    #: (query, node) of each top result missing although its node answered.
    missing_answering: list[tuple[str, str]]
    #: How many searches named each peer as silent.
    silent: Counter
    #: Searches that named a healthy fast peer as silent.
    fast_silent: int
    #: Answers of a healthy node that had fewer than TOP results (a query too rare for it).
    short: int


def check(network_case: Case, tops: dict[str, dict[str, list[str]]], fast: list[str]) -> Checks:
    """Compare each network search's first page with the top results of each healthy node as it gives them
    (`tops[node name][query]`); `fast`: the names of the healthy peers that are not slow."""
    complete = complete_answering = fast_silent = 0
    missing_answering: list[tuple[str, str]] = []
    silent: Counter = Counter()
    for answer in network_case.answers:
        page = set(answer.uris)
        gone = [(answer.query, name) for name, by_query in tops.items()
                for uri in by_query[answer.query][:TOP] if uri not in page]
        answered_gone = [(query, name) for query, name in gone if name not in answer.silent]
        complete += not gone
        complete_answering += not answered_gone
        missing_answering += answered_gone
        silent.update(answer.silent)
        fast_silent += any(name in fast for name in answer.silent)
    short = sum(1 for by_query in tops.values() for uris in by_query.values() if len(uris) < TOP)
    return Checks(len(network_case.answers), complete, complete_answering, missing_answering, silent, fast_silent,
                  short)


# Report -----------------------------------------------------------------------------------------------

def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def report(cases: list[Case], checks: Checks, deadline_ms: int, args: argparse.Namespace, per_page: int,
           names: tuple[str, str], details: dict) -> tuple[str, list[str]]:
    """The Markdown report, and the sentences saying which goal was missed (none when all were met);
    `names`: the black hole's and the slow peer's."""
    network_case, (black_hole, slow), searches = cases[0], names, checks.searches
    goal = deadline_ms + MARGIN_MS
    p95 = network_case.ms(95)
    lines = ["| search at node 0 | searches | p50 ms | p95 ms | max ms | goal |", "|---|---:|---:|---:|---:|---|"]
    for number, case in enumerate(cases):
        target = f"p95 ≤ {goal:,} ms {mark(p95 <= goal)}" if number == 0 else ""
        lines.append(f"| {case.label} | {len(case.answers)} | {case.ms(50):,.0f} | {case.ms(95):,.0f} | "
                     f"{case.most:,.0f} | {target} |")
    lines += ["", "| over the network searches | searches | goal |", "|---|---:|---|",
              f"| first page ({per_page} results) holds the top {TOP} of node 0 and of every healthy peer (the slow "
              f"one too) | {checks.complete}/{searches} | all {mark(checks.complete == searches)} |",
              f"| … of node 0 and of every healthy peer that answered | {checks.complete_answering}/{searches} | |",
              f"| the black hole named in `silent` | {checks.silent[black_hole]}/{searches} | all "
              f"{mark(checks.silent[black_hole] == searches)} |",
              f"| the slow peer answered in time | {searches - checks.silent[slow]}/{searches} | |",
              f"| a healthy fast peer named in `silent` | {checks.fast_silent}/{searches} | |"]
    silent = ", ".join(f"{name} {count}" for name, count in checks.silent.most_common()) or "none"
    note = (f"{args.peers} peers of node 0, each node with {args.docs:,} public documents; {black_hole} black-holed "
            f"(accepts, never answers), {slow} behind a relay that waits {args.delay:g} s per connection. Deadline "
            f"{deadline_ms:,} ms (`[federation] search_deadline_ms`). Searches naming each peer as silent: {silent}. "
            f"The black hole was asked {details['probes']} times during the network searches ({details['asked']} in "
            f"all: its circuit breaker leaves it out between probes); {details['waited']} network searches took the "
            f"deadline or longer. {args.searches} different queries per case (Greek: a typical word, or a very "
            f"common one with a typical one, half without accents; English: one or two common words), "
            f"{args.clients} concurrent clients, anonymous `GET /api/v1/search?q=…&per_page={per_page}` with "
            f"`scope=network` or `scope=local`. Before them: one search at each node (its first since it started: "
            f"{details['first_ms']:,.0f} ms at most), {args.warmup} local searches of other queries at each node, "
            f"then {min(args.warmup, WARM_NETWORK)} network searches one at a time. Top results: each node's own "
            f"local search, anonymous, per_page={per_page}"
            + (f"; {checks.short} node answers had fewer than {TOP} results" if checks.short else "") + ". "
            f"Indexes filled in {details['fill']:.0f} s, nodes up in {details['start']:.0f} s, peered in "
            f"{details['peer']:.0f} s; warm-up and measurements {details['measure']:.0f} s; whole run "
            f"{details['total']:.0f} s.")
    failures = []
    if p95 > goal:
        failures.append(f"The network search's p95 is {p95:,.0f} ms, above the deadline plus {MARGIN_MS} ms "
                        f"({goal:,} ms).")
    if checks.complete != searches:
        answering = (f"; {len(checks.missing_answering)} missing top results were of nodes that answered (such as "
                     + "; ".join(f"“{query}” at {name}" for query, name in checks.missing_answering[:3]) + ")"
                     if checks.missing_answering else ", always of peers named as silent")
        failures.append(f"In {searches - checks.complete} of {searches} network searches the first page lacked a "
                        f"top result of a healthy node{answering}.")
    if checks.silent[black_hole] != searches:
        failures.append(f"The black hole was named as silent in {checks.silent[black_hole]} of {searches} "
                        "searches only.")
    return "\n".join(lines) + "\n\n" + note, failures


def settings_line() -> str:
    return (f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; commit {_commit()}; {os.cpu_count()} CPUs; "
            f"SQLite; every node a `knet run` with its worker")


# Main -------------------------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="knet-bench-search-network-"))
    network: Network | None = None
    listeners: list[Listener] = []
    timings: dict[str, float] = {}
    try:
        load_before = os.getloadavg()[0]
        vocab = load_vocabulary(args.seed)
        network = Network(workdir)
        origin = network.make("Δήμος Αναζήτησης",
                              **({"federation": {"search_deadline_ms": args.deadline_ms}} if args.deadline_ms else {}))
        others = [network.make(f"Δήμος {PLACES[number]}") for number in range(args.peers)]
        slow, black_hole = relayed(network, others[-2]), others[-1]
        others[-2] = slow
        healthy = others[:-1]
        nodes = [origin, *others]

        started = time.perf_counter()
        for number, node in enumerate(nodes):
            seconds = fill(node, vocab, args.seed * 100 + number, args.docs)
            print(f"  {node.name}: {args.docs:,} documents indexed in {seconds:.1f} s", flush=True)
        timings["fill"] = time.perf_counter() - started

        started = time.perf_counter()
        relay = SlowRelay(slow.port, slow.behind, args.delay)
        listeners.append(relay)
        relay.start()
        print(f"Starting {len(nodes)} nodes …", flush=True)
        network.start(*nodes)
        timings["start"] = time.perf_counter() - started
        started = time.perf_counter()
        peer_star(origin, others)
        timings["peer"] = time.perf_counter() - started
        network.stop(black_hole)
        hole = BlackHole(black_hole.port, "black-hole")
        listeners.append(hole)
        hole.start()
        with origin.at():
            deadline_ms = current_app.config["KNET"]["federation"]["search_deadline_ms"]
        print(f"Peered in {timings['peer']:.0f} s; {black_hole.name} black-holed, {slow.name} "
              f"{args.delay:g} s slow; deadline {deadline_ms} ms", flush=True)

        started = time.perf_counter()
        used: set[str] = set()
        queries = make_queries(vocab, args.searches, args.seed, "measured", used)
        warmup = make_queries(vocab, max(1, args.warmup), args.seed, "warm-up", used)
        per_page = min(100, TOP * (args.peers + 1))
        network_params = {"scope": "network", "per_page": per_page}
        local_params = {"scope": "local", "per_page": per_page}
        live = [origin, *healthy]
        print(f"Warm-up: a first search at each node, {args.warmup} local searches at each, "
              f"{min(args.warmup, WARM_NETWORK)} network searches …", flush=True)
        first_ms = max(ask_all(direct(node), warmup[:1], local_params, 1)[0].ms for node in live)
        for node in live:
            ask_all(direct(node), warmup[:args.warmup], local_params, args.clients)
        ask_all(origin.url, warmup[:min(args.warmup, WARM_NETWORK)], network_params, 1)
        no_rebuild(live)

        reference = healthy[0]
        print(f"Local searches at {origin.name}, then at {reference.name} ({len(queries)} each) …", flush=True)
        local = Case(f"local scope at node 0 ({origin.name}): reference", ask_all(origin.url, queries, local_params,
                                                                                   args.clients))
        at_peer = Case(f"local scope at a healthy peer ({reference.name}): reference",
                       ask_all(reference.url, queries, local_params, args.clients))
        print(f"Network searches at {origin.name} ({len(queries)}) …", flush=True)
        asked_before = hole.searches
        network_case = Case(f"network: {args.peers} peers, 1 black-holed, 1 slow ({args.delay:g} s)",
                            ask_all(origin.url, queries, network_params, args.clients))
        details = {"probes": hole.searches - asked_before, "asked": hole.searches, "first_ms": first_ms,
                   "waited": sum(answer.ms >= deadline_ms for answer in network_case.answers)}
        timings["measure"] = time.perf_counter() - started

        print("Asking each healthy peer for its own top results …", flush=True)
        tops = {origin.name: {answer.query: answer.uris for answer in local.answers},
                reference.name: {answer.query: answer.uris for answer in at_peer.answers}}
        for node in healthy[1:]:
            tops[node.name] = {answer.query: answer.uris
                               for answer in ask_all(direct(node), queries, local_params, args.clients)}
        checks = check(network_case, tops, [node.name for node in healthy if node is not slow])
        timings["total"] = time.perf_counter() - began

        tables, failures = report([network_case, local, at_peer], checks, deadline_ms, args, per_page,
                                  (black_hole.name, slow.name), {**details, **timings})
        note = settings_line() + f"; load average before the run {load_before:.2f}, after {os.getloadavg()[0]:.2f}"
        text = f"# Network search benchmark\n\n{tables}\n\n{note}\n"
        print()
        print(text)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"Written to {args.output}")
        for failure in failures:
            print(f"goal missed: {failure}", file=sys.stderr)
        return 2 if failures else 0
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
        for listener in listeners:
            listener.close()
        if network is not None:
            network.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
