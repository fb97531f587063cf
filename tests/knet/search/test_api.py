"""GET /api/v1/search: the JSON shape, filters, pagination, visibility and hostile input."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from knet import jobs
from knet.search import SearchDocument, Viewer
from knet.search.api import set_api_viewer
from knet.search.indexing import node_index

FIELDS = ["uri", "type", "title", "snippet", "language", "tags", "licence", "updated", "home", "score"]


@pytest.fixture
def pages(make_user, make_page):
    maria = make_user("maria", role="editor")
    make_page(maria, "Προμήθειες του Δήμου", "Οι προμήθειες γίνονται με ηλεκτρονικό διαγωνισμό.",
              visibility="public", tags=["προμήθειες", "ΚΕΠ"])
    make_page(maria, "Procurement rules", "The procurement rule for municipal supplies.", visibility="public",
              language="en")
    make_page(maria, "Εσωτερικές προμήθειες", "Εσωτερικές οδηγίες για τις προμήθειες.", visibility="internal")
    make_page(maria, "Σημειώσεις", "Ιδιωτικές σημειώσεις για προμήθειες.", visibility="private")
    jobs.run_pending()
    return {"maria": maria}


def test_search_returns_the_documented_shape(client, pages, app):
    response = client.get("/api/v1/search", query_string={"q": "ΠΡΟΜΗΘΕΙΑ"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.json
    assert list(body) == ["query", "total", "page", "results", "suggestion", "facets", "silent"]
    assert body["query"] == "ΠΡΟΜΗΘΕΙΑ" and body["total"] == 1 and body["page"] == 1
    assert body["suggestion"] is None
    [result] = body["results"]
    assert list(result) == FIELDS
    base = app.config["KNET"]["url"]
    assert result["uri"].startswith(f"{base}/pages/") and result["home"] == base
    assert result["type"] == "page" and result["title"] == "Προμήθειες του Δήμου" and result["language"] == "el"
    assert sorted(result["tags"]) == ["κεπ", "προμήθειες"]
    assert "<mark" in result["snippet"]
    assert datetime.fromisoformat(result["updated"]).utcoffset() is not None
    assert isinstance(result["score"], float) and result["score"] > 0
    assert result["licence"] == "CC-BY-4.0"
    # This node's search has no peers to wait for; its facets count the one result.
    assert body["silent"] == []
    assert body["facets"]["type"] == [{"value": "page", "count": 1}]
    assert body["facets"]["language"] == [{"value": "el", "count": 1}]
    assert body["facets"]["licence"] == [{"value": "CC-BY-4.0", "count": 1}]
    assert body["facets"]["updated"][0] == {"value": "week", "count": 1}


def test_api_search_sees_what_the_token_owner_may_see(client, pages, make_token):
    body = client.get("/api/v1/search?q=προμήθειες").json
    assert body["total"] == 1 and [r["title"] for r in body["results"]] == ["Προμήθειες του Δήμου"]
    # With a personal token, a person finds what they may read, their own private pages included.
    body = client.get("/api/v1/search?q=προμήθειες", headers=make_token(pages["maria"], "read")).json
    assert sorted(r["title"] for r in body["results"]) == ["Εσωτερικές προμήθειες", "Προμήθειες του Δήμου",
                                                           "Σημειώσεις"]
    assert client.get("/api/v1/search?q=προμήθειες", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/v1/search?q=σημειώσεις").json == {
        "query": "σημειώσεις", "total": 0, "page": 1, "results": [], "suggestion": None, "facets": {}, "silent": []}


def test_a_registered_viewer_loader_widens_the_scope(client, pages, app):
    set_api_viewer(app, lambda: Viewer(str(pages["maria"].id)))
    titles = sorted(r["title"] for r in client.get("/api/v1/search?q=προμήθειες").json["results"])
    assert titles == ["Εσωτερικές προμήθειες", "Προμήθειες του Δήμου", "Σημειώσεις"]


def test_filters_pagination_and_suggestion(client, pages):
    assert [r["title"] for r in client.get("/api/v1/search?q=procurement OR προμήθειες&lang=en").json["results"]] == [
        "Procurement rules"]
    assert client.get("/api/v1/search?q=προμήθειες&tag=κεπ").json["total"] == 1
    assert client.get("/api/v1/search?q=προμήθειες&type=question").json["total"] == 0
    body = client.get("/api/v1/search?q=procurement OR προμήθειες&per_page=1&page=2").json
    assert body["total"] == 2 and body["page"] == 2 and len(body["results"]) == 1
    assert client.get("/api/v1/search?q=προμήθειες&page=5").json["results"] == []
    assert client.get("/api/v1/search?q=προμηθιες").json["suggestion"] == "προμήθειες"


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=0", "per_page=101", "page=", "page=9999999"])
def test_bad_pagination_is_a_problem_document(client, pages, query):
    response = client.get(f"/api/v1/search?q=δήμος&{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json" and response.json["status"] == 400


@pytest.mark.parametrize("query", ["", '"δήμος', "*", "-", "AND", "\x00", "\x01δήμος\x7f", "x" * 5000,
                                   "".join(chr(33 + n * 31 % 90) for n in range(2000)).replace('"', "")])
def test_any_query_is_answered(client, pages, query):
    response = client.get("/api/v1/search", query_string={"q": query, "tag": query})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.json["total"] >= 0


def test_an_unknown_scope_is_a_clear_400(client, pages):
    response = client.get("/api/v1/search", query_string={"q": "x", "scope": "galaxy"})
    assert response.status_code == 400 and response.json["field"] == "scope" and "galaxy" in response.json["detail"]
    assert client.get("/api/v1/search", query_string={"q": "x", "scope": "network"}).status_code == 200


def test_search_is_described_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/search"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"q", "type", "lang", "tag", "licence", "home", "since", "until", "scope", "page",
                               "per_page"}
    assert parameters["scope"]["schema"]["enum"] == ["local", "network"]
    for name in ("since", "until"):
        assert parameters[name]["schema"]["format"] == "date" and "UTC" in parameters[name]["description"]
    assert "since" in operation["responses"]["400"]["description"]
    assert "SearchResults" in spec["components"]["schemas"]
    suggestions = spec["paths"]["/search/suggestions"]["get"]["responses"]["200"]["content"]["application/json"]
    assert suggestions["schema"] == {"$ref": "#/components/schemas/Suggestions"}
    shape = spec["components"]["schemas"]["Suggestions"]["properties"]
    assert list(shape) == ["query", "suggestions", "results"]
    assert list(shape["results"]["items"]["properties"]) == ["title", "uri", "link", "type", "language"]


def test_suggestions_complete_the_last_word_among_readable_titles(client, pages, make_token, app):
    body = client.get("/api/v1/search/suggestions?q=προμηθ").json
    # The first shape (query, suggestions) is kept; `results` adds where each title leads.
    [result] = body.pop("results")
    assert body == {"query": "προμηθ", "suggestions": ["Προμήθειες του Δήμου"]}
    assert result["title"] == "Προμήθειες του Δήμου" and result["type"] == "page" and result["language"] == "el"
    assert re.fullmatch(r"/pages/\d+", result["link"]) and result["uri"] == app.config["KNET"]["url"] + result["link"]
    mine = client.get("/api/v1/search/suggestions?q=ΠΡΟΜΗΘ", headers=make_token(pages["maria"], "read")).json
    assert sorted(mine["suggestions"]) == ["Εσωτερικές προμήθειες", "Προμήθειες του Δήμου", "Σημειώσεις"]
    assert [r["title"] for r in mine["results"]] == mine["suggestions"]  # best first, in both
    for odd in ("", "   ", "*", '"', "\x00", "-", "δ" * 3000):
        response = client.get("/api/v1/search/suggestions", query_string={"q": odd})
        assert response.status_code == 200 and isinstance(response.json["suggestions"], list)
        assert isinstance(response.json["results"], list)


def test_the_api_ignores_the_session_for_suggestions(client, pages, sign_in):
    """A cookie proves nothing to the API; the page's own /search/suggestions is what sees it."""
    sign_in(pages["maria"])
    assert client.get("/api/v1/search/suggestions?q=προμηθ").json["suggestions"] == ["Προμήθειες του Δήμου"]
    assert len(client.get("/search/suggestions?q=προμηθ").json["suggestions"]) == 3


@pytest.fixture
def dated(app):
    """Public minutes whose last change falls on known moments (UTC)."""
    base = app.config["KNET"]["url"]
    moments = [datetime(2026, 1, 15, 12, tzinfo=timezone.utc), datetime(2026, 3, 31, 23, 59, 59, tzinfo=timezone.utc),
               datetime(2026, 4, 1, tzinfo=timezone.utc)]
    with node_index().writer() as writer:
        for number, moment in enumerate(moments, start=1):
            writer.upsert(SearchDocument(uri=f"{base}/pages/{number}", type="page", title=f"Πρακτικά {number}",
                                         body="Πρακτικά συνεδρίασης.", visibility="public", home=base, updated=moment))
    return moments


@pytest.mark.parametrize(("dates", "titles"), [
    ({"since": "2026-03-31", "until": "2026-03-31"}, ["Πρακτικά 2"]),
    ({"since": "2026-02-01", "until": "2026-03-31"}, ["Πρακτικά 2"]),
    ({"since": "2026-04-01"}, ["Πρακτικά 3"]),
    ({"until": "2026-03-31"}, ["Πρακτικά 1", "Πρακτικά 2"]),
    ({"since": "", "until": ""}, ["Πρακτικά 1", "Πρακτικά 2", "Πρακτικά 3"]),
    ({"since": "2030-01-01"}, []),
])
def test_date_filters_include_whole_days_in_utc(client, dated, dates, titles):
    body = client.get("/api/v1/search", query_string={"q": "πρακτικά", **dates}).json
    assert sorted(r["title"] for r in body["results"]) == titles and body["total"] == len(titles)
    for result in body["results"]:
        day = datetime.fromisoformat(result["updated"]).date().isoformat()
        assert dates.get("since", "") <= day and (not dates.get("until") or day <= dates["until"])


@pytest.mark.parametrize(("dates", "field"), [
    ({"since": "2026-02-30"}, "since"), ({"until": "31/03/2026"}, "until"), ({"since": "20260331"}, "since"),
    ({"until": "2026-03-31T00:00:00Z"}, "until"), ({"since": "\x00"}, "since"),
    ({"since": "2026-04-01", "until": "2026-03-31"}, "since"),
])
def test_a_bad_date_is_a_problem_document(client, dated, dates, field):
    response = client.get("/api/v1/search", query_string={"q": "πρακτικά", **dates},
                          headers={"Accept-Language": "en"})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["status"] == 400 and problem["field"] == field
    assert "YYYY-MM-DD" in problem["detail"] or "is later than" in problem["detail"], problem
