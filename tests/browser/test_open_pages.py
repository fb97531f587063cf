"""The open-data page and the accessibility statement in a real browser: reached by keyboard from the footer of
any page, free of axe violations in Greek and in English; and a page's head advertises its feed."""
from __future__ import annotations

import feedparser
import pytest

from tests.browser.conftest import activate, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker
from tests.outward import MARKERS, content_of_every_visibility

pytestmark = pytest.mark.browser


@pytest.fixture
def site(app, make_user):
    content_of_every_visibility(app, make_user("alice", role="editor"), make_user("tina", role="trainer"))


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_footer_leads_by_keyboard_to_pages_without_axe_violations(language, browser, live_server, site):
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        page = check.page
        for target in ("/accessibility", "/opendata"):
            check.goto("/questions")
            tab_to(page, f'footer a[href="{target}"]', max_tabs=120)
            activate(page)
            assert page.url == live_server(target)
            assert page.evaluate("document.documentElement.lang") == language
            assert page.locator("h1").count() == 1
            check.check(f"{target} ({language})")
        check.finish()
    finally:
        context.close()


def test_the_questions_page_advertises_a_feed_that_a_reader_can_follow(page, live_server, site):
    page.goto(live_server("/questions"))
    link = page.locator('head link[rel="alternate"][type="application/atom+xml"]')
    assert link.count() == 1 and link.get_attribute("title")
    response = page.request.get(live_server(link.get_attribute("href")))
    feed = feedparser.parse(response.body())
    assert not feed.bozo and [entry.title for entry in feed.entries] == [
        f"Ερώτηση {MARKERS['public']} για τις προμήθειες"]
    # The same feed, linked on the page for people.
    assert page.locator(f'main a[href="{link.get_attribute("href")}"]').count() == 1
