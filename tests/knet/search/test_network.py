"""Merging the ranked lists of a network search (knet.search.network.fuse): ranks, not scores, decide, and
each object is one result."""
from __future__ import annotations

from knet.search import Hit
from knet.search.network import fuse


def hit(uri: str, score: float = 1.0) -> Hit:
    return Hit(uri=uri, type="page", title=uri, snippet="", language="el", tags=[], updated=None, home="", score=score)


def uris(hits: list[Hit]) -> list[str]:
    return [h.uri for h in hits]


def test_lists_interleave_by_rank_whatever_their_scores():
    own = [hit("a1", 0.1), hit("a2", 0.05)]
    peer = [hit("b1", 900.0), hit("b2", 800.0)]  # another index's BM25: larger numbers, no better
    assert uris(fuse([own, peer])) == ["a1", "b1", "a2", "b2"]


def test_an_object_in_two_lists_is_one_result_and_ranks_higher():
    own = [hit("x"), hit("shared")]
    peer = [hit("shared"), hit("y")]
    fused = fuse([own, peer])
    assert uris(fused) == ["shared", "x", "y"]
    assert len(fused) == len(set(uris(fused)))


def test_empty_lists_and_one_list_keep_the_order():
    assert uris(fuse([[], [hit("a"), hit("b")], []])) == ["a", "b"]
    assert fuse([]) == []
