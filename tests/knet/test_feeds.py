"""Atom feeds of public content (knet.feeds): the feed of a tag across every kind, what every entry says,
conditional requests, and nothing that is not public, not even a title."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from knet.db import db
from tests.outward import MARKERS, TAG, content_of_every_visibility, hidden_markers, parsed
from wiki import services as wiki_services
from wiki.services import PageInput
from wiki.slugs import slugify


@pytest.fixture
def world(app, make_user):
    author, trainer = make_user("alice", role="editor"), make_user("tina", role="trainer")
    content_of_every_visibility(app, author, trainer)
    return author


def public_page():
    return wiki_services.get_page(slugify(f"Σελίδα {MARKERS['public']}"), None)[0]


def tag_feed(client, tag: str = TAG):
    return client.get(f"/tags/{quote(tag)}/feed.atom")


def test_a_tag_feed_holds_the_public_page_question_and_course_with_that_tag(app, client, world):
    feed = parsed(tag_feed(client))
    titles = {entry.title for entry in feed.entries}
    public = MARKERS["public"]
    assert titles == {f"Σελίδα {public}", f"Ερώτηση {public} για τις προμήθειες", f"Μάθημα {public}"}
    body = tag_feed(client).get_data(as_text=True)
    assert not [marker for marker in hidden_markers() if marker in body]


def test_every_entry_carries_what_a_reader_needs(app, client, world):
    feed = parsed(tag_feed(client))
    assert feed.feed.title.endswith("Δήμος Δοκιμών")
    assert feed.feed.author == "Δήμος Δοκιμών"
    assert any(link.rel == "self" for link in feed.feed.links)
    for entry in feed.entries:
        assert entry.id.startswith("http://127.0.0.1:5000/") and entry.updated_parsed
        alternate = [link for link in entry.links if link.rel == "alternate"]
        assert alternate and alternate[0].href.startswith("http://127.0.0.1:5000/")
        assert [link.href for link in entry.links if link.rel == "license"] == [
            "https://creativecommons.org/licenses/by/4.0/"]
        assert entry.rights == "CC BY 4.0"
        assert entry.title_detail.language == "el"
        assert entry.author in ("alice", "tina")
        assert TAG.lower() in {tag.term.lower() for tag in entry.tags}
        assert entry.content[0].type == "text/html"
    page = next(entry for entry in feed.entries if entry.title.startswith("Σελίδα"))
    # The page's text as sanitised HTML, in Greek, as written.
    assert "<strong>προμήθειες</strong>" in page.content[0].value


def test_a_tag_matches_as_each_feature_matches_it(app, client, world):
    """Case and accents do not matter for questions and courses, as on their own lists."""
    titles = {entry.title for entry in parsed(tag_feed(client, "ΠΡΟΜΗΘΕΙΕΣ")).entries}
    assert f"Ερώτηση {MARKERS['public']} για τις προμήθειες" in titles and f"Μάθημα {MARKERS['public']}" in titles


@pytest.mark.parametrize("tag", ["ανύπαρκτη", "x" * 300, "bad\x00tag", "  "])
def test_a_tag_nothing_public_carries_has_no_feed(app, client, world, tag):
    response = tag_feed(client, tag)
    assert response.status_code == 404
    assert "html" in response.mimetype and "<p" in response.get_data(as_text=True)


def test_a_tag_only_internal_content_carries_is_unknown(app, client, world, make_page):
    make_page(world, "Εσωτερική σελίδα", visibility="internal", tags=["μυστικό"])
    assert tag_feed(client, "μυστικό").status_code == 404


def test_a_reader_that_has_the_feed_gets_not_modified_until_something_changes(app, client, world):
    first = tag_feed(client)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(f"/tags/{quote(TAG)}/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(f"/tags/{quote(TAG)}/feed.atom", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    wiki_services.delete_page(world, public_page())
    db.session.commit()
    changed = client.get(f"/tags/{quote(TAG)}/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert f"Σελίδα {MARKERS['public']}" not in {entry.title for entry in parsed(changed).entries}


def test_a_page_made_internal_leaves_every_feed(app, client, world):
    page = public_page()
    wiki_services.update_page(world, page, PageInput(title=page.title, body="Τώρα εσωτερική.", visibility="internal",
                                                     tags=["προμήθειες"]),
                              page.revision, app.config["KNET"]["max_body_bytes"])
    db.session.commit()
    for path in (f"/tags/{quote(TAG)}/feed.atom", "/pages/recent.atom"):
        assert page.title not in {entry.title for entry in parsed(client.get(path)).entries}
        assert page.title not in client.get(path).get_data(as_text=True)


def test_the_search_page_of_a_tag_advertises_its_feed(app, client, world):
    html = client.get(f"/search?tag={quote(TAG)}").get_data(as_text=True)
    assert 'type="application/atom+xml"' in html and f"/tags/{quote(TAG)}/feed.atom" in html
