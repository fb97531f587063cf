"""/api/v1/pages as an API client sees it: status codes, fields, problem documents, no half-done writes."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, text

from auth import services as auth_services
from knet.db import db
from wiki.models import Link, Page, Redirect, Revision, Tag

PAGE_FIELDS = {"slug", "title", "body", "html", "language", "tags", "visibility", "licence", "revision", "updated",
               "author", "url"}
KIB = 1024



def db_state() -> tuple:
    """Everything a failed request must leave as it was, read through a connection of its own."""
    with db.engine.connect() as conn:
        counts = tuple(conn.scalar(select(func.count()).select_from(table))
                       for table in (Page.__table__, Revision.__table__, Link.__table__, Redirect.__table__,
                                     Tag.__table__))
        pages = conn.execute(select(Page.slug, Page.title, Page.revision, Page.visibility, Page.licence,
                                    Page.deleted_at).order_by(Page.id)).all()
        tokens = conn.execute(text("SELECT id, revoked_at FROM api_tokens ORDER BY id")).all()
    return counts, pages, tokens


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status
    assert body["title"]
    detail = body["detail"]
    assert isinstance(detail, str) and len(detail) > 10 and detail.rstrip().endswith((".", "!", "?", ";")), detail
    return body


@pytest.fixture
def maria(make_user):
    return make_user("maria", role="editor")


@pytest.fixture
def write(maria, make_token):
    return make_token(maria, "write")


@pytest.fixture
def page(maria, make_page):
    return make_page(maria, "Άδειες προσωπικού", "Πρώτη έκδοση.", tags=["Προσωπικό"], visibility="public")


def put(client, page_slug, headers, **fields):
    return client.put(f"/api/v1/pages/{quote(page_slug)}", json=fields, headers=headers)


# Reading ---------------------------------------------------------------------------------------

def test_get_one_page_has_exactly_the_documented_fields(client, page):
    response = client.get(f"/api/v1/pages/{quote(page.slug)}")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = response.json
    assert set(data) == PAGE_FIELDS
    assert data["slug"] == "αδειες-προσωπικου"
    assert data["title"] == "Άδειες προσωπικού"
    assert data["body"] == "Πρώτη έκδοση."
    assert data["html"] == "<p>Πρώτη έκδοση.</p>"
    assert (data["language"], data["visibility"], data["licence"]) == ("el", "public", "CC-BY-4.0")
    assert data["tags"] == ["προσωπικό"]
    assert data["revision"] == 1
    assert data["author"] == "maria"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00\Z", data["updated"])
    assert client.get(data["url"]).status_code == 200


def test_list_is_paginated_and_links_work(client, maria, make_page):
    for n in range(5):
        make_page(maria, f"Σελίδα {n}", "…", visibility="public")
    first = client.get("/api/v1/pages?per_page=2").json
    assert (first["page"], first["per_page"], first["total"], first["prev"]) == (1, 2, 5, None)
    assert [p["title"] for p in first["items"]] == ["Σελίδα 4", "Σελίδα 3"]
    assert all(set(item) == PAGE_FIELDS for item in first["items"])
    second = client.get(first["next"]).json
    third = client.get(second["next"]).json
    assert [p["title"] for p in second["items"] + third["items"]] == ["Σελίδα 2", "Σελίδα 1", "Σελίδα 0"]
    assert third["next"] is None
    assert client.get(third["prev"]).json == second


def test_list_and_count_only_what_the_reader_may_see(client, maria, make_page, make_user, make_token):
    make_page(maria, "Δημόσια", "…", visibility="public")
    make_page(maria, "Εσωτερική", "…", visibility="internal")
    make_page(maria, "Ιδιωτική", "…", visibility="private", licence="all-rights-reserved")
    anonymous = client.get("/api/v1/pages").json
    assert ([p["title"] for p in anonymous["items"]], anonymous["total"]) == (["Δημόσια"], 1)
    nikos = make_token(make_user("nikos", role="editor"), "read")
    colleague = client.get("/api/v1/pages", headers=nikos).json
    assert ({p["title"] for p in colleague["items"]}, colleague["total"]) == ({"Δημόσια", "Εσωτερική"}, 2)
    author = client.get("/api/v1/pages", headers=make_token(maria, "read")).json
    assert author["total"] == 3
    assert_problem(client.get(f"/api/v1/pages/{quote('ιδιωτικη')}", headers=nikos), 404)
    assert_problem(client.get(f"/api/v1/pages/{quote('εσωτερικη')}"), 404)


def test_bad_pagination_is_a_400(client, page, subtests):
    for query in ("page=0", "page=-1", "page=x", "per_page=0", "per_page=101", "per_page=1.5",
                  "page=99999999999999999999999", "page=9223372036854775807"):
        with subtests.test(query=query):
            assert_problem(client.get(f"/api/v1/pages?{query}"), 400)


def test_unknown_page_is_a_404_problem(client):
    assert_problem(client.get(f"/api/v1/pages/{quote('ανύπαρκτη')}"), 404)
    assert_problem(client.get(f"/api/v1/pages/{quote('ανύπαρκτη')}/revisions"), 404)


# Creating ----------------------------------------------------------------------------------------

def test_post_creates_a_page(client, write, maria):
    response = client.post("/api/v1/pages", json={"title": "Οδηγός  προσλήψεων", "body": "# Βήματα",
                                                  "tags": ["ΠΡΟΣΩΠΙΚΟ", "προσωπικο"], "visibility": "public"},
                           headers=write)
    assert response.status_code == 201
    data = response.json
    assert set(data) == PAGE_FIELDS
    assert (data["title"], data["slug"], data["revision"]) == ("Οδηγός προσλήψεων", "οδηγος-προσληψεων", 1)
    assert data["tags"] == ["προσωπικο"]
    assert data["author"] == "maria"
    assert data["language"] == "el"  # the node's default
    assert data["html"] == '<h1 id="βήματα">Βήματα</h1>'
    assert client.get(response.headers["Location"]).json == data


def test_duplicate_title_is_a_409_with_the_existing_page(client, write, page):
    before = db_state()
    response = client.post("/api/v1/pages", json={"title": "ΑΔΕΙΕΣ ΠΡΟΣΩΠΙΚΟΥ", "body": "άλλη"}, headers=write)
    body = assert_problem(response, 409)
    assert body["url"] == client.get(f"/api/v1/pages/{quote(page.slug)}").json["url"]
    assert client.get(body["url"]).status_code == 200
    assert db_state() == before


# Updating ----------------------------------------------------------------------------------------

def test_put_saves_a_revision(client, write, page):
    response = put(client, page.slug, write, body="Δεύτερη έκδοση.", base_revision=1, summary="διόρθωση")
    assert response.status_code == 200
    data = response.json
    assert (data["revision"], data["body"], data["title"], data["tags"]) == (2, "Δεύτερη έκδοση.",
                                                                               "Άδειες προσωπικού", ["προσωπικό"])
    revisions = client.get(f"/api/v1/pages/{quote(page.slug)}/revisions").json
    assert revisions["current"] == 2
    assert [(r["revision"], r["summary"], r["author"]) for r in revisions["items"]] == [
        (2, "διόρθωση", "maria"), (1, "", "maria")]
    assert set(revisions["items"][0]) == {"revision", "title", "summary", "author", "created"}


def test_put_with_stale_base_is_a_409_naming_the_current_revision(client, write, page):
    assert put(client, page.slug, write, body="Δεύτερη.", base_revision=1).status_code == 200
    before = db_state()
    body = assert_problem(put(client, page.slug, write, body="Από παλιά βάση.", base_revision=1), 409)
    assert body["current_revision"] == 2
    assert db_state() == before
    assert client.get(f"/api/v1/pages/{quote(page.slug)}").json["body"] == "Δεύτερη."


def test_put_with_new_title_renames_and_old_address_still_answers(client, write, page):
    response = put(client, page.slug, write, title="Κανονισμός αδειών", base_revision=1)
    assert response.status_code == 200
    assert response.json["slug"] == "κανονισμος-αδειων"
    old = client.get(f"/api/v1/pages/{quote(page.slug)}")
    assert old.status_code == 200 and old.json["slug"] == "κανονισμος-αδειων"


def test_put_renaming_onto_another_page_is_a_409(client, write, maria, make_page, page):
    other = make_page(maria, "Ωράριο", "…")
    before = db_state()
    body = assert_problem(put(client, page.slug, write, title="ΩΡΑΡΙΟ", body="…", base_revision=1), 409)
    assert body["url"] == client.get(f"/api/v1/pages/{quote(other.slug)}", headers=write).json["url"]
    assert db_state() == before


def test_diff_between_revisions(client, write, page):
    put(client, page.slug, write, body="Δεύτερη έκδοση.", base_revision=1)
    response = client.get(f"/api/v1/pages/{quote(page.slug)}/diff?from=1&to=2")
    assert response.status_code == 200
    data = response.json
    assert (data["from"], data["to"]) == (1, 2)
    assert "-Πρώτη έκδοση." in data["unified"].splitlines()
    assert "+Δεύτερη έκδοση." in data["unified"].splitlines()
    assert_problem(client.get(f"/api/v1/pages/{quote(page.slug)}/diff?from=1&to=9"), 404)
    assert_problem(client.get(f"/api/v1/pages/{quote(page.slug)}/diff?from=1"), 400)
    assert_problem(client.get(f"/api/v1/pages/{quote(page.slug)}/diff?from=-1&to=2"), 400)


def test_revert(client, write, page):
    put(client, page.slug, write, body="Λάθος.", base_revision=1)
    response = client.post(f"/api/v1/pages/{quote(page.slug)}/revert", json={"revision": 1}, headers=write)
    assert response.status_code == 200
    assert (response.json["revision"], response.json["body"]) == (3, "Πρώτη έκδοση.")
    before = db_state()
    assert_problem(client.post(f"/api/v1/pages/{quote(page.slug)}/revert", json={"revision": 3}, headers=write),
                   400)
    assert_problem(client.post(f"/api/v1/pages/{quote(page.slug)}/revert", json={"revision": 99}, headers=write),
                   404)
    for bad in ({"revision": "1"}, {"revision": True}, {}, {"revision": 1, "extra": 1}):
        assert_problem(client.post(f"/api/v1/pages/{quote(page.slug)}/revert", json=bad, headers=write), 400)
    assert db_state() == before


def test_delete(client, write, page, make_user, make_token):
    nikos = make_token(make_user("nikos", role="editor"), "write")
    before = db_state()
    assert_problem(client.delete(f"/api/v1/pages/{quote(page.slug)}", headers=nikos), 403)
    assert db_state() == before
    response = client.delete(f"/api/v1/pages/{quote(page.slug)}", headers=write)
    assert response.status_code == 204 and response.get_data() == b""
    assert_problem(client.get(f"/api/v1/pages/{quote(page.slug)}"), 404)
    assert client.get("/api/v1/pages").json["total"] == 0
    assert_problem(client.delete(f"/api/v1/pages/{quote(page.slug)}", headers=write), 404)


# Bad input never changes anything ----------------------------------------------------------------

def test_oversized_body_is_a_413_with_a_message(client, write, page):
    before = db_state()
    for just_over in ("a" * (512 * KIB + 1), "α" * (256 * KIB + 1)):  # 512 KiB + 1 or 2 bytes of UTF-8
        body = assert_problem(client.post("/api/v1/pages", json={"title": "Μεγάλη", "body": just_over},
                                          headers=write), 413)
        assert "512 KiB" in body["detail"]
        assert_problem(put(client, page.slug, write, body=just_over, base_revision=1), 413)
    way_over = "a" * (4 * 1024 * KIB)  # larger than any request this node reads
    assert_problem(client.post("/api/v1/pages", json={"title": "Τεράστια", "body": way_over}, headers=write), 413)
    assert db_state() == before


def test_body_of_exactly_512_kib_is_accepted(client, write):
    response = client.post("/api/v1/pages", json={"title": "Όριο", "body": "a" * 512 * KIB}, headers=write)
    assert response.status_code == 201


def test_greek_body_under_the_limit_is_accepted_when_json_escapes_it(client, write):
    body = "Δήμος " * (40 * KIB)  # 440 KiB of UTF-8; escaped by json.dumps it is 1.3 MB
    raw = json.dumps({"title": "Μεγάλη ελληνική", "body": body}).encode()
    assert len(raw) > 1024 * KIB
    response = client.post("/api/v1/pages", data=raw, content_type="application/json", headers=write)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert client.get(response.headers["Location"], headers=write).json["body"] == body


MALFORMED = [b"{", b"{'title': 'x'}", b"", b"\xff\xfe", b"[" * 100_000, b"{" * 100_000, b'{"title": "a",}',
             b"NaN garbage", b"[]", b'"title"', b"3", b"null"]


def test_malformed_json_or_not_an_object_is_a_400(client, write, page, subtests):
    before = db_state()
    for raw in MALFORMED:
        with subtests.test(raw=raw[:20]):
            for response in (client.post("/api/v1/pages", data=raw, content_type="application/json", headers=write),
                             client.put(f"/api/v1/pages/{quote(page.slug)}", data=raw,
                                        content_type="application/json", headers=write),
                             client.post(f"/api/v1/pages/{quote(page.slug)}/revert", data=raw,
                                         content_type="application/json", headers=write)):
                assert_problem(response, 400)
    assert db_state() == before


def test_unknown_field_is_named(client, write, page):
    before = db_state()
    body = assert_problem(client.post("/api/v1/pages", json={"title": "Νέα", "body": "…", "colour": "blue"},
                                      headers=write), 400)
    assert "colour" in body["detail"]
    body = assert_problem(put(client, page.slug, write, body="…", base_revision=1, slug="other"), 400)
    assert "slug" in body["detail"]
    assert db_state() == before


INVALID_FIELDS = [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "α" * 201}, "title"),
    ({"title": 5}, "title"),
    ({"title": None}, "title"),
    ({"title": ["a"]}, "title"),
    ({"body": 5}, "body"),
    ({"body": {"text": "x"}}, "body"),
    ({"tags": "προσωπικό"}, "tags"),
    ({"tags": [1, 2]}, "tags"),
    ({"tags": [["a"]]}, "tags"),
    ({"tags": None}, "tags"),
    ({"language": "fr"}, "language"),
    ({"language": 1}, "language"),
    ({"visibility": "everyone"}, "visibility"),
    ({"visibility": True}, "visibility"),
    ({"licence": "GPL"}, "licence"),
    ({"visibility": "public", "licence": "all-rights-reserved"}, "licence"),
    ({"summary": 3}, "summary"),
    ({"summary": "x" * 501}, "summary"),
    ({"title": "Τίτλος\x00"}, "title"),
    ({"body": "α\x00β"}, "body"),
    ({"body": "σπασμένο \udfff"}, "body"),
    ({"tags": ["α\x00"]}, "tags"),
    ({"summary": "\ud800"}, "summary"),
]


def test_invalid_fields_are_400s_naming_the_field(client, write, page, subtests):
    before = db_state()
    for fields, field in INVALID_FIELDS:
        with subtests.test(fields=repr(fields)[:60]):
            body = assert_problem(client.post("/api/v1/pages", json={"title": "Νέα σελίδα", "body": "…", **fields},
                                              headers=write), 400)
            assert body.get("field") == field
            body = assert_problem(put(client, page.slug, write, base_revision=1, **{"body": "…", **fields}), 400)
            assert body.get("field") == field
    assert db_state() == before


def test_title_of_200_characters_is_fine(client, write):
    assert client.post("/api/v1/pages", json={"title": "α" * 200, "body": "…"}, headers=write).status_code == 201


@pytest.mark.parametrize("fields", [{"title": "Νέα"}, {"body": "…"}])
def test_missing_required_field_is_named(client, write, fields):
    before = db_state()
    body = assert_problem(client.post("/api/v1/pages", json=fields, headers=write), 400)
    missing = ({"title", "body"} - set(fields)).pop()
    assert body["field"] == missing and missing in body["detail"]
    assert db_state() == before


def test_put_needs_a_whole_number_base_revision(client, write, page, subtests):
    before = db_state()
    for base in ("1", 1.0, True, None, [1]):
        with subtests.test(base=repr(base)):
            body = assert_problem(put(client, page.slug, write, body="…", base_revision=base), 400)
            assert body["field"] == "base_revision"
    assert assert_problem(put(client, page.slug, write, body="…"), 400)["field"] == "base_revision"
    assert db_state() == before


# Tokens ------------------------------------------------------------------------------------------

def write_requests(slug: str):
    """Every API request that changes something, with a valid body."""
    path = f"/api/v1/pages/{quote(slug)}"
    return [
        ("POST", "/api/v1/pages", {"title": "Νέα σελίδα", "body": "…"}),
        ("PUT", path, {"body": "Αλλαγή.", "base_revision": 1}),
        ("POST", f"{path}/revert", {"revision": 1}),
        ("DELETE", path, None),
    ]


def test_writes_without_a_token_are_401(client, page):
    before = db_state()
    for method, path, payload in write_requests(page.slug):
        assert_problem(client.open(path, method=method, json=payload), 401)
    assert db_state() == before


def test_writes_with_a_read_token_are_403(client, maria, make_token, page):
    read = make_token(maria, "read")
    assert client.get("/api/v1/pages", headers=read).status_code == 200
    before = db_state()
    for method, path, payload in write_requests(page.slug):
        assert_problem(client.open(path, method=method, json=payload, headers=read), 403)
    assert db_state() == before


@pytest.mark.parametrize("header", ["Bearer knet_not-a-real-token", "Bearer ", "Basic bWFyaWE6cGFzcw==", "knet_x"])
def test_unknown_or_malformed_token_is_401(client, page, header):
    before = db_state()
    assert_problem(client.get("/api/v1/pages", headers={"Authorization": header}), 401)
    for method, path, payload in write_requests(page.slug):
        assert_problem(client.open(path, method=method, json=payload, headers={"Authorization": header}), 401)
    assert db_state() == before


def test_revoked_token_is_401(client, maria, write, page):
    assert client.post("/api/v1/pages", json={"title": "Πριν", "body": "…"}, headers=write).status_code == 201
    auth_services.revoke_tokens(maria)
    db.session.commit()
    before = db_state()
    for method, path, payload in write_requests(page.slug):
        assert_problem(client.open(path, method=method, json=payload, headers=write), 401)
    assert_problem(client.get("/api/v1/pages", headers=write), 401)
    assert db_state() == before


def test_token_of_deactivated_account_is_401(client, maria, write, page):
    maria.active = False
    db.session.commit()
    assert_problem(client.post("/api/v1/pages", json={"title": "Νέα", "body": "…"}, headers=write), 401)


def test_session_cookie_does_not_authorise_api_writes(client, maria, sign_in, page):
    sign_in(maria)
    before = db_state()
    assert_problem(client.post("/api/v1/pages", json={"title": "Μέσω cookie", "body": "…"}), 401)
    assert db_state() == before


# Other errors are problems too -------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/pages/a%00b", "/api/v1/pages/a%00b/revisions",
                                  "/api/v1/pages/%ED%A0%80", "/api/v1/pages/x/diff?from=1&to=99999999999999999999999"])
def test_odd_addresses_are_404s(client, path):
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/nothing-here", 404),
    ("PATCH", "/api/v1/pages", 405),
    ("GET", "/api/v1/pages/x/revert", 405),
])
def test_routing_errors_are_problems(client, method, path, status):
    assert_problem(client.open(path, method=method), status)


# Description and liveness ------------------------------------------------------------------------

def test_openapi_lists_every_api_rule(client, app):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json["paths"]
    assert spec.json["openapi"].startswith("3.")
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")]
    assert len(rules) >= 5
    for rule in rules:
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        assert path in paths, f"{rule.rule} is missing from openapi.json"
        documented = {method.upper() for method in paths[path] if method != "parameters"}
        served = rule.methods - {"HEAD", "OPTIONS"}
        assert served <= documented, f"{rule.rule}: {served - documented} not documented"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
