"""Page views come from a cache, which must never show a stale, hidden or someone else's page."""
import re

import pytest

from knet.db import db
from tests.conftest import PASSWORD
from tests.forms import csrf_token
from wiki import services
from knet.render_cache import EXTENSION
from wiki.services import PageInput


@pytest.fixture
def rendered_views(app):
    return app.extensions[EXTENSION]


@pytest.fixture
def author(make_user):
    return make_user("nikos", role="editor")


def _edit(app, page, **changes):
    fields = dict(title=page.title, body=page.current.body, language=page.language, tags=page.tag_names,
                  visibility=page.visibility, licence=page.licence)
    fields.update(changes)
    services.update_page(page.author, page, PageInput(**fields), page.revision, app.config["KNET"]["max_body_bytes"])
    db.session.commit()


def test_second_anonymous_view_is_served_from_the_cache(app, client, author, make_page, rendered_views):
    page = make_page(author, "Ωράριο", "Ανοιχτά 8-15.", visibility="public")
    first = client.get(f"/wiki/{page.slug}")
    assert len(rendered_views) == 1
    second = client.get(f"/wiki/{page.slug}")
    assert first.status_code == second.status_code == 200
    assert "Ανοιχτά 8-15." in second.get_data(as_text=True)
    assert len(rendered_views) == 1


def test_an_edit_is_seen_at_once(app, client, author, make_page):
    page = make_page(author, "Ωράριο", "Ανοιχτά 8-15.", visibility="public")
    client.get(f"/wiki/{page.slug}")
    _edit(app, page, body="Ανοιχτά 7-17.")
    html = client.get(f"/wiki/{page.slug}").get_data(as_text=True)
    assert "Ανοιχτά 7-17." in html and "8-15" not in html


def test_a_page_made_internal_or_deleted_is_no_longer_shown(app, client, author, make_page):
    page = make_page(author, "Ωράριο", "Ανοιχτά 8-15.", visibility="public")
    assert client.get(f"/wiki/{page.slug}").status_code == 200
    _edit(app, page, visibility="internal")
    assert client.get(f"/wiki/{page.slug}").status_code == 404
    _edit(app, page, visibility="public")
    assert client.get(f"/wiki/{page.slug}").status_code == 200
    services.delete_page(author, page)
    db.session.commit()
    assert client.get(f"/wiki/{page.slug}").status_code == 404


def test_a_link_turns_from_missing_to_existing_when_its_page_is_written(app, client, author, make_page):
    page = make_page(author, "Αρχική", "Δες [[Προμήθειες]].", visibility="public")
    assert 'class="wikilink missing"' in client.get(f"/wiki/{page.slug}").get_data(as_text=True)
    make_page(author, "Προμήθειες", "Κείμενο.", visibility="public")
    assert 'class="wikilink missing"' not in client.get(f"/wiki/{page.slug}").get_data(as_text=True)


def _signed_in_as(html: str) -> str:
    match = re.search(r'class="who"[^>]*>([^<]*)</a>', html)
    assert match, "the page does not say who is signed in"
    return match.group(1)


def test_anonymous_views_start_no_session(app, author, make_page):
    page = make_page(author, "Ωράριο", "Ανοιχτά 8-15.", visibility="public")
    for _ in range(2):
        response = app.test_client().get(f"/wiki/{page.slug}")
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers


def test_language_is_part_of_the_key(app, client, author, make_page, rendered_views):
    page = make_page(author, "Ωράριο", "Ανοιχτά 8-15.", visibility="public")
    assert '<html lang="el">' in client.get(f"/wiki/{page.slug}").get_data(as_text=True)
    assert client.get(f"/language/en?next=/wiki/{page.slug}").status_code == 302
    assert '<html lang="en">' in client.get(f"/wiki/{page.slug}").get_data(as_text=True)
    assert len(rendered_views) == 2


def test_each_signed_in_person_gets_their_own_page_and_working_form(app, make_user, make_page, sign_in, rendered_views):
    eleni, petros = make_user("eleni", role="admin"), make_user("petros", role="editor")
    page = make_page(eleni, "Ωράριο", "Ανοιχτά 8-15.", visibility="internal")
    seen = {}
    for person in (eleni, petros, eleni):
        visitor = app.test_client()
        visitor.post("/login", data={"username": person.username, "password": PASSWORD,
                                       "csrf_token": csrf_token(visitor.get("/login").get_data(as_text=True))})
        html = visitor.get(f"/wiki/{page.slug}").get_data(as_text=True)
        seen.setdefault(person.username, []).append(html)
        assert person.username in _signed_in_as(html)
        # The sign-out form of a cached page carries this visitor's own, working token.
        assert visitor.post("/sign-out", data={"csrf_token": csrf_token(html)}).status_code == 302
    assert "petros" not in _signed_in_as(seen["eleni"][1])
    assert len(rendered_views) == 2  # eleni's second view came from the cache




def test_anonymous_repeat_views_skip_flask(app, author, make_page, rendered_views, monkeypatch):
    page = make_page(author, "Ωράριο", "Ανοιχτά 8-15.", visibility="public")
    first = app.test_client().get(f"/wiki/{page.slug}")
    monkeypatch.setattr(app, "full_dispatch_request", lambda: pytest.fail("Flask handled a cached anonymous view"))
    again = app.test_client().get(f"/wiki/{page.slug}")
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert again.headers["Content-Type"] == first.headers["Content-Type"]


def test_fast_path_never_serves_a_visitor_with_a_session(app, author, make_page, rendered_views, sign_in, client):
    page = make_page(author, "Ωράριο", "Ανοιχτά 8-15.", visibility="public")
    app.test_client().get(f"/wiki/{page.slug}")  # cached for anonymous visitors
    sign_in(author)
    html = client.get(f"/wiki/{page.slug}").get_data(as_text=True)
    assert "nikos" in _signed_in_as(html)
