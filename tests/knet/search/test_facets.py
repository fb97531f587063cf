"""Facets: counts of all of a search's results (not only the page shown) by municipality, type, language,
tag, licence and age, on the search page and in the API; never counting what the viewer may not see."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

import pytest

from knet.search import SearchDocument, Viewer, search
from knet.search.facets import Facets, merged
from knet.search.indexing import node_index

PEER = "http://127.0.0.1:5999"


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@pytest.fixture
def documents(app):
    own = app.config["KNET"]["url"]
    docs = []
    for number in range(23):  # more than a page
        docs.append(SearchDocument(uri=f"{own}/wiki/p{number}", type="page" if number % 3 else "question",
                                   title=f"Κάδοι ανακύκλωσης {number}", body="Ανακύκλωση στον δήμο.",
                                   language="el" if number % 2 else "en", visibility="public", home=own,
                                   tags=("ανακύκλωση",) + (("κάδοι",) if number < 5 else ()),
                                   licence="CC-BY-4.0" if number % 2 else "CC0-1.0",
                                   updated=now() - timedelta(days=number * 20)))
    docs.append(SearchDocument(uri=f"{own}/wiki/secret", type="course", title="Ανακύκλωση μυστική",
                               body="Ανακύκλωση.", language="el", visibility="internal", home=own,
                               tags=("μυστικό",), licence="all-rights-reserved", updated=now()))
    docs.append(SearchDocument(uri=f"{PEER}/wiki/copy", type="page", title="Ανακύκλωση αλλού", body="Ανακύκλωση.",
                               language="el", visibility="public", home=PEER, updated=now()))
    with node_index().writer() as writer:
        for doc in docs:
            writer.upsert(doc)
    return own


def counts(facets: Facets, name: str) -> dict[str, int]:
    return {c.value: c.count for c in facets.get(name)}


def test_facets_count_every_result_the_viewer_may_see(app, documents):
    found = search(node_index(), "ανακύκλωση", viewer=Viewer(home=documents), per_page=10, facets=True)
    assert found.total == 23 and len(found.hits) == 10
    assert counts(found.facets, "type") == {"page": 15, "question": 8}
    assert counts(found.facets, "language") == {"en": 12, "el": 11}
    assert counts(found.facets, "tag") == {"ανακύκλωση": 23, "κάδοι": 5}
    assert counts(found.facets, "licence") == {"CC0-1.0": 12, "CC-BY-4.0": 11}
    assert counts(found.facets, "home") == {documents: 23}
    # Ages are cumulative: 0, 20 days old in the month; up to 360 days in the year; the rest older.
    assert counts(found.facets, "updated") == {"week": 1, "month": 2, "year": 19, "older": 4}
    # The internal course, its tag and its licence are nobody's business but staff's.
    assert "course" not in counts(found.facets, "type") and "μυστικό" not in counts(found.facets, "tag")
    staff = search(node_index(), "ανακύκλωση", viewer=Viewer("1", home=documents), facets=True)
    assert counts(staff.facets, "type")["course"] == 1 and counts(staff.facets, "tag")["μυστικό"] == 1


def test_facets_follow_filters_phrases_and_deletions(app, documents):
    narrowed = search(node_index(), '"κάδοι ανακύκλωσης"', viewer=Viewer(home=documents), facets=True)
    assert narrowed.total == 23 and counts(narrowed.facets, "type") == {"page": 15, "question": 8}
    with node_index().writer() as writer:
        writer.delete(f"{documents}/wiki/p0")
    after = search(node_index(), "ανακύκλωση", viewer=Viewer(home=documents), facets=True)
    assert after.total == 22 and counts(after.facets, "question") == {} and counts(after.facets, "type")["question"] == 7
    nothing = search(node_index(), "ανύπαρκτη", viewer=Viewer(home=documents), facets=True)
    assert nothing.total == 0 and nothing.facets.counts == {}


def test_network_scope_counts_the_copies_by_home(app, documents):
    found = search(node_index(), "ανακύκλωση", viewer=Viewer(), facets=True)
    assert counts(found.facets, "home") == {documents: 23, PEER: 1}


def test_merging_adds_counts_and_keeps_the_most_frequent_tags_first():
    first = Facets.from_json({"tag": [{"value": "α", "count": 2}], "updated": [{"value": "year", "count": 3}]})
    second = Facets.from_json({"tag": [{"value": "β", "count": 5}, {"value": "α", "count": 1}],
                               "updated": [{"value": "older", "count": 1}, {"value": "week", "count": 1}]})
    total = merged([first, second])
    assert [(c.value, c.count) for c in total.get("tag")] == [("β", 5), ("α", 3)]
    assert [c.value for c in total.get("updated")] == ["week", "year", "older"]


def facet_links(page: str) -> dict[str, str]:
    """The facet links of a search page: their text (without the count) → where they lead."""
    nav = page.split('class="facets"', 1)[1].split("</nav>", 1)[0]
    return {re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).split(" (")[0].strip(" ✓"): html.unescape(href)
            for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', nav, re.S)}


def test_the_search_page_offers_facets_that_narrow_and_widen_again(client, documents):
    page = client.get("/search?q=ανακύκλωση").get_data(as_text=True)
    links = facet_links(page)
    assert "(15)" in page and "CC0 1.0" in links
    narrowed = client.get(links["CC0 1.0"]).get_data(as_text=True)
    assert "12 " in narrowed.split('role="status"', 1)[1][:300]
    chosen = facet_links(narrowed)["CC0 1.0"]
    assert 'aria-current="true"' in narrowed and "licence" not in chosen  # following it again removes it
    # The age brackets narrow by date: "more than a year ago" is the one that sets `until`.
    [older] = [href for href in links.values() if "until=" in href]
    assert "4 " in client.get(older).get_data(as_text=True).split('role="status"', 1)[1][:300]


def test_the_api_narrows_by_licence_and_home(client, documents):
    body = client.get("/api/v1/search", query_string={"q": "ανακύκλωση", "licence": "CC0-1.0", "per_page": 50}).json
    assert body["total"] == 12 and {hit["licence"] for hit in body["results"]} == {"CC0-1.0"}
    network = client.get("/api/v1/search", query_string={"q": "ανακύκλωση", "scope": "network", "home": PEER}).json
    assert [hit["uri"] for hit in network["results"]] == [f"{PEER}/wiki/copy"]
