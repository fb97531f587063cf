"""Suggestions in the header's search box, in a real Chromium: the ARIA combobox by keyboard and mouse, and axe."""
from __future__ import annotations

import pytest

from knet import jobs
from tests.browser.conftest import activate, sign_in_through_form, tab_to
from tests.browser.test_accessibility import Checker

pytestmark = pytest.mark.browser

BOX = "header #site-search-q"
LISTBOX = "#site-search-q-suggestions"
OPTIONS = LISTBOX + " [role=option]"


@pytest.fixture
def indexed(make_user, make_page):
    maria = make_user("maria", role="editor")
    make_page(maria, "Προμήθειες του Δήμου", "Οι προμήθειες γίνονται με ηλεκτρονικό διαγωνισμό.", visibility="public")
    make_page(maria, "Προμηθευτές και συμβάσεις", "Κατάλογος προμηθευτών.", visibility="public")
    make_page(maria, "Procurement rules", "The procurement rule.", visibility="public", language="en")
    make_page(maria, "Εσωτερικές προμήθειες", "Μόνο για το προσωπικό.", visibility="internal")
    jobs.run_pending()
    return maria


def type_in_box(page, text: str) -> None:
    """Type into the header's box and wait for the suggestions for all of it (not for a part typed earlier)."""
    page.focus(BOX)
    page.keyboard.type(text)
    page.wait_for_selector(OPTIONS)
    page.wait_for_load_state("networkidle")


def state(page) -> dict:
    return page.evaluate("""(selector) => {
      const box = document.querySelector(selector);
      const listbox = document.getElementById(box.getAttribute('aria-controls'));
      return {role: box.getAttribute('role'), expanded: box.getAttribute('aria-expanded'),
              autocomplete: box.getAttribute('aria-autocomplete'), active: box.getAttribute('aria-activedescendant'),
              listboxRole: listbox && listbox.getAttribute('role'), visible: !!listbox && !listbox.hidden,
              selected: [...document.querySelectorAll('[role=option][aria-selected=true]')].map(o => o.id),
              value: box.value, focused: document.activeElement === box};
    }""", BOX)


def test_arrow_down_and_enter_open_the_suggestion(page, live_server, indexed):
    page.goto(live_server("/"))
    tab_to(page, BOX)
    type_in_box(page, "προμηθ")
    now = state(page)
    assert now["role"] == "combobox" and now["autocomplete"] == "list" and now["listboxRole"] == "listbox"
    assert now["expanded"] == "true" and now["visible"] and now["active"] is None
    titles = page.locator(OPTIONS + " .suggestion-title").all_inner_texts()
    assert sorted(titles) == ["Προμήθειες του Δήμου", "Προμηθευτές και συμβάσεις"]  # no internal page for a visitor
    assert "Σελίδα wiki" in page.inner_text(OPTIONS)
    page.wait_for_function("document.querySelector('.site-search [role=status]').textContent === '2 προτάσεις'")

    page.keyboard.press("ArrowDown")
    first = page.locator(OPTIONS).first
    assert state(page)["active"] == first.get_attribute("id") and state(page)["selected"] == [first.get_attribute("id")]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert state(page)["active"] == first.get_attribute("id") and state(page)["focused"]
    activate(page)  # Enter opens the chosen suggestion
    assert "/wiki/" in page.url
    assert page.inner_text("h1") == titles[0]


def test_escape_closes_then_clears_and_tab_leaves(page, live_server, indexed):
    page.goto(live_server("/"))
    type_in_box(page, "προμηθ")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    now = state(page)
    assert now["expanded"] == "false" and not now["visible"] and now["active"] is None
    assert now["value"] == "προμηθ" and now["focused"]
    page.keyboard.press("Escape")
    assert state(page)["value"] == ""

    type_in_box(page, "προμηθ")
    page.keyboard.press("Tab")
    now = state(page)
    assert not now["visible"] and now["expanded"] == "false" and not now["focused"]
    assert page.evaluate("document.activeElement.matches('.site-search button')")


def test_enter_without_a_choice_submits_the_search_and_a_click_opens_a_suggestion(page, live_server, indexed):
    page.goto(live_server("/"))
    type_in_box(page, "procur")
    activate(page)
    assert "/search?q=procur" in page.url
    assert page.locator(".search-results h2").all_inner_texts() == ["Procurement rules"]

    type_in_box(page, "συμβ")
    with page.expect_navigation():
        page.click(OPTIONS + " >> text=Προμηθευτές και συμβάσεις")
    assert page.inner_text("h1") == "Προμηθευτές και συμβάσεις"


def test_a_member_is_offered_internal_pages(page, live_server, indexed):
    sign_in_through_form(page, live_server, indexed)
    type_in_box(page, "προμήθ")
    page.wait_for_function("document.querySelectorAll('[role=option]').length === 3")
    assert "Εσωτερικές προμήθειες" in page.locator(OPTIONS + " .suggestion-title").all_inner_texts()


@pytest.mark.parametrize("language", ["el", "en"])
def test_no_axe_violations_with_the_suggestions_open(language, browser, live_server, indexed):
    context = browser.new_context(locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        for path in ("/", "/search?q=προμήθειες"):
            check.goto(path)
            type_in_box(check.page, "προμηθ")
            check.page.keyboard.press("ArrowDown")
            assert state(check.page)["visible"] and state(check.page)["active"]
            check.check(f"suggestions open on {path}")
            assert state(check.page)["visible"], "the popup closed while axe ran"
        expected = "2 προτάσεις" if language == "el" else "2 suggestions"
        assert check.page.inner_text(".site-search [role=status]") == expected
        check.finish()
    finally:
        context.close()
