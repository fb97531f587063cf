"""axe-core (WCAG 2.1 A and AA) on every kind of page, in Greek and in English; phone width; no outside requests."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

import axe_playwright_python
import pytest

from knet.db import db
from tests.browser.conftest import LiveServer, sign_in_through_form, watch_csp
from wiki import services
from wiki.services import PageInput

pytestmark = pytest.mark.browser

AXE_JS = Path(axe_playwright_python.__file__).resolve().parent / "axe.min.js"
AXE_RUN = ("axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},"
           " resultTypes: ['violations']})")
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# The page's width against the window's, and a few elements that stick out (for the failure message).
WIDTHS = """() => ({
  scroll: document.documentElement.scrollWidth,
  inner: window.innerWidth,
  wide: [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 8)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className
         ? '.' + e.className.trim().split(/\\s+/).join('.') : '')),
})"""


def inject_axe(page) -> None:
    """Load axe into the page as the DevTools protocol does, which the page's Content-Security-Policy allows
    (a <script> tag that Playwright adds is inline, and the policy rightly blocks it)."""
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))


RICH_BODY = """\
Οι άδειες λειτουργίας εκδίδονται από το [[Δημοτικό Συμβούλιο]] ή από την [[Επιτροπή Ποιότητας Ζωής|επιτροπή]].
Δείτε και τη [[Σελίδα που δεν υπάρχει ακόμη]].

## Δικαιολογητικά

| Έγγραφο | Από πού | Προθεσμία |
|---|---|---|
| Αίτηση | ΚΕΠ | 30 ημέρες |
| Βεβαίωση πυροσβεστικής υπηρεσίας με πολύ μεγάλο όνομα εγγράφου | Πυροσβεστική | 60 ημέρες |

Ο κωδικός της υπηρεσίας υπολογίζεται έτσι[^1]:

```python
def kodikos(dimos: str, etos: int) -> str:
    return f"{dimos.upper()}-{etos}-ΑΔΕΙΑ-ΛΕΙΤΟΥΡΓΙΑΣ-ΚΑΤΑΣΤΗΜΑΤΟΣ-ΥΓΕΙΟΝΟΜΙΚΟΥ-ΕΝΔΙΑΦΕΡΟΝΤΟΣ"
```

Χρήσιμο και το `inline_code_with_a_very_long_identifier_that_should_wrap_or_scroll_nicely`.
Μια πολύ μεγάλη διεύθυνση: https://example.org/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa

> Παράθεμα από την εγκύκλιο.

[^1]: Σύμφωνα με την εγκύκλιο του Υπουργείου.
"""


@pytest.fixture
def site(app, make_user, make_page):
    """A node with an editor, a rich page with three revisions and a page it links to."""
    maria = make_user("maria", role="editor")
    council = make_page(maria, "Δημοτικό Συμβούλιο", "Συνεδριάζει κάθε μήνα.", visibility="public")
    rich = make_page(maria, "Άδειες λειτουργίας", RICH_BODY, visibility="public", tags=["άδειες", "ΚΕΠ"],
                     summary="Πρώτη έκδοση")
    limit = app.config["KNET"]["max_body_bytes"]
    for number, extra in enumerate(("Νέα παράγραφος για τα τέλη.", "Και μία ακόμη για τις εξαιρέσεις."), start=2):
        services.update_page(maria, rich, PageInput(
            title=rich.title, body=RICH_BODY + "\n" + extra + "\n", language="el", tags=["άδειες", "ΚΕΠ"],
            visibility="public", summary=f"Έκδοση {number}"), number - 1, limit)
        db.session.commit()
    slug = rich.slug
    db.session.commit()
    return {"user": maria, "page": rich, "slug": quote(slug), "council": quote(council.slug)}


def _violations_message(url: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} axe violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} <{v.get('helpUrl', '')}>")
        for node in v["nodes"][:10]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '').replace(chr(10), ' ')}")
    return "\n".join(lines)


class Checker:
    """Opens pages in one browser context and collects every problem rather than stopping at the first."""

    def __init__(self, context, live_server: LiveServer) -> None:
        self.context = context
        self.live_server = live_server
        self.csp = watch_csp(context)  # before the page, so that it watches from the page's first load
        self.page = context.new_page()
        self.outside: list[str] = []
        self.problems: list[str] = []
        self.page.on("request", self._request)

    def _request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname != "127.0.0.1" or parts.port != self.live_server.port:
            self.outside.append(f"{request.method} {request.url} (from {self.page.url})")

    def goto(self, path: str, status: int = 200) -> None:
        response = self.page.goto(self.live_server(path))
        assert response is not None and response.status == status, (path, response and response.status)

    def check(self, label: str) -> None:
        """axe at desktop and at phone width; at phone width nothing may scroll sideways."""
        page = self.page
        inject_axe(page)
        for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            results = page.evaluate(AXE_RUN)
            if results["violations"]:
                self.problems.append(f"[{label}, {name} {size['width']}px] "
                                     + _violations_message(page.url, results["violations"]))
        widths = page.evaluate(WIDTHS)
        if widths["scroll"] > widths["inner"]:
            self.problems.append(f"[{label}] {page.url} scrolls sideways at {PHONE['width']}px: "
                                 f"scrollWidth {widths['scroll']} > {widths['inner']}; too wide: {widths['wide']}")
        page.set_viewport_size(DESKTOP)

    def sign_in(self, user) -> None:
        sign_in_through_form(self.page, self.live_server, user)

    def finish(self) -> None:
        problems = list(self.problems)
        if self.outside:
            problems.append("Requests that left the node:\n  " + "\n  ".join(self.outside))
        problems += self.csp.problems()
        assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("language", ["el", "en"])
def test_pages_have_no_axe_violations_and_fit_a_phone(language, browser, live_server, site, app):
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        page, slug = check.page, site["slug"]

        # Anonymous visitor.
        for label, path, status in [
            ("home", "/", 200),
            ("wiki page", f"/wiki/{slug}", 200),
            ("old revision", f"/wiki/{slug}/revisions/1", 200),
            ("history", f"/wiki/{slug}/history", 200),
            ("diff", f"/wiki/{slug}/diff?from=1&to=3", 200),
            ("recent changes", "/pages/recent", 200),
            ("page index", "/pages/", 200),
            ("links here", f"/wiki/{site['council']}/links-here", 200),
            ("sign-in", "/login", 200),
            ("404", "/wiki/no-such-page", 404),
        ]:
            check.goto(path, status)
            assert page.evaluate("document.documentElement.lang") == language, (path, language)
            check.check(label)

        # Wrong password: the sign-in page with its error.
        check.goto("/login")
        page.fill("#username", "maria")
        page.fill("#password", "wrong")
        with page.expect_navigation():
            page.press("#password", "Enter")
        check.check("sign-in error")

        # Signed in.
        check.sign_in(site["user"])
        for label, path in [
            ("home, signed in", "/"),
            ("wiki page, signed in", f"/wiki/{slug}"),
            ("edit", f"/wiki/{slug}/edit"),
            ("new page", "/pages/new"),
            ("rename", f"/wiki/{slug}/rename"),
            ("history, signed in", f"/wiki/{slug}/history"),
            ("diff, signed in", f"/wiki/{slug}/diff?from=2&to=3"),
            ("recent changes, signed in", "/pages/recent"),
        ]:
            check.goto(path)
            check.check(label)

        # Preview and a refused save (empty title) on the edit page.
        check.goto(f"/wiki/{slug}/edit")
        with page.expect_navigation():
            page.click("#preview")
        check.check("edit with preview")
        page.fill("#title", "")
        page.eval_on_selector("#title", "el => el.removeAttribute('required')")
        with page.expect_navigation():
            page.click("#save")
        check.check("edit with errors")

        # Edit conflict: someone saves while this person is editing.
        check.goto(f"/wiki/{slug}/edit")
        rich = site["page"]
        db.session.refresh(rich)
        services.update_page(site["user"], rich, PageInput(
            title=rich.title, body=RICH_BODY + "\nΑλλαγή από άλλον.\n", language="el", tags=["άδειες"],
            visibility="public", summary="Ταυτόχρονη αλλαγή"), rich.revision, app.config["KNET"]["max_body_bytes"])
        db.session.commit()
        page.fill("#body", page.input_value("#body") + "\nΗ δική μου αλλαγή.\n")
        with page.expect_navigation() as navigation:
            page.click("#save")
        assert navigation.value.status == 409, navigation.value.status
        assert page.locator(".conflict").count() == 1
        check.check("edit conflict")

        check.goto("/wiki/no-such-page", 404)
        check.check("404, signed in")
        check.finish()
    finally:
        context.close()


def test_axe_does_report_a_planted_violation(page):
    """The harness itself: axe is really injected and running, so zero violations above means something."""
    page.set_content('<!doctype html><html><head><title>x</title></head><body><main>'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text"></main></body></html>')
    inject_axe(page)
    ids = {violation["id"] for violation in page.evaluate(AXE_RUN)["violations"]}
    assert {"image-alt", "label", "html-has-lang"} <= ids, ids
