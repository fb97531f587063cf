"""The search page in a real Chromium: axe in Greek and English, at desktop and phone width, and by keyboard."""
from __future__ import annotations

import pytest

from knet import jobs
from tests.browser.conftest import activate, focused, tab_to
from tests.browser.test_accessibility import Checker

pytestmark = pytest.mark.browser


@pytest.fixture
def indexed(app, make_user, make_page):
    """Enough public pages for two pages of results, with tags, in both languages."""
    maria = make_user("maria", role="editor")
    make_page(maria, "Προμήθειες του Δήμου", "Οι προμήθειες γίνονται με ηλεκτρονικό διαγωνισμό. " * 5,
              visibility="public", tags=["προμήθειες", "ΚΕΠ"])
    make_page(maria, "Procurement rules", "The procurement rule for municipal supplies.", visibility="public",
              language="en", tags=["procurement"])
    for n in range(app.config["KNET"]["page_size"] + 2):
        make_page(maria, f"Πρακτικό συνεδρίασης {n}", "Το δημοτικό συμβούλιο συνεδρίασε για τις προμήθειες.",
                  visibility="public")
    make_page(maria, "Εσωτερικές οδηγίες", "Μόνο για το προσωπικό.", visibility="internal")
    jobs.run_pending()
    return maria


@pytest.mark.parametrize("language", ["el", "en"])
def test_search_pages_have_no_axe_violations_and_fit_a_phone(language, browser, live_server, indexed):
    context = browser.new_context(locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        for label, path in [
            ("results", "/search?q=προμήθειες"),
            ("results, page 2", "/search?q=προμήθειες&page=2"),
            ("filtered", "/search?q=procurement&lang=en&tag=procurement&type=page"),
            ("a facet chosen", "/search?q=προμήθειες&licence=CC-BY-4.0&tag=ΚΕΠ"),
            ("every municipality (no peers)", "/search?q=προμήθειες&scope=network"),
            ("did you mean", "/search?q=προμηθιες"),
            ("no results", "/search?q=ζαχαροπλαστική"),
            ("empty query", "/search"),
            ("hostile query", "/search?q=%22((*%20-%20AND"),
        ]:
            check.goto(path)
            assert check.page.evaluate("document.documentElement.lang") == language, path
            check.check(label)
        check.sign_in(indexed)
        check.goto("/search?q=οδηγίες")
        assert "Εσωτερικές οδηγίες" in check.page.inner_text("main")
        check.check("results, signed in")
        check.finish()
    finally:
        context.close()


def test_search_from_the_header_by_keyboard(page, live_server, indexed):
    page.goto(live_server("/"))
    tab_to(page, "header #site-search-q")
    page.keyboard.type("προμηθειες")
    activate(page)  # Enter submits the header's search form
    assert "/search?q=" in page.url
    status = page.inner_text("main [role=status]")
    assert "αποτελέσματα" in status, status
    assert page.locator(".search-results > li").count() > 0
    first = page.locator(".search-results > li h2 a").first
    first_title = first.inner_text()
    tab_to(page, ".search-results a")
    assert page.evaluate("document.activeElement === document.querySelector('.search-results li h2 a')"), \
        focused(page)
    activate(page)  # the result's link leads to the page (through its permanent address)
    assert "/wiki/" in page.url
    assert page.inner_text("h1") == first_title


def test_filters_form_works_without_javascript(browser, live_server, indexed):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server("/search?q=procurement OR προμήθειες"))
        page.select_option("#search-lang", "en")
        with page.expect_navigation():
            page.click(".search-form button[type=submit]")
        assert "lang=en" in page.url
        assert page.locator(".search-results h2").all_inner_texts() == ["Procurement rules"]
    finally:
        context.close()


def test_a_facet_narrows_the_results_by_keyboard_and_widens_them_again(page, live_server, indexed):
    page.goto(live_server("/search?q=προμήθειες OR procurement"))
    everything = page.locator(".search-results > li").count()
    tab_to(page, ".facets a[href*='lang=en']")
    activate(page)
    assert "lang=en" in page.url
    assert page.locator(".search-results h2").all_inner_texts() == ["Procurement rules"]
    chosen = page.locator(".facets a[aria-current=true]")
    assert chosen.count() == 1 and "lang=en" not in chosen.get_attribute("href")
    tab_to(page, ".facets a[aria-current=true]")
    activate(page)  # the chosen value, followed again, is removed
    assert "lang=en" not in page.url and page.locator(".search-results > li").count() == everything
