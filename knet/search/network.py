"""Network search: this node's own objects, the replicas in its index, and what its peers answer live,
merged into one ranked list.

Each peer that answers in time speaks for its own objects, so this node's copies of them are left out of
its own part (a replica and its home's live hit are one result); for a peer that does not answer, the
copies stand in. The lists are merged by reciprocal rank fusion: BM25 scores from different indexes
are not comparable, ranks are. Asking the peers belongs to `federation`, which registers it here with
:func:`ask_peers_with`; without it a network search is the local index alone.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from flask import Flask, current_app

from knet.search import facets
from knet.search.facets import Count, Facets
from knet.search.index import Filters, Hit, SearchIndex, SearchResults, Viewer, clean, search

#: The deepest result a network search reaches (peers are asked for at most this many each).
DEPTH = 100
#: Reciprocal rank fusion's constant: a result's weight is 1 / (K + its rank in its list).
K = 60


@dataclass(frozen=True)
class Question:
    """What peers are asked: the words, the filters, and how many results each should give."""

    text: str
    filters: Filters
    limit: int
    #: Whether the person asking is signed in (peers answer `network` and `public` objects) or not (`public`).
    signed_in: bool


@dataclass(frozen=True)
class Answer:
    """One peer's answer: its own objects, best first."""

    home: str  #: the peer's URL
    total: int
    hits: list[Hit]
    facets: Facets = field(default_factory=Facets)


@dataclass(frozen=True)
class Replies:
    answers: list[Answer]
    #: The names of the peers that did not answer in time (or are being left to recover).
    silent: list[str] = field(default_factory=list)


AskPeers = Callable[[Question], Replies]
ASKER = "knet.search.ask_peers"


def ask_peers_with(app: Flask, ask: AskPeers) -> None:
    """Let federation answer network searches' questions to peers."""
    app.extensions[ASKER] = ask


def network_search(index: SearchIndex, text: str, *, viewer: Viewer, page: int, per_page: int,
                   filters: Filters) -> SearchResults:
    """Search this node and its peers as ``viewer`` (with ``home`` unset): one page of the merged
    results, their total and facets, and the peers that did not answer."""
    own = current_app.config["KNET"]["url"]
    depth = min(page * per_page, DEPTH)
    ask = current_app.extensions.get(ASKER)
    replies = Replies([])
    if ask is not None and clean(text) and filters.home != own:
        replies = ask(Question(clean(text), filters, depth, signed_in=viewer.id is not None))
    answered = frozenset(answer.home for answer in replies.answers)
    local = search(index, text, viewer=replace(viewer, home=None, not_homes=answered), page=1, per_page=depth,
                   filters=filters, facets=True)
    fused = fuse([local.hits, *(answer.hits for answer in replies.answers)])
    return SearchResults(query=local.query, total=local.total + sum(answer.total for answer in replies.answers),
                         page=page, per_page=per_page, hits=fused[(page - 1) * per_page:page * per_page],
                         suggestion=local.suggestion if not fused else None,
                         facets=facets.merged([local.facets or Facets(), *_with_homes(replies.answers)]),
                         silent=tuple(replies.silent))


def _with_homes(answers: list[Answer]) -> list[Facets]:
    """Each answer's facets, with its home counted (a peer answers for its own objects only)."""
    return [Facets({**answer.facets.counts, "home": [Count(answer.home, answer.total)]} if answer.total
                   else answer.facets.counts) for answer in answers]


def fuse(lists: list[list[Hit]]) -> list[Hit]:
    """Several ranked lists as one, by reciprocal rank fusion; each URI once, where it ranks best.
    Equal weights keep the order of the lists (this node's first)."""
    weights: dict[str, float] = {}
    first: dict[str, tuple[int, int, Hit]] = {}
    for list_number, hits in enumerate(lists):
        for rank, hit in enumerate(hits, start=1):
            weights[hit.uri] = weights.get(hit.uri, 0.0) + 1.0 / (K + rank)
            if hit.uri not in first:
                first[hit.uri] = (rank, list_number, hit)
    order = sorted(first, key=lambda uri: (-weights[uri], first[uri][0], first[uri][1]))
    return [first[uri][2] for uri in order]
