"""The feed of recent changes (wiki.feeds): public pages only, each once, the latest change first."""
from __future__ import annotations

import re

from knet.db import db
from tests.outward import MARKERS, content_of_every_visibility, hidden_markers, parsed
from wiki import services
from wiki.services import PageInput


def test_recent_changes_hold_public_pages_only(app, client, make_user):
    author = make_user("alice")
    content_of_every_visibility(app, author, make_user("tina", role="trainer"))
    response = client.get("/pages/recent.atom")
    feed = parsed(response)
    assert [entry.title for entry in feed.entries] == [f"Σελίδα {MARKERS['public']}"]
    assert not [marker for marker in hidden_markers() if marker in response.get_data(as_text=True)]
    entry = feed.entries[0]
    assert re.fullmatch(r"http://127\.0\.0\.1:5000/pages/\d+", entry.id)  # the page's URI, which outlives renames
    assert entry.link.startswith("http://127.0.0.1:5000/wiki/")


def test_an_edited_page_comes_first_and_appears_once(app, client, make_user, make_page):
    author = make_user("alice")
    older = make_page(author, "Πρώτη", visibility="public")
    make_page(author, "Δεύτερη", visibility="public")
    services.update_page(author, older, PageInput(title="Πρώτη", body="Νέο κείμενο.", visibility="public"),
                         older.revision, app.config["KNET"]["max_body_bytes"])
    db.session.commit()
    feed = parsed(client.get("/pages/recent.atom"))
    assert [entry.title for entry in feed.entries] == ["Πρώτη", "Δεύτερη"]
    assert "Νέο κείμενο." in feed.entries[0].content[0].value


def test_the_recent_changes_page_advertises_and_links_its_feed(app, client):
    html = client.get("/pages/recent").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert html.count('href="/pages/recent.atom"') == 2  # in the head, and as a link on the page
