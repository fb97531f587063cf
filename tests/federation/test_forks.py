"""Forking a peer's public page into this node: from the copy's page, by an editor, licence permitting; the
fork names its source and version, and offers to compare with the source once the source has changed."""
from __future__ import annotations

import pytest

from knet.db import db
from tests.federation.test_replicas import URI, activity, apply, page, peer  # noqa: F401 - peer is a fixture
from tests.forms import csrf_token
from wiki.models import Page

BODY = "# Ανακύκλωση\n\nΜπλε κάδοι για χαρτί."


def source(version_title="Οδηγός ανακύκλωσης", body=BODY, licence="CC-BY-4.0", visibility="public") -> dict:
    return page(1, version_title, body, visibility) | {
        "knet:licence": licence, "source": {"content": body, "mediaType": "text/markdown"}}


def fork(client, uri: str = URI):
    html = client.get("/network/object", query_string={"uri": uri}).get_data(as_text=True)
    return client.post("/pages/fork", data={"uri": uri, "csrf_token": csrf_token(html)}), html


def test_an_editor_forks_a_public_page_and_is_told_when_the_source_changes(client, peer, make_user, sign_in):
    apply(peer, activity("Create", 3, source()))
    sign_in(make_user("maria"))
    response, copy_page = fork(client)
    assert 'action="/pages/fork"' in copy_page
    assert response.status_code == 302
    forked = db.session.query(Page).filter(Page.fork_source == URI).one()
    assert (forked.title, forked.current.body, forked.fork_version) == ("Οδηγός ανακύκλωσης", BODY, 3)
    assert forked.visibility == "internal" and forked.licence == "CC-BY-4.0"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Δήμος Ηρακλείου" in html and "/source-changes" in html and "source-newer" not in html

    apply(peer, activity("Update", 7, source(body=BODY + "\n\nΚαι πράσινοι για γυαλί.")))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="source-newer"' in html
    changes = client.get(f"/wiki/{forked.slug}/source-changes").get_data(as_text=True)
    assert "πράσινοι για γυαλί" in changes and "<ins>" in changes


@pytest.mark.parametrize("licence, visibility", [("all-rights-reserved", "public"), ("CC-BY-4.0", "network")])
def test_closed_or_network_only_pages_cannot_be_forked(client, peer, make_user, sign_in, licence, visibility):
    apply(peer, activity("Create", 1, source(licence=licence, visibility=visibility)))
    sign_in(make_user("maria"))
    html = client.get("/network/object", query_string={"uri": URI}).get_data(as_text=True)
    assert 'action="/pages/fork"' not in html
    response = client.post("/pages/fork", data={"uri": URI, "csrf_token": csrf_token(html)})
    assert response.status_code == 403 and db.session.query(Page).count() == 0


def test_forking_needs_an_editor_a_token_and_a_copy(client, peer, make_user, sign_in):
    apply(peer, activity("Create", 1, source()))
    anonymous = client.get("/network/object", query_string={"uri": URI}).get_data(as_text=True)
    assert 'action="/pages/fork"' not in anonymous
    sign_in(make_user("nikos", role="reader"))
    response, _html = fork(client)
    assert response.status_code == 403
    assert client.post("/pages/fork", data={"uri": URI}).status_code == 400  # no CSRF token
    sign_in(make_user("maria"))
    assert client.post("/pages/fork", data={"uri": URI + "x", "csrf_token": csrf_token(
        client.get("/pages/new").get_data(as_text=True))}).status_code == 404
    assert db.session.query(Page).count() == 0


def test_a_second_fork_of_the_same_title_is_named_after_its_home(client, peer, make_user, sign_in, make_page):
    maria = make_user("maria")
    make_page(maria, "Οδηγός ανακύκλωσης")
    apply(peer, activity("Create", 1, source()))
    sign_in(maria)
    response, _html = fork(client)
    assert response.status_code == 302
    assert db.session.query(Page).filter(Page.fork_source == URI).one().title == "Οδηγός ανακύκλωσης (Δήμος Ηρακλείου)"
