"""A node's full-text index: the schema, writing documents by URI, and searching as a given viewer.

Visibility is part of every search (never a filter applied to results afterwards): the documents a
viewer may not see are excluded while the query runs (Whoosh's ``mask``), so neither the hits nor the
total nor a "did you mean" can reveal them. The set of hidden documents is worked out once per index
version and kind of viewer, not for every query; and each thread keeps its searcher open between
searches, refreshing it when a writer has committed.

Segments are written with ``compound=False`` (a reader opens them in milliseconds instead of copying
compound files into memory). A commit adds a segment without merging until there are
``MERGE_AT_SEGMENTS``; then it merges the small ones (Whoosh's policy never rewrites a large
segment in the update path). :meth:`SearchIndex.optimize` merges everything, for a quiet hour.

The body is stored whole: a snippet must show the passage where the words matched, wherever it is
in the document, and replicas from peers must be displayable from the index alone. Only the hits
of the requested page are highlighted, so the cost is disk space, not query time.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from whoosh import fields, index as whoosh_index, qparser, query, scoring
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.support.levenshtein import damerau_levenshtein

from knet.search.analysis import ANALYSIS_VERSION, WORD_PATTERN, analyze, fold, stem, tag_analyzer, text_analyzer
from knet.search import facets as facet_counts, ranking
from knet.search.facets import Facets
from knet.search.snippets import Wanted, snippet

logger = logging.getLogger(__name__)

__all__ = ["VISIBILITIES", "Viewer", "SearchDocument", "Filters", "Hit", "SearchResults", "SearchIndex",
           "Writer", "IndexBusy", "open_or_create", "search", "make_schema"]

VISIBILITIES = ("private", "internal", "network", "public")
#: Query-time boosts (BM25F weighs each field's match by these); tunable without re-indexing.
FIELD_BOOSTS = {"title": 3.0, "tags": 2.0, "body": 1.0}
MAX_QUERY_CHARS = 500
#: "Did you mean" is worked out only for queries that find fewer documents than this. (A query
#: whose words all must match and that finds anything has no word the viewer's documents lack.)
SUGGEST_BELOW = 1
MAX_PER_PAGE = 100
#: Viewers whose hidden-document sets are kept (per index version) before starting afresh.
MAX_CACHED_VIEWERS = 256
#: Memory for a bulk writer's pool of postings before it spills to disk: spilled runs are merged
#: again in Python at the end, which costs more than building them (10,000 documents: 730 docs/s
#: with 256 MB per helper process, 480 with 64 or 128 MB).
HELPER_MEMORY_MB = 256
IN_PROCESS_MEMORY_MB = 64
#: A writer's commit merges small segments once the index has this many.
MERGE_AT_SEGMENTS = 8
#: Answers to recent searches kept (per index version; a few kilobytes each).
RECENT_ANSWERS = 256
#: Open searchers kept for reuse (about one per thread that searches at the same time).
MAX_IDLE_SEARCHERS = 8
#: Tries to open a searcher while commits keep replacing the version it opens.
OPEN_ATTEMPTS = 5
#: The lock file Whoosh's writers take in the index directory (index name "MAIN", lock "WRITELOCK").
WRITE_LOCK = "MAIN_WRITELOCK"
#: A file in the index directory naming the analysis and the fields the index was written with.
VERSION_FILE = "ANALYSIS_VERSION"
#: The fields of :func:`make_schema`; a change of fields, like one of analysis, needs a rebuild.
SCHEMA_VERSION = "fields 2 (licence)"
INDEX_VERSION = f"{ANALYSIS_VERSION}; {SCHEMA_VERSION}"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_WORD = re.compile(WORD_PATTERN)
_WILDCARD_CHUNK = re.compile(r"\S*[*?]\S*")
_PREFIX_CHUNK = re.compile(rf"[-+\"(]*{WORD_PATTERN}\*[\")]*")


def make_schema() -> fields.Schema:
    """The index schema. ``spelling=True`` keeps folded, unstemmed words for "did you mean"."""
    return fields.Schema(
        uri=fields.ID(unique=True, stored=True),
        type=fields.ID(stored=True),
        language=fields.ID(stored=True),
        visibility=fields.ID(stored=True),
        home=fields.ID(stored=True),
        author=fields.ID(stored=True),
        licence=fields.ID(stored=True),
        tags=fields.KEYWORD(stored=True, commas=True, scorable=True, analyzer=tag_analyzer()),
        title=fields.TEXT(analyzer=text_analyzer(), stored=True),
        body=fields.TEXT(analyzer=text_analyzer(), stored=True),
        updated=fields.DATETIME(stored=True, sortable=True),
    )


@dataclass(frozen=True)
class Viewer:
    """Who is searching: ``Viewer()`` is anonymous, ``Viewer("42")`` a signed-in member of this node.

    ``member=False`` is someone signed in from a peer (they see network and public, not internal).
    ``home``, when given, keeps the search to the objects whose home is that node (a node's own
    objects, without the replicas of its peers' objects that the index also holds); ``not_homes``
    leaves out the objects of those nodes (peers that answered a network search themselves)."""

    id: str | None = None
    member: bool = True
    home: str | None = None
    not_homes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SearchDocument:
    """What the index holds about one object (the content contract's search document)."""

    uri: str
    type: str
    title: str
    body: str = ""
    language: str = ""
    visibility: str = "private"
    home: str = ""
    author: str = ""
    tags: tuple[str, ...] = ()
    updated: datetime | None = None
    licence: str = ""
    #: Above 1, the document's words weigh more (an accepted answer outranks others for the same match).
    boost: float = 1.0


@dataclass(frozen=True)
class Filters:
    """Narrow a search; every field is optional."""

    type: str | None = None
    language: str | None = None
    tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    licence: str | None = None
    #: Only the objects whose home is this node (by URL).
    home: str | None = None


@dataclass(frozen=True)
class Hit:
    uri: str
    type: str
    title: str
    snippet: str  #: HTML: escaped text with the matched words in <mark>
    language: str
    tags: list[str]
    updated: datetime | None
    home: str
    score: float
    licence: str = ""


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit] = field(default_factory=list)
    suggestion: str | None = None
    #: Counts of all the results by municipality, type…, when asked for.
    facets: Facets | None = None
    #: The names of the peered municipalities that did not answer a network search in time.
    silent: tuple[str, ...] = ()

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class Recent:
    """The last answers, by key, thread-safe; the least recently used goes first."""

    def __init__(self, size: int):
        self._size = size
        self._answers: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key, answer) -> None:
        with self._lock:
            self._answers[key] = answer
            if len(self._answers) > self._size:
                self._answers.popitem(last=False)


def _open_lazy_files(searcher) -> None:
    """Open every file of the searcher's segments that Whoosh would open only when first read: the stored
    fields and the length and sort columns. A worker's commit that merges segments deletes their files;
    one already open stays readable until the searcher closes it, one opened later is gone (Whoosh then
    hands back None, and a search under load failed with a TypeError in stored_fields)."""
    schema = searcher.schema
    for reader, _offset in searcher.reader().leaf_readers():
        if not reader.doc_count_all():
            continue
        reader.stored_fields(0)
        for name, kind in schema.items():
            if kind.scorable:
                reader.doc_field_length(0, name)
            if kind.column_type is not None:
                reader.column_reader(name)


class SearchIndex:
    """A Whoosh index in a directory."""

    def __init__(self, ix: whoosh_index.Index, path: Path):
        self._ix = ix
        self.path = path
        self._lock = threading.Lock()
        self._idle: list = []  #: open searchers not in use, reused by the next search
        self._hidden: dict[tuple[str | None, bool], set[int]] = {}
        self._hidden_generation = -1
        self._closed = False
        self.facet_tables = facet_counts.Tables()
        self.recent = Recent(RECENT_ANSWERS)

    @contextlib.contextmanager
    def searching(self) -> Iterator:
        """A searcher on the latest committed version of the index, reused between searches
        (opening one costs more than a typical query; one searcher serves one thread at a time)."""
        with self._lock:
            searcher = self._idle.pop() if self._idle else None
        if searcher is not None and not searcher.up_to_date():
            searcher.close()
            searcher = None
        if searcher is None:
            searcher = self._open_searcher()
        try:
            yield searcher
        finally:
            with self._lock:
                keep = not self._closed and len(self._idle) < MAX_IDLE_SEARCHERS and searcher.up_to_date()
                if keep:
                    self._idle.append(searcher)
            if not keep:
                searcher.close()

    def _open_searcher(self):
        """A searcher on the latest version whose files are all open (see _open_lazy_files); a commit
        that deletes a file while the searcher opens it means a newer version: open that one."""
        for attempt in range(OPEN_ATTEMPTS):
            searcher = self._ix.searcher(weighting=scoring.BM25F())
            try:
                _open_lazy_files(searcher)
                return searcher
            except (OSError, TypeError):
                searcher.close()
                if attempt == OPEN_ATTEMPTS - 1:
                    raise

    def hidden_from(self, searcher, viewer: Viewer) -> set[int]:
        """The numbers of the documents ``viewer`` may not see, in this searcher's version of the
        index (worked out once per version and kind of viewer)."""
        generation = searcher.reader().generation()
        key = (viewer.id, viewer.member, viewer.home, viewer.not_homes)
        with self._lock:
            if generation != self._hidden_generation or len(self._hidden) > MAX_CACHED_VIEWERS:
                self._hidden, self._hidden_generation = {}, generation
            hidden = self._hidden.get(key)
        if hidden is None:
            hidden = set(searcher.docs_for_query(hidden_query(viewer)))
            if viewer.home is not None:  # the postings of the other homes, not a scan of every document
                others = [home for home in searcher.reader().field_terms("home") if home != viewer.home]
                hidden.update(searcher.docs_for_query(query.Or([query.Term("home", home) for home in others])))
            if viewer.not_homes:
                hidden.update(searcher.docs_for_query(query.Or([query.Term("home", home)
                                                                for home in sorted(viewer.not_homes)])))
            with self._lock:
                if generation == self._hidden_generation:
                    self._hidden[key] = hidden
        return hidden

    def writer(self, timeout: float = 10.0) -> Writer:
        """A writer for one batch: ``with index.writer() as w: w.upsert(doc)``."""
        return Writer(self, timeout)

    def bulk_writer(self, processes: int | None = None) -> BulkWriter:
        """A writer that fills a new, empty index with many documents, analysing them in several
        processes (one per processor by default): ``with index.bulk_writer() as w: w.add(doc)``."""
        return BulkWriter(self, processes or os.cpu_count() or 1)

    @property
    def analysis_version(self) -> str | None:
        return analysis_version(self.path)

    @property
    def outdated(self) -> bool:
        return outdated(self.path)

    def doc_count(self) -> int:
        return self._ix.doc_count()

    def segment_count(self) -> int:
        return len(self._ix._segments())

    def merge(self) -> None:
        """Merge small segments (Whoosh's usual policy), as a scheduled job would."""
        self._ix.writer(compound=False).commit(merge=True)

    def optimize(self) -> None:
        """Merge everything into one segment."""
        self._ix.writer(compound=False).commit(optimize=True)

    def close(self) -> None:
        """Close the index and its idle searchers (one in use is closed when its search ends)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for searcher in idle:
            searcher.close()
        self._ix.close()


class IndexBusy(Exception):
    """Another writer (perhaps in another process) held the index for longer than the writer waited."""


class Writer:
    """Upserts and deletes by URI, committed together without merging when the block ends.

    Whoosh lets one writer at a time change an index (a lock file that the kernel releases if its
    holder dies); a writer waits up to its timeout for the one before it, then raises IndexBusy."""

    def __init__(self, index: SearchIndex, timeout: float):
        self._index = index
        self._timeout = timeout
        self._writer = None

    def __enter__(self) -> Writer:
        try:
            self._writer = self._index._ix.writer(compound=False, timeout=self._timeout)
        except LockError:
            raise IndexBusy(f"another writer held the search index in {self._index.path} for over "
                            f"{self._timeout:g} s") from None
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            # Each commit adds a segment, and every search reads every segment: once there are
            # several, this commit also merges the small ones (never rewriting a large one).
            try:
                self._writer.commit(merge=self._index.segment_count() >= MERGE_AT_SEGMENTS)
            except BaseException:  # a full disk: let go of the half-written segment's files and the lock
                with contextlib.suppress(Exception):
                    self._writer.cancel()
                raise
        else:
            self._writer.cancel()

    def upsert(self, doc: SearchDocument) -> None:
        """Add the document, replacing any with the same URI."""
        self._writer.update_document(**_values(doc, self._writer.schema))

    def delete(self, uri: str) -> None:
        self._writer.delete_by_term("uri", uri)


class BulkWriter:
    """Adds documents to an empty index (nothing to replace), several processes analysing them;
    each process writes a segment of its own, and they are all committed together."""

    def __init__(self, index: SearchIndex, processes: int):
        self._index = index
        self._processes = processes
        self._writer = None

    def __enter__(self) -> BulkWriter:
        if self._index.doc_count():
            raise ValueError("a bulk writer fills an empty index; use writer() to change one")
        if self._processes > 1:
            # Helper processes end with the writer, so their memory goes back to the system.
            options = {"procs": self._processes, "multisegment": True, "limitmb": HELPER_MEMORY_MB}
        else:
            # In this (perhaps long-running) process: freed Python memory is seldom given back.
            options = {"limitmb": IN_PROCESS_MEMORY_MB}
        self._writer = self._index._ix.writer(compound=False, **options)
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self._writer.commit(merge=False)
        else:
            self._writer.cancel()

    def add(self, doc: SearchDocument) -> None:
        self._writer.add_document(**_values(doc, self._writer.schema))


def _values(doc: SearchDocument, schema: fields.Schema) -> dict:
    """The document's fields, as far as the index has them (an index written before a field was
    added serves, without it, until the rebuild it needs)."""
    if doc.visibility not in VISIBILITIES:
        raise ValueError(f"unknown visibility {doc.visibility!r}")
    values = {"uri": doc.uri, "type": doc.type, "language": doc.language, "visibility": doc.visibility,
              "home": doc.home, "author": doc.author, "title": doc.title, "body": doc.body,
              "licence": doc.licence,
              "tags": ",".join(tag.replace(",", " ").strip() for tag in doc.tags)}
    if doc.updated is not None:
        values["updated"] = doc.updated
    if doc.boost != 1.0:
        values["_boost"] = doc.boost
    return {name: value for name, value in values.items() if value != "" and (name in schema or name == "_boost")}


def analysis_version(path: Path) -> str | None:
    """The analysis and fields the index in ``path`` was written with (None: an index older than the marker)."""
    try:
        return (path / VERSION_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def outdated(path: Path) -> bool:
    """Whether the index in ``path`` got its terms from other analysis rules than this code's, or
    has other fields (a query's terms would not match them: it needs a rebuild)."""
    return analysis_version(path) != INDEX_VERSION


def open_or_create(path: str | Path) -> SearchIndex:
    """Open the index in ``path``, creating the directory and an empty index if there is none."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if not whoosh_index.exists_in(str(path)):
        # Under the writers' lock: processes that find the index missing at the same moment create it
        # once (creating deletes the index files there, a writer's fresh segment among them).
        lock = FileStorage(str(path)).lock(WRITE_LOCK)
        lock.acquire(blocking=True)
        try:
            if not whoosh_index.exists_in(str(path)):
                logger.info("creating a search index in %s", path)
                whoosh_index.create_in(str(path), make_schema())
                (path / VERSION_FILE).write_text(INDEX_VERSION + "\n", encoding="utf-8")
        finally:
            lock.release()
    return SearchIndex(whoosh_index.open_dir(str(path)), path)


# --- searching ---------------------------------------------------------------------------------

def visibility_query(viewer: Viewer) -> query.Query:
    """What ``viewer`` may see, as a query: anonymous → public; members → also internal and network,
    and their own private objects; visitors from peers → network and public."""
    if not viewer.id:
        return query.Term("visibility", "public")
    seen = ["public", "network"] + (["internal"] if viewer.member else [])
    return query.Or([*(query.Term("visibility", v) for v in seen),
                     query.And([query.Term("visibility", "private"), query.Term("author", viewer.id)])])


def hidden_query(viewer: Viewer) -> query.Query:
    """What ``viewer`` may not see (the complement of :func:`visibility_query`), written so that it
    reads only the postings of the hidden visibilities, not every document."""
    if not viewer.id:
        return query.Or([query.Term("visibility", v) for v in VISIBILITIES if v != "public"])
    others_private = query.And([query.Term("visibility", "private"), query.Not(query.Term("author", viewer.id))])
    if viewer.member:
        return others_private
    return query.Or([query.Term("visibility", "internal"), others_private])


def _filters_query(filters: Filters) -> list[query.Query]:
    parts: list[query.Query] = []
    if filters.type:
        parts.append(query.Term("type", filters.type))
    if filters.language:
        parts.append(query.Term("language", filters.language))
    if filters.tag:
        parts.append(query.Term("tags", fold(filters.tag.strip())))
    if filters.since or filters.until:
        parts.append(query.DateRange("updated", filters.since, filters.until))
    if filters.licence:
        parts.append(query.Term("licence", filters.licence))
    if filters.home:
        parts.append(query.Term("home", filters.home))
    return parts


def _parser(schema: fields.Schema) -> qparser.QueryParser:
    """Words, "phrases", prefix*, -exclusions, AND/OR/NOT and groups; no field:, ranges or boosts,
    which a search box has no use for."""
    parser = qparser.MultifieldParser(list(FIELD_BOOSTS), schema, fieldboosts=FIELD_BOOSTS)
    for plugin in (qparser.FieldsPlugin, qparser.RangePlugin, qparser.BoostPlugin, qparser.EveryPlugin,
                   qparser.SingleQuotePlugin):
        parser.remove_plugin_class(plugin)
    parser.add_plugin(qparser.PlusMinusPlugin())
    return parser


def _only_prefixes(text: str) -> str:
    """Keep ``word*`` (a prefix query); any other ``*`` or ``?`` becomes a space, since leading and
    inner wildcards would scan the whole vocabulary (and ``*`` alone would match everything)."""
    def keep_or_blank(match: re.Match) -> str:
        chunk = match.group()
        return chunk if _PREFIX_CHUNK.fullmatch(chunk) else chunk.replace("*", " ").replace("?", " ")
    return _WILDCARD_CHUNK.sub(keep_or_blank, text)


def _rewrite(q: query.Query) -> query.Query:
    """Fold and stem prefix queries (the parser leaves their text as typed)."""
    if isinstance(q, query.Prefix):
        folded = fold(q.text)
        if len(folded) < 2 or not _WORD.fullmatch(folded):
            return query.NullQuery
        if q.fieldname == "tags":
            return query.Prefix("tags", folded, boost=q.boost)
        # Terms are stems, so a prefix typed past a word's stem («σημειώσ*» for «σημειώσεις», stem
        # «σημει») would match nothing: the stems the typed letters could end in count too.
        stems = [query.Term(q.fieldname, folded[:length]) for length in range(max(4, len(folded) - 3), len(folded))]
        return query.Or([query.Prefix(q.fieldname, folded), query.Prefix(q.fieldname, stem(folded)), *stems],
                        boost=q.boost)
    if isinstance(q, (query.Wildcard, query.Every)):  # not expected after _only_prefixes; never run one
        return query.NullQuery
    if isinstance(q, query.Phrase) and q.fieldname == "tags":
        # Tags keep no positions, so a quoted phrase that reached the tags field (a comma inside
        # quotes splits it into tags) asks for all of its words as tags instead.
        return query.And([query.Term("tags", word) for word in q.words], boost=q.boost)
    if q.is_leaf():
        return q
    return q.apply(_rewrite)


def _without_and_not(q: query.Query) -> query.Query:
    """``a AndNot b`` as ``a And Not b``: Whoosh 3.54's AndNot matcher keeps a first document that
    the excluded side has further on (its ``_find_first`` only compares the first ids), so counts
    and hidden sets built on it would be wrong."""
    if isinstance(q, query.AndNot):
        return query.And([_without_and_not(q.a), query.Not(_without_and_not(q.b))], boost=q.boost)
    if q.is_leaf():
        return q
    return q.apply(_without_and_not)


def _prefer_unions(q: query.Query) -> query.Query:
    """Whoosh preloads every matching document of an Or in segments under 5,000 documents (and
    ours are often smaller); a tree of unions lets it skip blocks that cannot reach the top ten."""
    if isinstance(q, query.Or):
        q.matcher_type = query.Or.DEFAULT_MATCHER
    for child in q.children():
        _prefer_unions(child)
    return q


def _positive(q: query.Query) -> bool:
    """Whether the query asks for something, rather than only excluding (``-word`` alone)."""
    if q is query.NullQuery or isinstance(q, query.Not):
        return False
    if isinstance(q, query.AndNot):
        return _positive(q.a)
    if isinstance(q, query.Or):
        return any(_positive(child) for child in q.subqueries)
    if isinstance(q, query.And):
        return any(_positive(child) for child in q.subqueries)
    if q.is_leaf():
        return True
    return any(_positive(child) for child in q.children())


def clean(text: str) -> str:
    """The query text with control characters removed, whitespace collapsed and the length bounded."""
    return " ".join(_CONTROL.sub(" ", text or "").split())[:MAX_QUERY_CHARS]


def parse(schema: fields.Schema, text: str) -> query.Query:
    """The user's query as a Whoosh query (``NullQuery`` when it asks for nothing)."""
    try:
        q = _prefer_unions(_without_and_not(_rewrite(_parser(schema).parse(_only_prefixes(text))).normalize()))
    except Exception:  # the parser on hostile input; fall back to the words alone
        logger.info("query parser failed on %r; searching its words", text, exc_info=True)
        words = analyze(text)
        if not words:
            return query.NullQuery
        q = query.And([query.Or([query.Term(name, w, boost=boost) for name, boost in FIELD_BOOSTS.items()
                                 if name != "tags"]) for w in words])
    return q if _positive(q) else query.NullQuery


def search(index: SearchIndex, query_text: str, *, viewer: Viewer, page: int = 1, per_page: int = 10,
           filters: Filters | None = None, suggest: bool = True, facets: bool = False) -> SearchResults:
    """Search as ``viewer``: the page of hits, the total they may see, and perhaps a suggestion
    (``suggest=False``: none, as for autocompletion while someone types); ``facets``: with the
    counts of all the results by municipality, type, language, tag, licence and age.

    The answers to recent searches are kept until the index changes: a query many people send
    (or one person pages back to) is answered once."""
    text = clean(query_text)
    page = max(1, int(page))
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    filters = filters or Filters()
    with index.searching() as searcher:
        key = (searcher.reader().generation(), viewer, text, page, per_page, filters, suggest, facets)
        found = index.recent.get(key)
        if found is None:
            found = _search(searcher, index.hidden_from(searcher, viewer), text, page, per_page, filters, suggest,
                            index.facet_tables if facets else None)
            index.recent.put(key, found)
    return found


def _search(searcher, hidden: set[int], text: str, page: int, per_page: int, filters: Filters,
            suggest: bool, facet_tables: facet_counts.Tables | None) -> SearchResults:
    user_query = parse(searcher.schema, text)
    if user_query is query.NullQuery:
        return SearchResults(query=text, total=0, page=page, per_page=per_page,
                             facets=Facets() if facet_tables else None)
    # Filters score nothing: they decide which documents count, not their order.
    narrowed = _filters_query(filters)
    if narrowed:
        user_query = query.And([user_query, query.ConstantScoreQuery(query.And(narrowed), score=0.0)])
    wanted = _wanted(user_query)
    ranked = ranking.rank(searcher, user_query, hidden, page * per_page)
    if ranked is not None:  # words alone: ranked over arrays
        total = ranked.total
        hits = [_hit(searcher.stored_fields(number), score, wanted)
                for score, number in ranked.top[(page - 1) * per_page:]]
        matched = ranked.matched
    else:  # phrases, prefixes, filters: Whoosh
        results = searcher.search(user_query, limit=page * per_page, mask=hidden)
        total = len(results)  # Whoosh runs the query again, unscored, to count
        hits = [_hit(hit.fields(), hit.score, wanted) for hit in results[(page - 1) * per_page:page * per_page]]
        matched = None
    found_facets = None
    if facet_tables is not None:
        if matched is None:
            matched = _matched(searcher, user_query, hidden)
        found_facets = facet_tables.of(searcher).count(searcher, matched)
    # A query that finds something is spelt well enough; "did you mean" is for one that finds nothing.
    few = total < SUGGEST_BELOW
    suggestion = _suggestion(searcher, text, hidden, narrowed) if suggest and few else None
    return SearchResults(query=text, total=total, page=page, per_page=per_page, hits=hits, suggestion=suggestion,
                         facets=found_facets)


def _matched(searcher, q: query.Query, hidden: set[int]) -> np.ndarray:
    """By document number: whether it matches the query and the viewer may see it."""
    matched = np.zeros(searcher.reader().doc_count_all(), dtype=bool)
    numbers = np.fromiter(searcher.docs_for_query(q), dtype=np.int64)
    matched[numbers] = True
    if hidden:
        matched[np.fromiter(hidden, dtype=np.int64, count=len(hidden))] = False
    return matched


def _wanted(q: query.Query) -> Wanted:
    """The terms and prefixes of a query's text fields, for marking them in snippets."""
    terms: set[str] = set()
    prefixes: list[str] = []

    def visit(node: query.Query) -> None:
        if isinstance(node, query.Not):  # exclusions are And+Not (see _without_and_not)
            return
        if isinstance(node, query.Prefix) and node.fieldname in ("title", "body"):
            prefixes.append(node.text)
        elif isinstance(node, query.Term) and node.fieldname in ("title", "body"):
            terms.add(node.text)
        elif isinstance(node, query.Phrase) and node.fieldname in ("title", "body"):
            terms.update(node.words)
        for child in node.children():
            visit(child)

    visit(q)
    return Wanted(frozenset(terms), tuple(dict.fromkeys(prefixes)))


def _hit(stored: dict, score: float | None, wanted: Wanted) -> Hit:
    return Hit(uri=stored["uri"], type=stored.get("type", ""), title=stored.get("title", ""),
               snippet=snippet(stored.get("body", ""), wanted), language=stored.get("language", ""),
               tags=[tag for tag in stored.get("tags", "").split(",") if tag],
               updated=stored.get("updated"), home=stored.get("home", ""), score=score or 0.0,
               licence=stored.get("licence", ""))


def _suggestion(searcher, text: str, hidden: set[int], narrowed: list[query.Query]) -> str | None:
    """Replace the words the index does not know with the nearest words it knows, and offer the
    result only if it finds something this viewer may see (so no hidden document's words leak).

    The vocabulary is the index's own terms (stems): a misspelt word's stem is compared with them,
    and the nearest is written back as a word the way a document this viewer may read spells it."""
    changed = False
    words = []
    for word in text.split():
        plain = word.strip("\"'()*")
        if word.startswith("-") or not _WORD.fullmatch(plain) or _known(searcher, plain, hidden):
            words.append(word)
            continue
        better = _nearest_word(searcher, plain, hidden)
        if better is None:
            words.append(word)
            continue
        words.append(word.replace(plain, better))
        changed = True
    if not changed:
        return None
    corrected = " ".join(words)
    corrected_query = parse(searcher.schema, corrected)
    if corrected_query is query.NullQuery:
        return None
    if searcher.search(query.And([corrected_query, *narrowed]), limit=1, mask=hidden).is_empty():
        return None
    return corrected


def _known(searcher, word: str, hidden: set[int]) -> bool:
    """Whether documents this viewer may see have the word (as a tag, or all of its terms): a word
    only hidden documents have counts as unknown, so it is corrected like any other."""
    terms = analyze(word)
    if not terms:
        return True
    if not any(searcher.doc_frequency(name, term) for term in terms for name in ("title", "body")) \
            and not searcher.doc_frequency("tags", fold(word)):
        return False  # in no document at all
    has_tag = query.Term("tags", fold(word))
    has_terms = query.And([query.Or([query.Term("title", term), query.Term("body", term)]) for term in terms])
    return not searcher.search(query.Or([has_tag, has_terms]), limit=1, mask=hidden).is_empty()


def _nearest_word(searcher, word: str, hidden: set[int]) -> str | None:
    """The known term nearest to the word (fewest edits, then most documents), spelt as the first
    document this viewer may see spells it; None if there is none.

    A misspelt word's stem may be cut elsewhere than the right word's («ζαχαροπλαστικισ» stays
    whole, «ζαχαροπλαστικής» → «ζαχαροπλαστ»), so terms near the beginnings of the folded word
    count as well as terms near its stem."""
    terms = analyze(word)
    if len(terms) != 1:
        return None
    folded = fold(word)
    targets = {terms[0]} | {folded[:length] for length in range(max(5, len(folded) - 4), len(folded) + 1)}
    reader = searcher.reader()
    distance: dict[str, int] = {}
    for target in targets:
        for name in ("title", "body"):
            # Candidates share the first letter (few misspellings change it): without that, Whoosh
            # measures the distance to every term of a multi-segment index.
            for candidate in reader.terms_within(name, target, maxdist=2 if len(target) >= 7 else 1, prefix=1):
                edits = damerau_levenshtein(target, candidate)
                distance[candidate] = min(edits, distance.get(candidate, edits))
    ranked = sorted(distance, key=lambda c: (distance[c], -searcher.doc_frequency("body", c), c))
    for candidate in ranked[:5]:
        holders = searcher.search(query.Or([query.Term("title", candidate), query.Term("body", candidate)]),
                                  limit=3, mask=hidden)
        spellings = {spelling for hit in holders for spelling in _spellings(candidate, hit.fields())}
        if spellings:
            return min(spellings, key=lambda spelling: (damerau_levenshtein(folded, fold(spelling)), spelling))
    return None


def _spellings(term: str, stored: dict) -> set[str]:
    """How a document writes the words with this term, lower-cased («Προμήθειες» → «προμήθειες»)."""
    return {word.lower() for word in _WORD.findall(f"{stored.get('title', '')} {stored.get('body', '')}")
            if analyze(word) == [term]}
