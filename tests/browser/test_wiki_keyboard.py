"""The wiki by keyboard alone: Tab, Shift+Tab, Enter, Space and typing; no clicks, no page.focus()."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.browser.conftest import activate, focused, tab_to
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser



def main_text(page) -> str:
    return page.inner_text("main")


def test_skip_link_is_first_tab_stop_and_moves_focus_to_main(page, live_server):
    page.goto(live_server("/"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('a.skip-link')"), focused(page)
    box = page.evaluate("(() => { const r = document.activeElement.getBoundingClientRect();"
                        " return {top: r.top, bottom: r.bottom, width: r.width}; })()")
    assert box["top"] >= 0 and box["width"] > 0, f"the focused skip link is off screen: {box}"
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'main'")
    # The next Tab continues inside main, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)"), focused(page)


def test_skip_link_on_every_kind_of_page(page, live_server, make_user, make_page):
    author = make_user("nikos", role="editor")
    slug = quote(make_page(author, "Σελίδα", "Κείμενο.", visibility="public").slug)
    for path in ("/pages/", "/pages/recent", "/login", f"/wiki/{slug}", f"/wiki/{slug}/history", "/nowhere"):
        page.goto(live_server(path))
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.matches('a.skip-link')"), (path, focused(page))


def test_whole_wiki_workflow_by_keyboard(page, live_server, make_user, make_page):
    maria = make_user("maria", role="editor")
    make_page(maria, "Δημοτικό Συμβούλιο", "Συνεδριάζει κάθε μήνα.", visibility="internal")

    # Sign in ----------------------------------------------------------------------------------
    page.goto(live_server("/"))
    tab_to(page, "header a[href^='/login']")
    activate(page)
    assert "/login" in page.url
    tab_to(page, "#username")
    page.keyboard.type("maria")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password", focused(page)
    page.keyboard.type(PASSWORD)
    activate(page)  # Enter in the password field submits the form
    assert "/login" not in page.url
    assert "maria" in page.inner_text("header .account")

    # Create a page ----------------------------------------------------------------------------
    tab_to(page, "header nav a[href='/pages/new']")
    activate(page)
    assert page.url.endswith("/pages/new")
    tab_to(page, "#title")
    page.keyboard.type("Άδειες καταστημάτων")
    tab_to(page, "textarea#body", max_tabs=3)
    page.keyboard.type("Η αίτηση κατατίθεται στο ΚΕΠ.")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("Εγκρίνει το [[Δημοτικό Συμβούλιο]].")
    tab_to(page, "#summary")
    page.keyboard.type("Πρώτη έκδοση")
    tab_to(page, "#save", max_tabs=3)
    activate(page, "Space")
    assert re.search(r"/wiki/[^/]+$", page.url), page.url
    slug_url = page.url
    assert page.inner_text("h1") == "Άδειες καταστημάτων"
    assert "κατατίθεται στο ΚΕΠ" in main_text(page)

    # Edit it ----------------------------------------------------------------------------------
    tab_to(page, ".page-tabs a[href$='/edit']")
    activate(page)
    assert page.url.endswith("/edit")
    tab_to(page, "textarea#body")
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("Προθεσμία: 30 ημέρες.")
    tab_to(page, "#summary")
    page.keyboard.type("Προθεσμία")
    tab_to(page, "#save", max_tabs=3)
    activate(page)
    assert page.url == slug_url
    assert "Προθεσμία: 30 ημέρες." in main_text(page)
    assert re.search(r"\b2\b", page.inner_text(".page-meta")), page.inner_text(".page-meta")

    # History and diff -------------------------------------------------------------------------
    tab_to(page, ".page-tabs a[href$='/history']")
    activate(page)
    assert page.url.endswith("/history")
    assert page.locator("table.history tbody tr").count() == 2
    # Each radio group is one Tab stop, on its checked radio: "to" (newest row) comes first.
    tab_to(page, "input[type=radio][name=to]")
    assert page.evaluate("document.activeElement.value") == "2", focused(page)
    tab_to(page, "input[type=radio][name=from]", max_tabs=3)
    assert page.evaluate("document.activeElement.value") == "1", focused(page)
    # Arrow keys move the choice within a group (and check it); put it back with the other arrow.
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.value + document.activeElement.checked") == "2true"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value + document.activeElement.checked") == "1true"
    tab_to(page, "form[action$='/diff'] button[type=submit]:not([form])")
    activate(page)
    assert "/diff?" in page.url and "from=1" in page.url and "to=2" in page.url, page.url
    inserted = page.locator("table.diff ins, table.diff tr.diff-insert td.text").all_inner_texts()
    assert any("Προθεσμία: 30 ημέρες." in text for text in inserted), inserted

    # Revert to revision 1 ---------------------------------------------------------------------
    tab_to(page, ".page-tabs a[href$='/history']")
    activate(page)
    tab_to(page, "button[form=revert-1]")
    activate(page)
    assert page.url == slug_url
    assert page.locator(".messages").count() == 1, "no confirmation after the revert"
    assert "Προθεσμία: 30 ημέρες." not in page.inner_text(".content")
    assert re.search(r"\b3\b", page.inner_text(".page-meta")), page.inner_text(".page-meta")

    # Follow a [[wiki link]] -------------------------------------------------------------------
    tab_to(page, ".content a.wikilink:not(.missing)", "Δημοτικό Συμβούλιο")
    activate(page)
    assert page.inner_text("h1") == "Δημοτικό Συμβούλιο"
    assert "Συνεδριάζει κάθε μήνα." in main_text(page)


def _language_snapshot(page) -> dict:
    return {
        "lang": page.evaluate("document.documentElement.lang"),
        "pressed": page.get_attribute(".language a[aria-current=true]", "hreflang"),
        "meta": page.inner_text(".page-meta"),
        "nav": page.inner_text("header nav"),
        "skip": page.inner_text("a.skip-link"),
    }


def test_switch_language_by_keyboard(page, live_server, make_user, make_page):
    author = make_user("eleni", role="editor")
    hours = make_page(author, "Ωράριο", "Δευτέρα έως Παρασκευή.", visibility="public")
    address = live_server("/wiki/" + quote(hours.slug))
    page.goto(address)
    greek = _language_snapshot(page)
    assert greek["lang"] == "el" and greek["pressed"] == "el", greek

    tab_to(page, ".language a[hreflang=en]")
    activate(page)
    assert page.url == address, "switching language must stay on the same page"
    english = _language_snapshot(page)
    assert english["lang"] == "en" and english["pressed"] == "en", english
    # Dates follow the language (CLDR) and so do the interface strings (compiled catalogues).
    assert greek["meta"] != english["meta"], (greek["meta"], english["meta"])
    assert greek["nav"] != english["nav"], (greek["nav"], english["nav"])
    assert greek["skip"] != english["skip"], (greek["skip"], english["skip"])

    tab_to(page, ".language a[hreflang=el]")
    activate(page)
    back = _language_snapshot(page)
    assert back == greek, (back, greek)
