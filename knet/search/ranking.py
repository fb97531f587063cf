"""Ranking word queries with arrays: BM25F over postings kept per segment.

Whoosh scores a query one document at a time in Python, which for words found in thousands of
documents costs most of a search. The queries people type are words joined by and, or and not,
each word looked for in several boosted fields; those are ranked here instead. A segment's
postings for a term are read once into numpy arrays and kept (a segment never changes: merges
write new ones; deletions are read afresh each time), and so are its field lengths. Scoring,
and/or/not and the documents the viewer may not see are then array operations over the whole
index. Phrases, prefixes and filters are left to Whoosh (:func:`rank` returns None). Exclusions
come as And+Not (knet.search.index never sends Whoosh's AndNot).

The scores are Whoosh's BM25F: the same idf, the same encoded field lengths, the same boosts, so
both paths rank alike (a test compares them).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.util.numeric import byte_to_length

#: BM25 parameters, as Whoosh's BM25F defaults.
B, K1 = 0.75, 1.2
#: Bytes of postings arrays kept per process; the least recently used go first.
CACHE_BYTES = 96 * 2**20
_LENGTH_OF_BYTE = np.array([byte_to_length(code) for code in range(256)], dtype=np.float64)


@dataclass(frozen=True)
class Ranked:
    total: int
    top: list[tuple[float, int]]  #: (score, document number), best first
    matched: np.ndarray  #: by document number: whether it is a result (the viewer may see it)


class _Postings:
    """Arrays kept between searches: (segment, field, term) → (document numbers, frequencies), and
    (segment, field) → lengths; bounded by bytes."""

    def __init__(self, limit: int):
        self._limit = limit
        self._used = 0
        self._arrays: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, load):
        with self._lock:
            found = self._arrays.get(key)
            if found is not None:
                self._arrays.move_to_end(key)
                return found
        found = load()
        size = sum(array.nbytes for array in found) if isinstance(found, tuple) else found.nbytes
        with self._lock:
            if key not in self._arrays:
                self._arrays[key] = found
                self._used += size
                while self._used > self._limit and len(self._arrays) > 1:
                    _, dropped = self._arrays.popitem(last=False)
                    self._used -= sum(a.nbytes for a in dropped) if isinstance(dropped, tuple) else dropped.nbytes
        return found


_kept = _Postings(CACHE_BYTES)


def rank(searcher, q: query.Query, hidden: set[int], limit: int) -> Ranked | None:
    """The total and the best ``limit`` documents for a word query outside ``hidden``, or None
    when the query is not made of words alone."""
    if not _supported(q):
        return None
    reader = searcher.reader()
    size = reader.doc_count_all()
    leaves = reader.leaf_readers()
    matched, scores = _evaluate(searcher, leaves, size, q)
    valid = matched.copy()
    for leaf, offset in leaves:
        deleted = getattr(leaf, "deleted_docs_set", None)  # an empty index's reader has none
        if deleted:
            valid[offset + np.fromiter(deleted, dtype=np.int64, count=len(deleted))] = False
    if hidden:
        valid[np.fromiter(hidden, dtype=np.int64, count=len(hidden))] = False
    candidates = np.flatnonzero(valid)
    total = int(candidates.size)
    if limit < total:
        # The best ``limit`` by score; among equal scores the lower document number, as Whoosh.
        best = np.argpartition(-scores[candidates], limit - 1)[:limit]
        threshold = scores[candidates[best]].min()
        candidates = candidates[scores[candidates] >= threshold]
    order = np.lexsort((candidates, -scores[candidates]))[:limit]
    return Ranked(total, [(float(scores[candidates[i]]), int(candidates[i])) for i in order], valid)


def _supported(q: query.Query) -> bool:
    if isinstance(q, query.Term):
        return True
    if isinstance(q, query.Not):
        return _supported(q.query)
    if type(q) in (query.And, query.Or):
        positive = [child for child in q.subqueries if not isinstance(child, query.Not)]
        return bool(positive) and all(_supported(child) for child in q.subqueries) and (
            isinstance(q, query.And) or len(positive) == len(q.subqueries))
    return False


def _evaluate(searcher, leaves, size: int, q: query.Query) -> tuple[np.ndarray, np.ndarray]:
    """(which documents match, their scores) over the whole index."""
    if isinstance(q, query.Term):
        return _term(searcher, leaves, size, q)
    if isinstance(q, query.Or):
        matched, scores = np.zeros(size, dtype=bool), np.zeros(size)
        for child in q.subqueries:
            child_matched, child_scores = _evaluate(searcher, leaves, size, child)
            matched |= child_matched
            scores += child_scores
        return matched, scores
    # And: every positive child matches and no excluded one; the score is the sum.
    matched, scores = np.ones(size, dtype=bool), np.zeros(size)
    for child in q.subqueries:
        if isinstance(child, query.Not):
            excluded, _ = _evaluate(searcher, leaves, size, child.query)
            matched &= ~excluded
        else:
            child_matched, child_scores = _evaluate(searcher, leaves, size, child)
            matched &= child_matched
            scores += child_scores
    return matched, scores


def _term(searcher, leaves, size: int, q: query.Term) -> tuple[np.ndarray, np.ndarray]:
    matched, scores = np.zeros(size, dtype=bool), np.zeros(size)
    field, text = q.fieldname, q.text
    if (field, text) not in searcher.reader():
        return matched, scores
    parent = searcher.get_parent()
    idf = parent.idf(field, text)
    average = parent.avg_field_length(field) or 1
    for leaf, offset in leaves:
        if (field, text) not in leaf:
            continue
        segment = leaf.segment().segment_id()
        ids, frequencies = _kept.get((segment, field, text), lambda: _read_postings(leaf, field, text))
        lengths = _kept.get((segment, field), lambda: _read_lengths(leaf, field))[ids]
        contribution = idf * (frequencies * (K1 + 1)) / (frequencies + K1 * ((1 - B) + B * lengths / average))
        matched[offset + ids] = True
        scores[offset + ids] += contribution * q.boost
    return matched, scores


def _read_postings(leaf, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """A segment's postings of a term, deletions included (they are removed at query time)."""
    matcher = leaf._terms.matcher(field, leaf._text_to_bytes(field, text), leaf.schema[field].format)
    ids, frequencies = [], []
    if isinstance(matcher, W3LeafMatcher):
        while True:  # block by block: each block's numbers and weights are arrays already
            matcher._read_ids()
            matcher._read_weights()
            ids.append(np.asarray(matcher._ids, dtype=np.int64))
            frequencies.append(np.asarray(matcher._weights, dtype=np.float64))
            if matcher._lastblock:
                break
            matcher._goto(matcher._nextoffset)
        return np.concatenate(ids), np.concatenate(frequencies)
    while matcher.is_active():  # another codec: the generic, slower way
        ids.append(matcher.id())
        frequencies.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(frequencies, dtype=np.float64)


def _read_lengths(leaf, field: str) -> np.ndarray:
    """A segment's encoded field lengths, decoded as Whoosh decodes them."""
    count = leaf.doc_count_all()
    column = leaf._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
    if column is None:
        return np.zeros(count)
    codes = np.fromiter(column, dtype=np.uint8, count=count)
    return _LENGTH_OF_BYTE[codes]
