"""Search benchmark: knet's index against SQLite FTS5 on the same generated bilingual corpus.

Run through bench/search. For each size it builds both indexes in child processes (rate, size on
disk, peak memory), times the same mixed queries against both, serves a throwaway node holding the
same index under gunicorn and loads its search API with wrk (beside a bare Flask ceiling), and times
how long a wiki page takes to become searchable through the job queue. Every server, child process
and temporary directory it made is removed at the end, also on failure or Ctrl+C.

The corpus is generated at run time from word lists that are not part of the repository: the Greek
UD sentences beside the project (KNET_CORPUS, default ../shared/corpus) and /usr/share/dict/words
(Debian's wamerican). Each document is a pure function of (seed, document number), so the children
regenerate it instead of holding 100,000 documents in memory.
"""
from __future__ import annotations

import argparse
import contextlib
import glob
import inspect
import itertools
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

from http_bench import (HOST, RESULTS, ROOT, TAGS, BenchError, Cleanup, Result, Server, _commit, _tail, _terminate,
                        bin_tool, check_ceiling, fetch, free_port, knet_init, measure, run_wrk, start_gunicorn,
                        write_lua)

sys.path.insert(0, str(ROOT))  # the feature packages (auth, wiki) are imported from the checkout, as http_bench does

from knet.search.analysis import STOP_WORDS, fold  # noqa: E402 - after the path above
from knet.search.index import SearchDocument, Viewer, open_or_create, search  # noqa: E402

DICT_WORDS = Path("/usr/share/dict/words")
GREEK_SHARE = 0.7
#: In a Greek document, this share of the words is English (municipal Greek is full of English terms).
ENGLISH_IN_GREEK = 0.05
WORDS_PER_DOC = (150, 800)
TITLE_WORDS = (3, 8)
INTERNAL_SHARE = 0.1
FIRST_UPDATE = datetime(2022, 1, 1, tzinfo=timezone.utc)
SPREAD_SECONDS = 3 * 365 * 86400
HOME = "https://bench.example"
COMMON_TOP = 50
RARE_FROM = 5000
FTS5_SCHEMA = ("CREATE VIRTUAL TABLE docs USING fts5(title, body, tags, visibility UNINDEXED, uri UNINDEXED, "
               "tokenize=\"unicode61 remove_diacritics 2\")")
FTS5_TOP = ("SELECT uri, title, snippet(docs, 1, '<mark>', '</mark>', ' … ', 24) FROM docs "
            "WHERE docs MATCH ? AND visibility = 'public' ORDER BY bm25(docs, 3.0, 1.0, 2.0) LIMIT 10")
FTS5_COUNT = "SELECT count(*) FROM docs WHERE docs MATCH ? AND visibility = 'public'"
_GREEK_LETTER = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
_LETTERS = re.compile(r"[^\W\d_]+")
_COMBINING = re.compile(r"[\u0300-\u036f]")


# Options ----------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/search", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated corpus sizes in documents (default 10000,100000; "
                                        "--quick: 500,2000)")
    parser.add_argument("--queries", type=int, help="mixed queries timed per engine and size (default 300)")
    parser.add_argument("--duration", type=int, help="seconds of wrk load per endpoint case (default 10)")
    parser.add_argument("--warmup", type=int, help="seconds of unmeasured wrk load before each case (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="open wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--updates", type=int, help="pages created to time update-to-searchable (default 30)")
    parser.add_argument("--worker-poll", type=float,
                        help="`knet worker --poll` seconds for the update test (default: the worker's own default)")
    parser.add_argument("--batch", type=int, default=1000,
                        help="documents per FTS5 insert and per knet writer() block when the index has no "
                             "bulk_writer() (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the corpus and the queries (default 1)")
    parser.add_argument("--compaction", choices=["optimize", "merge", "none"], default="none",
                        help="what knet does after the bulk load, before the queries: optimize() into one segment, "
                             "merge() (Whoosh's small-segment policy) or nothing, as a node's rebuild does: its "
                             "bulk writer leaves one segment per process (default none)")
    parser.add_argument("--fts5-accents", action="store_true",
                        help="give FTS5 the text as written: its remove_diacritics leaves Greek accents alone, so "
                             "unaccented Greek queries then find nothing (default: strip accents before FTS5)")
    parser.add_argument("--no-endpoint", action="store_true", help="skip the gunicorn + wrk measurements")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: sizes 500,2000, 60 queries, 2 s of wrk, 8 updates")
    parser.add_argument("--output", type=Path, default=RESULTS / "search.md",
                        help="where to write the Markdown report (default bench/results/search.md)")
    args = parser.parse_args(argv)
    defaults = ({"sizes": "500,2000", "queries": 60, "duration": 2, "warmup": 1, "updates": 8} if args.quick
                else {"sizes": "10000,100000", "queries": 300, "duration": 10, "warmup": 3, "updates": 30})
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    try:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas, e.g. 10000,100000")
    if not args.sizes or min(args.sizes) < 100:
        parser.error("--sizes must list sizes of at least 100 documents")
    for name in ("queries", "duration", "connections", "wrk_threads", "workers", "updates", "batch"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.connections < args.wrk_threads:
        parser.error("--connections must be at least --wrk-threads")
    if args.worker_poll is not None and not 0.05 <= args.worker_poll <= 60:
        parser.error("--worker-poll is between 0.05 and 60 seconds (what `knet worker --poll` accepts)")
    # What http_bench's gunicorn and wrk helpers read.
    args.worker_class, args.threads = "sync", 1
    return args


# Corpus -----------------------------------------------------------------------------------------

def corpus_dir() -> Path:
    return Path(os.environ.get("KNET_CORPUS") or ROOT.parent / "shared" / "corpus")


@dataclass
class Words:
    """Words by rank (most frequent first) and the cumulative Zipf weights to draw them with."""

    ranked: list[str]
    cum: list[float]

    def draw(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.ranked, cum_weights=self.cum, k=k)


@dataclass
class Vocabulary:
    greek: Words
    english: Words


def zipf_weights(n: int, exponent: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank ** exponent) for rank in range(1, n + 1)))


def load_vocabulary(seed: int) -> Vocabulary:
    """Greek words ranked by their frequency in the UD Greek sentences; English words from
    /usr/share/dict/words in a shuffled (seeded) order. Both drawn with Zipf weights (exponent 1)."""
    files = sorted(glob.glob(str(corpus_dir() / "greek" / "ud_greek_*_sentences.txt")))
    if not files:
        raise BenchError(f"No Greek sentences in {corpus_dir() / 'greek'} (ud_greek_*_sentences.txt): put the "
                         "shared corpus beside the repository or set KNET_CORPUS to its directory.")
    counts: Counter[str] = Counter()
    for name in files:
        with open(name, encoding="utf-8") as lines:
            for line in lines:
                counts.update(w.lower() for w in _LETTERS.findall(line) if _GREEK_LETTER.search(w))
    greek = [word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    if not DICT_WORDS.exists():
        raise BenchError(f"{DICT_WORDS} is missing: apt-get install wamerican")
    english = sorted({w for w in DICT_WORDS.read_text(encoding="utf-8", errors="replace").split()
                      if re.fullmatch(r"[a-z]{2,}", w)})
    random.Random(seed).shuffle(english)
    if len(greek) <= RARE_FROM or len(english) <= RARE_FROM:
        raise BenchError(f"The word lists are too small ({len(greek)} Greek, {len(english)} English words; "
                         f"more than {RARE_FROM} of each are needed for rare terms).")
    return Vocabulary(Words(greek, zipf_weights(len(greek))), Words(english, zipf_weights(len(english))))


@dataclass(frozen=True)
class BenchDoc:
    number: int
    title: str
    body: str
    language: str
    tags: tuple[str, ...]
    visibility: str
    updated: datetime

    @property
    def uri(self) -> str:
        return f"{HOME}/docs/{self.number}"


def _sentences(rng: random.Random, words: list[str]) -> str:
    """Words as paragraphs of sentences: capitalised, with full stops and now and then a comma."""
    paragraphs, sentences, i = [], [], 0
    while i < len(words):
        n = rng.randint(6, 18)
        chunk = words[i:i + n]
        i += n
        if len(chunk) > 8:
            chunk[len(chunk) // 2] += ","
        chunk[0] = chunk[0][:1].upper() + chunk[0][1:]
        sentences.append(" ".join(chunk) + ".")
        if len(sentences) >= rng.randint(3, 6):
            paragraphs.append(" ".join(sentences))
            sentences = []
    if sentences:
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def document(vocab: Vocabulary, seed: int, number: int) -> BenchDoc:
    """Document `number` of the corpus: always the same for the same seed."""
    rng = random.Random(seed * 1_000_003 + number)
    greek = rng.random() < GREEK_SHARE
    main = vocab.greek if greek else vocab.english
    words = main.draw(rng, rng.randint(*WORDS_PER_DOC))
    if greek:
        for position in rng.sample(range(len(words)), int(len(words) * ENGLISH_IN_GREEK)):
            words[position] = vocab.english.draw(rng, 1)[0]
    title = main.draw(rng, rng.randint(*TITLE_WORDS))
    title[0] = title[0][:1].upper() + title[0][1:]
    return BenchDoc(number=number, title=" ".join(title), body=_sentences(rng, words),
                    language="el" if greek else "en", tags=tuple(rng.sample(TAGS, rng.randint(0, 3))),
                    visibility="internal" if rng.random() < INTERNAL_SHARE else "public",
                    updated=FIRST_UPDATE + timedelta(seconds=rng.randrange(SPREAD_SECONDS)))


def search_document(doc: BenchDoc) -> SearchDocument:
    return SearchDocument(uri=doc.uri, type="page", title=doc.title, body=doc.body, language=doc.language,
                          visibility=doc.visibility, home=HOME, author="1", tags=doc.tags, updated=doc.updated)


# Queries ----------------------------------------------------------------------------------------

def strip_accents(text: str) -> str:
    """«Επιτροπή» → «Επιτροπη» (and «café» → «cafe»)."""
    return _COMBINING.sub("", unicodedata.normalize("NFD", text))


def _searchable(words: list[str]) -> list[tuple[int, str]]:
    """(rank, word) of the words worth searching for: not stop words (knet drops those, FTS5 does not,
    so they would compare nothing) and at least three letters."""
    return [(rank, w) for rank, w in enumerate(words, 1) if len(w) >= 3 and fold(w) not in STOP_WORDS]


@dataclass
class QueryPools:
    greek_common: list[str]
    greek_typical: list[str]
    greek_rare: list[str]
    english_common: list[str]
    english_rare: list[str]


def query_pools(vocab: Vocabulary) -> QueryPools:
    greek, english = _searchable(vocab.greek.ranked), _searchable(vocab.english.ranked)
    return QueryPools(greek_common=[w for _, w in greek[:COMMON_TOP]],
                      greek_typical=[w for _, w in greek[COMMON_TOP:1000]],
                      greek_rare=[w for rank, w in greek if rank > RARE_FROM],
                      english_common=[w for _, w in english[:COMMON_TOP]],
                      english_rare=[w for rank, w in english if RARE_FROM < rank <= 4 * RARE_FROM])


#: (kind, weight): c = a common word (among the 50 most frequent searchable words), r = a rare one
#: (rank > 5,000); Greek queries are typed with their accents or without, half and half.
QUERY_KINDS = [("el c", 10), ("el r", 10), ("el cc", 12), ("el cr", 14), ("el rr", 6), ("el ccr", 10),
               ("el crr", 8), ("el ccc", 5), ("en c", 6), ("en r", 6), ("en cc", 5), ("en cr", 6), ("en ccr", 2)]


@dataclass(frozen=True)
class BenchQuery:
    text: str
    kind: str


def make_queries(vocab: Vocabulary, count: int, seed: int, purpose: str = "queries",
                 exclude: frozenset[str] = frozenset()) -> list[BenchQuery]:
    """`count` deterministic mixed queries of 1 to 3 words, all different (and none in `exclude`):
    knet keeps its answers to recent searches, and a repeated query would measure that."""
    pools = query_pools(vocab)
    rng = random.Random(f"{purpose}-{seed}")
    kinds, weights = zip(*QUERY_KINDS)
    queries: list[BenchQuery] = []
    seen = set(exclude)
    while len(queries) < count:
        kind = rng.choices(kinds, weights)[0]
        language, pattern = kind.split()
        common, rare = ((pools.greek_common, pools.greek_rare) if language == "el"
                        else (pools.english_common, pools.english_rare))
        words = []
        for letter in pattern:
            pool = common if letter == "c" else rare
            word = rng.choice(pool)
            while word in words:
                word = rng.choice(pool)
            words.append(word)
        rng.shuffle(words)
        text = " ".join(words)
        if language == "el" and rng.random() < 0.5:
            text, kind = strip_accents(text), kind + " (no accents)"
        if text not in seen:
            seen.add(text)
            queries.append(BenchQuery(text, kind))
    return queries


#: Distinct query texts per endpoint case that asks a new query each time: far more than the answers
#: knet keeps per process, so that no request is answered from them.
DISTINCT_PATHS = 4000


@dataclass
class EndpointQueries:
    typical: list[str]  #: distinct typical two-word Greek queries
    typical_warmup: list[str]  #: others of the same kind, for the warm-up
    common: list[str]  #: distinct spellings of pairs of very common words
    common_warmup: list[str]
    typical_repeated: list[str]  #: 50 typical queries asked again and again
    common_repeated: list[str]  #: the 20 pairs asked again and again


def _random_case(rng: random.Random, text: str) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c for c in text)


def endpoint_queries(vocab: Vocabulary, seed: int) -> EndpointQueries:
    """The API load's queries: typical two-word Greek queries (searchable words ranked 51–1,000, with
    accents) and pairs of the 10 most frequent searchable Greek words. There are only 45 such pairs,
    so their distinct texts differ in letter case, which knet folds: the same search each time."""
    pools = query_pools(vocab)
    rng = random.Random(f"endpoint-{seed}")
    typical: dict[str, None] = {}
    while len(typical) < DISTINCT_PATHS + DISTINCT_PATHS // 4:
        typical[" ".join(rng.sample(pools.greek_typical, 2))] = None
    pairs = [" ".join(pair) for pair in itertools.combinations(pools.greek_common[:10], 2)]
    rng.shuffle(pairs)
    common: dict[str, None] = dict.fromkeys(pairs)
    while len(common) < DISTINCT_PATHS + DISTINCT_PATHS // 4:
        common[_random_case(rng, rng.choice(pairs))] = None
    typical_list, common_list = list(typical), list(common)
    return EndpointQueries(typical=typical_list[:DISTINCT_PATHS], typical_warmup=typical_list[DISTINCT_PATHS:],
                           common=common_list[:DISTINCT_PATHS], common_warmup=common_list[DISTINCT_PATHS:],
                           typical_repeated=typical_list[:50], common_repeated=pairs[:20])


def write_spread_lua(path: Path, paths: list[str], threads: int) -> Path:
    """http_bench's wrk script, but each wrk thread starts its own stretch of the rotation, so that no
    two threads send the same path within #paths / threads requests."""
    write_lua(path, paths)
    text = path.read_text(encoding="utf-8")
    spread = text.replace('thread:set("offset", thread_number * 7919)',
                          f'thread:set("offset", (thread_number - 1) * math.floor(#paths / {threads}))')
    if spread == text:
        raise BenchError("http_bench.py's wrk script changed: cannot spread its threads over the rotation")
    path.write_text(spread, encoding="utf-8")
    return path


def fts5_match(text: str, fold: bool) -> str:
    """The query as FTS5 strings, one per word (implicit AND, like knet): any character is safe inside."""
    if fold:
        text = strip_accents(text)
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


# Children: one engine's indexing or querying in a process of its own ---------------------------

def peak_rss_mb() -> float:
    return _status_kb(os.getpid(), "VmHWM") / 1024


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def directory_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _progress(engine: str, done: int, total: int, seconds: float) -> None:
    print(f"    {engine}: {done:,}/{total:,} documents, {done / max(seconds, 1e-9):,.0f} docs/s of writing",
          file=sys.stderr, flush=True)


def write_corpus(vocab: Vocabulary, seed: int, size: int, path: Path) -> None:
    """Documents 0..size-1 as JSON lines: both engines then read the same documents, and neither
    pays for generating them (a bulk writer's processes would go on working meanwhile)."""
    with open(path, "w", encoding="utf-8") as out:
        for n in range(size):
            doc = document(vocab, seed, n)
            out.write(json.dumps({**doc.__dict__, "updated": doc.updated.isoformat()}, ensure_ascii=False) + "\n")


def read_corpus(path: Path, batch: int) -> Iterator[list[BenchDoc]]:
    with open(path, encoding="utf-8") as lines:
        while chunk := list(itertools.islice(lines, batch)):
            docs = [json.loads(line) for line in chunk]
            yield [BenchDoc(**{**d, "tags": tuple(d["tags"]), "updated": datetime.fromisoformat(d["updated"])})
                   for d in docs]


class TreeMemory(threading.Thread):
    """The peak of the summed RSS of this process and its descendants (a bulk writer's helper
    processes count), sampled every 50 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            self.sample()

    def sample(self) -> None:
        total, pending = 0, [os.getpid()]
        while pending:
            pid = pending.pop()
            total += _status_kb(pid, "VmRSS")
            try:
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pending += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
        self.peak_kb = max(self.peak_kb, total, _status_kb(os.getpid(), "VmHWM"))

    def peak_mb(self) -> float:
        self.sample()
        return self.peak_kb / 1024


def child_index(engine: str, corpus: Path, size: int, target: Path, batch: int, compaction: str,
                fold: bool) -> dict:
    """Index the corpus file into `target`; time only the engine's work, not reading the documents."""
    baseline = _status_kb(os.getpid(), "VmRSS") / 1024
    memory = TreeMemory()
    memory.start()
    writing, done = 0.0, 0
    step = max(batch, (size // 10) // batch * batch)
    if engine == "knet":
        index = open_or_create(target)
        with contextlib.ExitStack() as stack:
            if hasattr(index, "bulk_writer"):
                # What a rebuild uses: one writer for the whole load, analysing in several processes.
                notes = "one SearchIndex.bulk_writer() block"
                began = time.perf_counter()
                bulk = stack.enter_context(index.bulk_writer())
                writing += time.perf_counter() - began
                add = bulk.add
            else:
                notes = f"SearchIndex.writer() blocks of {batch}"
                add = None
            for docs in read_corpus(corpus, batch):
                began = time.perf_counter()
                if add is not None:
                    for doc in docs:
                        add(search_document(doc))
                else:
                    with index.writer() as writer:
                        for doc in docs:
                            writer.upsert(search_document(doc))
                writing += time.perf_counter() - began
                done += len(docs)
                if done % step == 0 or done >= size:
                    _progress(engine, done, size, writing)
            began = time.perf_counter()
        writing += time.perf_counter() - began  # the bulk writer's commit
        peak_writing = memory.peak_mb()
        began = time.perf_counter()
        if compaction != "none":
            getattr(index, compaction)()
        compacting = time.perf_counter() - began
        if hasattr(index, "segment_count"):
            notes += f", then {compaction}() → {index.segment_count()} segment(s)"
        count = index.doc_count()
        index.close()
    else:
        connection = sqlite3.connect(target, isolation_level=None)
        connection.execute(FTS5_SCHEMA)
        connection.execute("BEGIN")
        for docs in read_corpus(corpus, batch):
            began = time.perf_counter()
            # Folding accents here is the reference's work, so it is timed with the inserts.
            texts = [(d.title, d.body, " ".join(d.tags)) for d in docs]
            if fold:
                texts = [tuple(strip_accents(text) for text in row) for row in texts]
            rows = [(*row, d.visibility, d.uri) for row, d in zip(texts, docs)]
            connection.executemany("INSERT INTO docs (title, body, tags, visibility, uri) VALUES (?, ?, ?, ?, ?)",
                                   rows)
            writing += time.perf_counter() - began
            done += len(docs)
            if done % step == 0 or done >= size:
                _progress(engine, done, size, writing)
        began = time.perf_counter()
        connection.execute("COMMIT")
        writing += time.perf_counter() - began
        notes = "one transaction" + (", accents stripped in Python" if fold else ", text as written")
        peak_writing = memory.peak_mb()
        began = time.perf_counter()
        if compaction != "none":
            connection.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        compacting = time.perf_counter() - began
        count = connection.execute("SELECT count(*) FROM docs").fetchone()[0]
        connection.close()
    memory.stopped.set()
    if count != size:
        raise BenchError(f"{engine} holds {count} documents after indexing {size}")
    return {"writing_s": writing, "compaction_s": compacting, "bytes": directory_bytes(target),
            "peak_rss_mb": memory.peak_mb(), "peak_writing_rss_mb": peak_writing, "baseline_rss_mb": baseline,
            "notes": notes}


def child_query(engine: str, target: Path, queries_file: Path, fold: bool) -> dict:
    """Run the warm-up queries, then time each measured query once: top 10 with snippets, and the total.
    The two sets share no query, so that no answer comes from knet's recent answers."""
    both = json.loads(queries_file.read_text(encoding="utf-8"))
    warmup, queries = ([BenchQuery(**q) for q in both[name]] for name in ("warmup", "measured"))
    if engine == "knet":
        index = open_or_create(target)

        def run(text: str) -> tuple[int, int]:
            found = search(index, text, viewer=Viewer(), per_page=10)
            if any(not hit.snippet for hit in found.hits):
                raise BenchError(f"knet returned a hit without a snippet for {text!r}")
            return found.total, len(found.hits)
    else:
        connection = sqlite3.connect(f"file:{target}?mode=ro", uri=True)

        def run(text: str) -> tuple[int, int]:
            match = fts5_match(text, fold)
            hits = connection.execute(FTS5_TOP, (match,)).fetchall()
            total = connection.execute(FTS5_COUNT, (match,)).fetchone()[0]
            return total, len(hits)

    for q in warmup:
        run(q.text)
    times, cpu, totals = [], [], []
    for q in queries:
        began, began_cpu = time.perf_counter(), time.process_time()
        total, _ = run(q.text)
        times.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        totals.append(total)
    return {"ms": times, "cpu_ms": cpu, "totals": totals, "peak_rss_mb": peak_rss_mb()}


def child_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="search_bench.py _child")
    parser.add_argument("task", choices=["index", "query"])
    parser.add_argument("engine", choices=["knet", "fts5"])
    parser.add_argument("target", type=Path)
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--compaction", default="optimize")
    parser.add_argument("--fold", action="store_true")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        if args.task == "index":
            result = child_index(args.engine, args.corpus, args.size, args.target, args.batch, args.compaction,
                                 args.fold)
        else:
            result = child_query(args.engine, args.target, args.queries, args.fold)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def run_child(cleanup: Cleanup, *argv: str) -> dict:
    """Run a task of this script in a process of its own (its peak memory is then the engine's)."""
    proc = subprocess.Popen([sys.executable, __file__, "_child", *argv], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    cleanup.servers.append(proc)  # stopped with its process group if the run is interrupted
    out, _ = proc.communicate()
    cleanup.servers.remove(proc)
    match = re.search(r"^RESULT (.*)$", out, re.MULTILINE)
    if proc.returncode != 0 or not match:
        raise BenchError(f"The child `{' '.join(argv[:2])}` failed (status {proc.returncode}); see above.")
    return json.loads(match.group(1))


# Measurements -----------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


@dataclass
class EngineResult:
    name: str
    docs_per_s: float
    docs_per_s_with_compaction: float
    compaction_s: float
    index_mb: float
    peak_rss_mb: float
    peak_writing_rss_mb: float
    baseline_rss_mb: float
    search_rss_mb: float
    ms: list[float]
    #: CPU time of each query: unlike the latency, it hardly moves when other programs load the machine.
    cpu_ms: list[float]
    totals: list[int]
    notes: str

    def p(self, q: float) -> float:
        return percentile(self.ms, q)


def measure_engine(cleanup: Cleanup, engine: str, size: int, corpus: Path, workdir: Path, queries_file: Path,
                   args: argparse.Namespace) -> tuple[EngineResult, Path]:
    target = workdir / (f"knet-{size}" if engine == "knet" else f"fts5-{size}.sqlite")
    print(f"  Indexing {size:,} documents with {engine} …", flush=True)
    fold = ["--fold"] if engine == "fts5" and not args.fts5_accents else []
    built = run_child(cleanup, "index", engine, str(target), "--size", str(size), "--corpus", str(corpus),
                      "--batch", str(args.batch), "--compaction", args.compaction, *fold)
    print(f"  Timing {args.queries} queries against {engine} …", flush=True)
    timed = run_child(cleanup, "query", engine, str(target), "--queries", str(queries_file), *fold)
    name = "knet (Whoosh)" if engine == "knet" else "SQLite FTS5"
    return EngineResult(name=name, docs_per_s=size / built["writing_s"],
                        docs_per_s_with_compaction=size / (built["writing_s"] + built["compaction_s"]),
                        compaction_s=built["compaction_s"], index_mb=built["bytes"] / 2**20,
                        peak_rss_mb=built["peak_rss_mb"], peak_writing_rss_mb=built["peak_writing_rss_mb"],
                        baseline_rss_mb=built["baseline_rss_mb"],
                        search_rss_mb=timed["peak_rss_mb"], ms=timed["ms"], cpu_ms=timed["cpu_ms"],
                        totals=timed["totals"],
                        notes=built["notes"]), target


@dataclass
class Latencies:
    case: str
    ms: list[float]
    detail: str = ""
    poll: float = 0.0


@dataclass
class EndpointResult:
    results: list[Result]
    worker_rss_mb: list[float]
    example_typical: str
    example_common: str


@dataclass
class SizeResult:
    size: int
    knet: EngineResult
    fts5: EngineResult
    kinds: list[str]
    updates: list[Latencies] = field(default_factory=list)
    endpoint: EndpointResult | None = None
    #: The 1-minute load average at the start of each step: other programs slow every figure but CPU time.
    load: list[float] = field(default_factory=list)


def gunicorn_worker_pids(master: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{master}/task").iterdir():
        try:
            pids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return pids


def check_search(server: Server, path: str) -> None:
    status, body = fetch(server.base + path)
    if status != 200:
        raise BenchError(f"GET {path} answered {status}, not 200:\n{body[:800]}\n{_tail(server.log)}")
    data = json.loads(body)
    if not data.get("total") or not data.get("results"):
        raise BenchError(f"GET {path} found nothing in the benchmark corpus:\n{body[:800]}")


def measure_endpoint(cleanup: Cleanup, ceiling: Server, instance: Path, port: int, workdir: Path,
                     vocab: Vocabulary, args: argparse.Namespace, size: int) -> EndpointResult:
    q = endpoint_queries(vocab, args.seed)

    def lua(name: str, texts: list[str]) -> Path:
        paths = ["/api/v1/search?per_page=10&q=" + quote(text) for text in texts]
        return write_spread_lua(workdir / f"{name}.lua", paths, args.wrk_threads)

    ceiling_paths = ["/wiki/" + quote(text.replace(" ", "_")) for text in q.typical[:1000]]
    first = {name: "/api/v1/search?per_page=10&q=" + quote(texts[0])
             for name, texts in (("typical", q.typical), ("common", q.common))}
    knet = start_gunicorn(cleanup, f"knet-{size}", "knet.app:create_app()", args, workdir,
                          {"KNET_INSTANCE": str(instance)}, port=port)
    try:
        # (case, server, wrk script, warm-up script or None for the same, check before measuring)
        cases = [("bare Flask (ceiling)", ceiling, write_lua(workdir / "ceiling.lua", ceiling_paths), None,
                  lambda: check_ceiling(ceiling, ceiling_paths)),
                 ("typical two Greek words, a new query each time", knet, lua("typical", q.typical),
                  lua("typical-warmup", q.typical_warmup), lambda: check_search(knet, first["typical"])),
                 ("two very common words, a new query each time", knet, lua("common", q.common),
                  lua("common-warmup", q.common_warmup), lambda: check_search(knet, first["common"])),
                 ("typical two Greek words, 50 asked again and again", knet,
                  lua("typical-repeated", q.typical_repeated), None, lambda: None),
                 ("two very common words, 20 asked again and again", knet,
                  lua("common-repeated", q.common_repeated), None, lambda: None)]
        results = []
        no_warmup = argparse.Namespace(**{**vars(args), "warmup": 0})
        for case, server, script, warmup_script, check in cases:
            print(f"  Measuring {case} …", flush=True)
            check()
            if warmup_script is None:
                results.append(measure(case, server, script, args))
            else:
                # Warm up on other queries: the measured ones must not be among the answers kept.
                run_wrk(server.base, warmup_script, args.warmup, args)
                results.append(measure(case, server, script, no_warmup))
        rss = [_status_kb(pid, "VmRSS") / 1024 for pid in gunicorn_worker_pids(knet.proc.pid)]
        check_search(knet, first["typical"])  # still healthy after the load
    finally:
        cleanup.stop_server(knet.proc)
    return EndpointResult(results, rss, q.typical[0], q.common[0])


def measure_updates(cleanup: Cleanup, instance: Path, workdir: Path, vocab: Vocabulary,
                    args: argparse.Namespace, size: int) -> list[Latencies]:
    """Create wiki pages through the service and poll the node's index until each is found: with the
    embedded worker thread, then with a `knet worker` process; then write documents straight into the
    index (the index's share, without the queue)."""
    # Imported here, not at the top: the indexing children should not carry the whole application
    # in the peak memory they report.
    from auth import services as auth_services
    from knet import jobs
    from knet.app import create_app
    from knet.db import db
    from knet.search.indexing import node_index
    from wiki import services as wiki_services

    poll = args.worker_poll or inspect.signature(jobs.work).parameters["poll_seconds"].default
    app = create_app(instance)
    rng = random.Random(f"updates-{args.seed}-{size}")
    run_token = os.urandom(3).hex()
    number = itertools.count(size)
    log_path = workdir / f"worker-{size}.log"
    rows: list[Latencies] = []

    def pages(label: str, alive: Callable[[], str | None], admin) -> None:
        times, commits = [], []
        for i in range(args.updates):
            # Edits arrive at any moment of the worker's sleep, not just after it woke up.
            time.sleep(rng.uniform(0, poll))
            word = f"upd{run_token}{label[0]}{i:03d}"
            doc = document(vocab, args.seed, next(number))
            count = node_index().doc_count()
            began = time.perf_counter()
            wiki_services.create_page(admin, wiki_services.PageInput(
                title=f"{doc.title} {word}", body=doc.body, language=doc.language, visibility="public"),
                app.config["KNET"]["max_body_bytes"])
            db.session.commit()
            commits.append((time.perf_counter() - began) * 1000)
            times.append(_until_found(node_index, word, count, began, alive))
        rows.append(Latencies(label, times, f"create_page + commit alone: p50 {percentile(commits, 50):.0f} ms",
                              poll))

    with app.app_context():
        admin = auth_services.create_local_user(f"bench-{run_token}", "bench-password-" + os.urandom(8).hex(),
                                                role="admin")
        db.session.commit()
        thread = jobs.start_worker_thread(app)
        try:
            pages("wiki page saved → embedded worker thread (`start_worker_thread`) → found", admin=admin,
                  alive=lambda: None if thread.is_alive() else "the worker thread ended")
        finally:
            thread.stop()
        command = [bin_tool("knet"), "worker", "--instance", str(instance)]
        command += ["--poll", str(args.worker_poll)] if args.worker_poll else []
        with open(log_path, "wb") as log:
            worker = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        cleanup.servers.append(worker)
        try:
            pages(f"wiki page saved → `{' '.join(['knet worker', *command[4:]])}` process → found", admin=admin,
                  alive=lambda: None if worker.poll() is None else
                  f"knet worker exited with status {worker.returncode}:\n{_tail(log_path)}")
        finally:
            cleanup.stop_server(worker)
        direct = []
        for i in range(args.updates):
            word = f"dir{run_token}n{i:03d}"
            doc = document(vocab, args.seed, next(number))
            count = node_index().doc_count()
            began = time.perf_counter()
            with node_index().writer() as writer:
                writer.upsert(SearchDocument(uri=f"{HOME}/direct/{i}", type="page", title=f"{doc.title} {word}",
                                             body=doc.body, language=doc.language, visibility="public",
                                             home=HOME, author="1", updated=datetime.now(timezone.utc)))
            direct.append(_until_found(node_index, word, count, began, lambda: None))
        rows.append(Latencies("SearchIndex.writer() upsert + commit → found (no queue)", direct))
        db.session.remove()
        db.engine.dispose()
    return rows


def _until_found(node_index, word: str, count: int, began: float, alive: Callable[[], str | None]) -> float:
    """Milliseconds from `began` until the index holds more than `count` documents (a new segment is
    committed: every new searcher sees it), once a search has confirmed that the new document is found.

    Polling doc_count() (one read of the index's table of contents) instead of searching keeps the
    polling fine-grained: a search for a word the index does not know yet may run the "did you mean"
    lookup, which can take long on a large index."""
    deadline = began + 60
    visible = None
    while True:
        if visible is None and node_index().doc_count() > count:
            visible = (time.perf_counter() - began) * 1000
        if visible is not None:
            found = search(node_index(), word, viewer=Viewer(), per_page=10)
            if any(word in hit.title for hit in found.hits):
                return visible
            visible = None  # another document arrived first; keep waiting for ours
            count = node_index().doc_count()
        problem = alive()
        if problem:
            raise BenchError(problem)
        if time.perf_counter() > deadline:
            raise BenchError(f"“{word}” was not searchable 60 s after it was written")
        time.sleep(0.005)


def measure_node(cleanup: Cleanup, ceiling: Server | None, built: Path, workdir: Path, vocab: Vocabulary,
                 args: argparse.Namespace, size: int) -> tuple[EndpointResult | None, list[Latencies]]:
    """A throwaway node (`knet init`) whose live index is a copy of the knet index just measured."""
    from knet.app import create_app  # see measure_updates for why here
    from knet.search.indexing import index_path

    instance = workdir / f"node-{size}"
    port = free_port()
    knet_init(instance, port)
    with create_app(instance).app_context() as context:
        target = index_path(context.app)
    shutil.rmtree(target)
    shutil.copytree(built, target)
    endpoint = None
    if ceiling is not None:
        endpoint = measure_endpoint(cleanup, ceiling, instance, port, workdir, vocab, args, size)
    print(f"  Timing update-to-searchable ({args.updates} pages) …", flush=True)
    updates = measure_updates(cleanup, instance, workdir, vocab, args, size)
    shutil.rmtree(instance, ignore_errors=True)
    return endpoint, updates


# Report -----------------------------------------------------------------------------------------

def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def size_report(r: SizeResult) -> tuple[str, list[tuple[str, str, bool | None]]]:
    lines = [f"### {r.size:,} documents", "",
             "| engine | docs/s | docs/s incl. compaction | index MB | peak RSS writing MB "
             "| peak RSS incl. compaction MB | peak RSS searching MB | p50 ms | p95 ms | p99 ms | mean ms "
             "| CPU ms/query p50 / p95 | queries with hits |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in (r.knet, r.fts5):
        hits = sum(1 for t in e.totals if t)
        lines.append(f"| {e.name} | {e.docs_per_s:,.0f} | {e.docs_per_s_with_compaction:,.0f} | {e.index_mb:,.1f} "
                     f"| {e.peak_writing_rss_mb:,.0f} | {e.peak_rss_mb:,.0f} | {e.search_rss_mb:,.0f} "
                     f"| {e.p(50):.2f} | {e.p(95):.2f} "
                     f"| {e.p(99):.2f} | {statistics.mean(e.ms):.2f} "
                     f"| {percentile(e.cpu_ms, 50):.2f} / {percentile(e.cpu_ms, 95):.2f} | {hits}/{len(e.totals)} |")
    cpu95 = percentile(r.knet.cpu_ms, 95) / percentile(r.fts5.cpu_ms, 95)
    lines += ["", f"knet / FTS5: p50 ×{r.knet.p(50) / r.fts5.p(50):.1f}, p95 ×{r.knet.p(95) / r.fts5.p(95):.1f}, "
                  f"p99 ×{r.knet.p(99) / r.fts5.p(99):.1f}, CPU p95 ×{cpu95:.1f}; "
                  f"compaction {r.knet.compaction_s:.1f} s vs {r.fts5.compaction_s:.1f} s; "
                  f"RSS before indexing {r.knet.baseline_rss_mb:.0f} / "
                  f"{r.fts5.baseline_rss_mb:.0f} MB; knet: {r.knet.notes}; FTS5: {r.fts5.notes}.", ""]
    lines += ["| query kind | n | knet p50 ms | knet p95 ms | FTS5 p50 ms | FTS5 p95 ms | median total knet / FTS5 |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for kind in sorted(set(r.kinds), key=lambda k: (k.startswith("en"), len(k.split()[1]), k)):
        picks = [i for i, k in enumerate(r.kinds) if k == kind]
        k_ms, f_ms = [r.knet.ms[i] for i in picks], [r.fts5.ms[i] for i in picks]
        k_tot, f_tot = [r.knet.totals[i] for i in picks], [r.fts5.totals[i] for i in picks]
        lines.append(f"| {kind} | {len(picks)} | {percentile(k_ms, 50):.2f} | {percentile(k_ms, 95):.2f} "
                     f"| {percentile(f_ms, 50):.2f} | {percentile(f_ms, 95):.2f} "
                     f"| {statistics.median(k_tot):,.0f} / {statistics.median(f_tot):,.0f} |")
    lines += ["", "| update → searchable | n | p50 ms | p95 ms | max ms | |", "|---|---:|---:|---:|---:|---|"]
    for u in r.updates:
        lines.append(f"| {u.case} | {len(u.ms)} | {percentile(u.ms, 50):.0f} | {percentile(u.ms, 95):.0f} "
                     f"| {max(u.ms):.0f} | {u.detail} |")
    if r.endpoint:
        ceiling = r.endpoint.results[0].requests_per_s
        lines += ["", "| endpoint (gunicorn, wrk) | requests/s | % of ceiling | p50 ms | p95 ms "
                      "| server CPU ms/request |", "|---|---:|---:|---:|---:|---:|"]
        for e in r.endpoint.results:
            lines.append(f"| {e.case} | {e.requests_per_s:,.0f} | {100 * e.requests_per_s / ceiling:.0f} % "
                         f"| {e.p50_ms:.1f} | {e.p95_ms:.1f} | {e.cpu_ms:.2f} |")
        lines += ["", f"Examples: typical “{r.endpoint.example_typical}”, "
                      f"very common “{r.endpoint.example_common}”. RSS of each gunicorn worker after the load: "
                      + ", ".join(f"{m:,.0f} MB" for m in r.endpoint.worker_rss_mb) + "."]
    if r.load:
        lines += ["", "Load average (1 min) before knet, before FTS5, before the node, at the end: "
                      + ", ".join(f"{x:.1f}" for x in r.load) + f" ({os.cpu_count()} CPUs)."]
    return "\n".join(lines), goals(r)


def goals(r: SizeResult) -> list[tuple[str, str, bool | None]]:
    """(goal, measured, met) for one size; met is None where the goal is stated for another size."""
    k, f = r.knet, r.fts5
    limit = 10 if r.size <= 10_000 else 50
    rows = [("indexing ≥ 400 docs/s",
             f"{k.docs_per_s:,.0f} docs/s ({k.docs_per_s_with_compaction:,.0f} incl. compaction)", k.docs_per_s >= 400),
            (f"query p95 ≤ {limit} ms" + ("" if r.size in (10_000, 100_000) else
                                         f" (goal stated at {'10,000' if limit == 10 else '100,000'})"),
             f"{k.p(95):.1f} ms", k.p(95) <= limit),
            ("query p95 ≤ 3 × FTS5", f"×{k.p(95) / f.p(95):.1f} ({f.p(95):.1f} ms); CPU time p95 "
             f"×{percentile(k.cpu_ms, 95) / percentile(f.cpu_ms, 95):.1f}", k.p(95) <= 3 * f.p(95))]
    for u, how in zip(r.updates[:2], ("embedded worker thread", "`knet worker` process")):
        p95 = percentile(u.ms, 95)
        rows.append((f"update-to-searchable p95 ≤ 500 ms ({how})",
                     f"{p95:.0f} ms" + (f" (polls every {u.poll:g} s)" if "process" in how else ""), p95 <= 500))
    if r.endpoint:
        rss = max(r.endpoint.worker_rss_mb, default=0.0)
        rows.append(("node memory < 400 MB with 100,000 documents", f"{rss:,.0f} MB per gunicorn worker",
                     rss < 400 if r.size >= 100_000 else None))
        # The issue measures "a typical two-word Greek query" and "a two-word query of very common
        # words" under load, and says to cache what repeats: judged on the repeated queries; the
        # share for a new query every request is shown beside it.
        ceiling = r.endpoint.results[0].requests_per_s
        for new, repeated, label, share in zip(r.endpoint.results[1:3], r.endpoint.results[3:5],
                                               ("typical two-word Greek query", "two very common words"), (25, 10)):
            got = 100 * repeated.requests_per_s / ceiling
            fresh = 100 * new.requests_per_s / ceiling
            rows.append((f"API, {label} ≥ {share} % of the ceiling",
                         f"{got:.0f} % (the same queries again and again); {fresh:.0f} % with a new query each time",
                         got >= share))
    return rows


def goals_table(all_goals: list[tuple[int, list[tuple[str, str, bool | None]]]]) -> str:
    lines = ["| size | goal | measured | |", "|---:|---|---|---|"]
    for size, rows in all_goals:
        for goal, measured, met in rows:
            lines.append(f"| {size:,} | {goal} | {measured} | {'—' if met is None else mark(met)} |")
    return "\n".join(lines)


def settings_line(args: argparse.Namespace, load_before: float, commit_before: str) -> str:
    commit_after = _commit()
    commit = (commit_after if commit_after == commit_before else
              f"{commit_before} at the start, {commit_after} at the end (the code changed during the run)")
    sqlite_version = sqlite3.sqlite_version
    try:
        whoosh_version = metadata.version("whoosh3")
    except metadata.PackageNotFoundError:
        whoosh_version = metadata.version("whoosh")
    return (f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; {os.cpu_count()} CPUs "
            f"({platform.machine()}); Python {platform.python_version()}; Whoosh {whoosh_version}; SQLite "
            f"{sqlite_version}; commit {commit}; seed {args.seed}; {args.queries} queries per engine and size "
            f"(one warm-up pass, then one timed pass, in-process); batches of {args.batch}; knet compaction "
            f"{args.compaction}; FTS5 {'text as written' if args.fts5_accents else 'accents stripped in Python'}; "
            f"gunicorn -w {args.workers} -k sync, wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s "
            f"after {args.warmup} s warm-up; load average before the run {load_before:.2f}")


NOTES = """\
Notes. Indexing: each engine indexes in a process of its own, reading the same documents from a
JSON-lines file; docs/s counts only the engine's work (for knet: building SearchDocuments and adding
them in one SearchIndex.bulk_writer() block, or in SearchIndex.writer() blocks of --batch documents
where the index has no bulk writer; for FTS5: executemany in one transaction, plus stripping
accents), not reading the file. Then knet runs the --compaction step and FTS5 its 'optimize' command
("incl. compaction"). Peak RSS: the process and its helper processes (a bulk writer's), summed and
sampled every 50 ms, including the interpreter ("RSS before indexing"); index MB: bytes on disk.

Queries: the same query strings for both, all different; first a warm-up pass of as many other
queries, then each measured query timed once (knet keeps its answers to recent searches until the
index changes: no measured query is answered from them). knet: `search(index, q, viewer=Viewer(),
per_page=10)`: parse, fold and stem, BM25F over title/body/tags (boosts 3/1/2) among public
documents, the total, a highlighted snippet for each of the 10 hits and the "did you mean" check.
FTS5: the words as quoted FTS5 strings (implicit AND, like knet), `bm25(docs, 3.0, 1.0, 2.0)` order,
`visibility = 'public'`, LIMIT 10 with `snippet()`, plus a separate count(*). SQLite's
`remove_diacritics 2` strips Latin diacritics only, not Greek accents (tonos, dialytika), so by
default the benchmark strips accents from FTS5's documents and queries in Python (--fts5-accents
turns that off). FTS5 neither stems nor drops stop words: knet's totals are larger (a stem matches
more forms). Query words are never stop words (knet ignores those). CPU ms is the process's CPU time
per query, which other programs on the machine hardly change.

Update-to-searchable: the real job path. `wiki.services.create_page` + commit queues a job; the
worker writes the page into the index; this process polls the index every 5 ms until the page is
there and a search finds it. Once with the embedded worker thread (`knet.jobs.start_worker_thread`,
as `knet run` has), once with a separate `knet worker` process (as beside gunicorn), which looks at
an empty queue every --poll seconds, so waiting for its next look adds between 0 and that (edits
are made at random moments of its sleep). The last row writes straight into the index: the index's
own share. The node's index is a file copy of the knet index measured above (same documents), plus
the pages this step adds.

Endpoint: a node from `knet init` serving that index under gunicorn, anonymous GET
/api/v1/search?per_page=10&q=…; "a new query each time" rotates over 4,000 different query texts
(typical: two searchable Greek words ranked 51–1,000, accented; very common: the 45 pairs of the 10
most frequent searchable Greek words, told apart by letter case, which knet folds) after a warm-up on
other texts, so no answer comes from the answers knet keeps; "asked again and again" rotates over 50
(20) queries, after a warm-up on the same. The ceiling is bench/ceiling_app.py under the same
gunicorn settings. Worker RSS is read after the load."""


# Main -------------------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    if argv[:1] == ["_child"]:
        return child_main(argv[1:])
    args = parse_args(argv)
    if not args.no_endpoint and not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 1
    cleanup = Cleanup()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    try:
        load_before, commit_before = os.getloadavg()[0], _commit()
        vocab = load_vocabulary(args.seed)
        workdir = Path(tempfile.mkdtemp(prefix="knet-bench-search-"))
        cleanup.dirs.append(workdir)
        queries = make_queries(vocab, args.queries, args.seed)
        warmup = make_queries(vocab, args.queries, args.seed, "warm-up", frozenset(q.text for q in queries))
        queries_file = workdir / "queries.json"
        queries_file.write_text(json.dumps({"measured": [q.__dict__ for q in queries],
                                            "warmup": [q.__dict__ for q in warmup]}, ensure_ascii=False),
                                encoding="utf-8")
        print(f"Vocabulary: {len(vocab.greek.ranked):,} Greek words, {len(vocab.english.ranked):,} English words; "
              f"{len(queries)} queries, e.g. " + ", ".join(f"“{q.text}”" for q in queries[:4]), flush=True)
        ceiling = None
        if not args.no_endpoint:
            ceiling = start_gunicorn(cleanup, "ceiling", "ceiling_app:app", args, workdir, {},
                                     pythonpath=Path(__file__).resolve().parent)
        sections, all_goals, measured = [], [], []
        for size in args.sizes:
            print(f"\n{size:,} documents", flush=True)
            started = time.monotonic()
            print(f"  Writing the corpus of {size:,} documents …", flush=True)
            corpus = workdir / f"corpus-{size}.jsonl"
            write_corpus(vocab, args.seed, size, corpus)
            load = [os.getloadavg()[0]]
            knet, built = measure_engine(cleanup, "knet", size, corpus, workdir, queries_file, args)
            load.append(os.getloadavg()[0])
            fts5, fts_file = measure_engine(cleanup, "fts5", size, corpus, workdir, queries_file, args)
            fts_file.unlink()
            corpus.unlink()
            load.append(os.getloadavg()[0])
            result = SizeResult(size, knet, fts5, [q.kind for q in queries])
            result.endpoint, result.updates = measure_node(cleanup, ceiling, built, workdir, vocab, args, size)
            result.load = [*load, os.getloadavg()[0]]
            shutil.rmtree(built)
            text, size_goals = size_report(result)
            sections.append(text)
            measured += [(size, e) for e in (result.endpoint.results if result.endpoint else [])]
            all_goals.append((size, size_goals))
            print(f"  ({time.monotonic() - started:.0f} s for this size)\n\n{text}", flush=True)
        report = ("\n\n".join(sections) + "\n\n### Goals (2-core machine)\n\n" + goals_table(all_goals) + "\n\n"
                  + settings_line(args, load_before, commit_before) + "\n\n" + NOTES)
        print("\n### Goals (2-core machine)\n\n" + goals_table(all_goals) + "\n\n"
              + settings_line(args, load_before, commit_before))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(f"# Search benchmark\n\n{report}\n", encoding="utf-8")
        print(f"\nWritten to {args.output}")
        problems = [f"{size:,} documents, {e.case}: {key}={value}" for size, e in measured
                    for key, value in e.errors.items() if value]
        for problem in problems:
            print(f"warning: {problem}", file=sys.stderr)
        return 2 if any(e.errors["status_errors"] for _, e in measured) else 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"\nInterrupted ({exc or 'Ctrl+C'}); cleaning up.", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        cleanup.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
