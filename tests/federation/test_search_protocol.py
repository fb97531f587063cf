"""The federated search wire format (federation.search_protocol): what a peer's answer may bring into this
node's pages, and what is left out."""
from __future__ import annotations

import pytest

from federation.protocol import Malformed
from federation.search_protocol import parse_answer, question_url, safe_snippet
from knet.search import Filters
from knet.search.network import Question
from tests.xss import XSS_FILES, dangers, payloads

PEER = "http://127.0.0.1:5001"


def result(**fields) -> dict:
    return {"uri": f"{PEER}/wiki/odigos", "type": "page", "title": "Οδηγός", "snippet": "Ο <mark>οδηγός</mark>.",
            "language": "el", "tags": ["ανακύκλωση"], "licence": "CC-BY-4.0", "updated": "2026-11-20T10:00:00+00:00",
            "home": PEER, "rank": 1, **fields}


def answer(*results, total: int | None = None, facets=None) -> dict:
    return {"type": "knet:SearchAnswer", "node": PEER, "total": len(results) if total is None else total,
            "results": list(results), "facets": facets or {}}


def test_an_answer_becomes_hits_of_the_peer_in_rank_order():
    parsed = parse_answer(answer(result(rank=2, uri=f"{PEER}/wiki/b", title="Β"), result(rank=1, title="Α")), PEER)
    assert [hit.title for hit in parsed.hits] == ["Α", "Β"]
    first = parsed.hits[0]
    assert first.home == PEER and first.snippet == "Ο <mark>οδηγός</mark>." and first.licence == "CC-BY-4.0"
    assert first.updated.isoformat() == "2026-11-20T10:00:00" and parsed.total == 2


def test_results_that_are_not_the_peers_own_objects_are_left_out():
    parsed = parse_answer(answer(result(uri="http://127.0.0.1:5002/wiki/other"), result(uri="javascript:alert(1)"),
                                 result(type="poll"), result(uri=42), result(), total=5), PEER)
    assert [hit.uri for hit in parsed.hits] == [f"{PEER}/wiki/odigos"]
    # A home the answer claims counts for nothing: the home is the peer that answered.
    assert parse_answer(answer(result(home="http://evil.example")), PEER).hits[0].home == PEER


@pytest.mark.parametrize("document", [None, [], "text", {"type": "Note"}, {"type": "knet:SearchAnswer"},
                                      {"type": "knet:SearchAnswer", "total": -1, "results": []},
                                      {"type": "knet:SearchAnswer", "total": True, "results": []},
                                      {"type": "knet:SearchAnswer", "total": 1, "results": {}}])
def test_what_is_not_an_answer_is_refused_with_a_reason(document):
    with pytest.raises(Malformed) as refused:
        parse_answer(document, PEER)
    assert refused.value.reason == "not-an-answer"


def test_odd_fields_are_dropped_not_trusted():
    parsed = parse_answer(answer(result(language="fr", licence="GPL", tags=["ok", 3, "", "x" * 300],
                                        updated="yesterday", title=["not", "text"])), PEER)
    hit = parsed.hits[0]
    assert (hit.language, hit.licence, hit.updated, hit.title) == ("", "", None, "")
    assert hit.tags == ["ok", "x" * 100]
    facets = parse_answer(answer(result(), facets={"type": [{"value": "page", "count": 1},
                                                            {"value": "x", "count": "many"},
                                                            {"value": "y", "count": True}]}), PEER).facets
    assert [(c.value, c.count) for c in facets.get("type")] == [("page", 1)]


@pytest.mark.parametrize("name", XSS_FILES)
def test_no_snippet_from_the_corpus_can_run_on_a_page(corpus, name):
    for payload in payloads(corpus, name):
        html = safe_snippet(f"<mark>{payload}</mark> {payload}")
        assert dangers(f"<p>{html}</p>") == [], payload
        assert "<" not in html.replace("<mark>", "").replace("</mark>", ""), payload


def test_marks_stay_only_where_they_pair():
    assert safe_snippet("a <mark>b</mark> c") == "a <mark>b</mark> c"
    assert safe_snippet("</mark>a <mark>b") == "a <mark>b</mark>"
    assert safe_snippet("<mark><mark>b</mark></mark>") == "<mark>b</mark>"
    assert safe_snippet("a &amp; b &lt;i&gt;") == "a &amp; b &lt;i&gt;"
    assert safe_snippet(None) == ""


def test_the_question_carries_the_words_filters_and_audience():
    url = question_url(PEER, Question("δήμος & κάδοι", Filters(type="page", language="el", licence="CC0-1.0"), 20,
                                      signed_in=False))
    assert url.startswith(f"{PEER}/federation/search?q=")
    assert "audience=public" in url and "type=page" in url and "lang=el" in url and "licence=CC0-1.0" in url
    assert "limit=20" in url and "%26" in url and "home" not in url
