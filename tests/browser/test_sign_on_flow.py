"""Working at another municipality with one's home sign-in, in a real Chromium between two real nodes (separate
`knet run` processes): a person of Athens searches every municipality from Athens, opens Thessaloniki's
question as Athens keeps it, chooses "answer at its home", agrees once at Athens, answers at Thessaloniki
(named there with their municipality), and sees the answer come back to Athens; the second time, no consent
screen. axe (WCAG 2.1 A/AA) on the consent screen in Greek and English, and on the network search page."""
from __future__ import annotations

import pytest

from auth import services as auth_services
from federation.models import Replica
from knet.db import db
from qa import services as qa
from tests.browser.conftest import watch_csp
from tests.browser.test_accessibility import AXE_RUN, DESKTOP, _violations_message, inject_axe
from tests.federation.conftest import make_node  # noqa: F401 - a fixture
from tests.federation.network import FAST, at, eventually, peer_all, writer

pytestmark = pytest.mark.browser

PASSWORD = "a long test password"


@pytest.fixture
def towns(make_node):  # noqa: F811 - the imported fixture
    athens = make_node("Δήμος Αθηναίων", worker=True, **FAST)
    thessaloniki = make_node("Δήμος Θεσσαλονίκης", worker=True, **FAST)
    peer_all(athens, thessaloniki)
    with at(athens):
        for username, name in (("maria", "Μαρία Παπαδοπούλου"), ("john", "John Smith")):
            auth_services.create_local_user(username, PASSWORD, role="editor", display_name=name)
        db.session.commit()
    with at(thessaloniki):
        question = qa.ask(writer(), qa.QuestionInput("Πώς δηλώνουμε βλάβη στον ηλεκτροφωτισμό;",
                                                     "Ποια εφαρμογή χρησιμοποιείτε για τις βλάβες;",
                                                     visibility="network"))
        db.session.commit()
        question_path = f"/questions/{question.id}"
    return athens, thessaloniki, question_path


def axe(page, label: str) -> list[str]:
    inject_axe(page)
    violations = page.evaluate(AXE_RUN)["violations"]
    return [f"[{label}] " + _violations_message(page.url, violations)] if violations else []


def sign_in_at(page, node, username: str) -> None:
    page.goto(f"{node.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")
    assert "/login" not in page.url, page.inner_text("main")


def consent_screens(page) -> list[str]:
    """Start counting the consent screens the page is shown (the provider's authorize page answering 200)."""
    shown: list[str] = []
    page.on("response", lambda response: shown.append(response.url)
            if "/oauth/authorize" in response.url and response.status == 200 else None)
    return shown


def open_at_home(page, athens, question_path: str) -> None:
    """From Athens's network search to its copy of the question, and its link home."""
    page.goto(f"{athens.url}/search?q=βλάβη ηλεκτροφωτισμό&scope=network")
    with page.expect_navigation():
        page.click(".search-results h2 a")
    assert "/network/object" in page.url
    with page.expect_navigation():
        page.click("a[rel=external]")


def test_answering_at_another_municipality_with_ones_home_sign_in(browser, towns):
    athens, thessaloniki, question_path = towns
    eventually(lambda: _copies_at(athens) >= 1, "Athens keeps a copy of Thessaloniki's question")
    problems: list[str] = []
    watches = []
    context = browser.new_context(viewport=DESKTOP, locale="el-GR")
    # The forms on the way (signing in, consenting) lead through redirects to the other node: the policy of
    # each page must allow that, or Chromium stops the flow.
    watches.append(watch_csp(context))
    try:
        page = context.new_page()
        shown = consent_screens(page)
        sign_in_at(page, athens, "maria")
        page.goto(f"{athens.url}/search?q=βλάβη ηλεκτροφωτισμό&scope=network")
        problems += axe(page, "network search with facets, el")
        open_at_home(page, athens, question_path)
        # Athens asks once whether Thessaloniki may learn who Maria is.
        assert page.url.startswith(f"{athens.url}/oauth/authorize"), page.url
        assert "Δήμος Θεσσαλονίκης" in page.inner_text("main")
        assert page.evaluate("document.documentElement.lang") == "el"
        problems += axe(page, "consent, el")
        with page.expect_navigation():
            page.click("button[name=allow], input[name=allow]")
        assert page.url == f"{thessaloniki.url}{question_path}", page.url
        assert len(shown) == 1
        page.fill("form[action$='/answers'] textarea", "Χρησιμοποιούμε την εφαρμογή «Βλάβες» του δήμου μας.")
        with page.expect_navigation():
            page.click("form[action$='/answers'] button, form[action$='/answers'] input[type=submit]")
        answer = page.locator("article.answer").filter(has_text="εφαρμογή «Βλάβες»").first
        assert "Μαρία Παπαδοπούλου (Δήμος Αθηναίων)" in answer.inner_text()
        # The answer travels home: Athens's copy of the question shows it.
        eventually(lambda: "εφαρμογή «Βλάβες»" in _copy_page(page, athens, thessaloniki, question_path),
                   "Maria's answer reaches Athens's copy of the question")
    finally:
        context.close()

    # A second time, in a new browser: signed in at Athens, "answer at its home" needs no consent screen.
    context = browser.new_context(viewport=DESKTOP, locale="el-GR")
    watches.append(watch_csp(context))
    try:
        page = context.new_page()
        shown = consent_screens(page)
        sign_in_at(page, athens, "maria")
        open_at_home(page, athens, question_path)
        assert page.url == f"{thessaloniki.url}{question_path}" and shown == []
        assert page.locator("form[action$='/answers'] textarea").count() == 1  # signed in at Thessaloniki, ready to answer
    finally:
        context.close()

    # The consent screen in English, for John.
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    context.add_cookies([{"name": "knet_lang", "value": "en", "url": athens.url}])
    watches.append(watch_csp(context))
    try:
        page = context.new_page()
        sign_in_at(page, athens, "john")
        open_at_home(page, athens, question_path)
        assert page.url.startswith(f"{athens.url}/oauth/authorize")
        assert page.evaluate("document.documentElement.lang") == "en"
        problems += axe(page, "consent, en")
        page.goto(f"{athens.url}/search?q=βλάβη ηλεκτροφωτισμό&scope=network")
        problems += axe(page, "network search with facets, en")
    finally:
        context.close()
    for watch in watches:
        problems += watch.problems()
    assert not problems, "\n".join(problems)


def _copies_at(node) -> int:
    with at(node):
        return db.session.query(Replica).filter(Replica.kind == "question").count()


def _copy_page(page, athens, thessaloniki, question_path: str) -> str:
    page.goto(f"{athens.url}/network/object?uri={thessaloniki.url}{question_path}")
    return page.inner_text("main")
