"""Q&A in a real Chromium: asking, answering, voting, accepting and marking a duplicate by keyboard alone,
and axe (WCAG 2.1 A and AA) on the question list, a question, the ask form and the moderators' page, in
Greek and in English."""
from __future__ import annotations

import re

import pytest

from knet import jobs
from knet.db import db
from qa import moderation, services
from qa.services import QuestionInput
from tests.browser.conftest import activate, sign_in_through_form, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker

pytestmark = pytest.mark.browser

SIMILAR = "#title-suggestions [role=option]"
TAG_OPTIONS = "#tags-suggestions [role=option]"
OPEN_DETAILS = "document.querySelectorAll('details').forEach(d => { d.open = true; })"


@pytest.fixture
def colleagues(make_user):
    return {"maria": make_user("maria", role="reader"), "nikos": make_user("nikos", role="reader"),
            "eleni": make_user("eleni", role="moderator")}


def test_ask_answer_vote_accept_and_mark_a_duplicate_by_keyboard(browser, live_server, colleagues):
    maria, nikos = colleagues["maria"], colleagues["nikos"]
    earlier = services.ask(nikos, QuestionInput(title="Πώς υπολογίζεται η υπερωρία των υπαλλήλων;",
                                                body="Ποιος είναι ο τύπος;", tags=["Μισθοδοσία"]))
    db.session.commit()
    jobs.run_pending()  # the search index finds the earlier question

    asking = browser.new_context(locale="el-GR", viewport=DESKTOP)
    answering = browser.new_context(locale="el-GR", viewport=DESKTOP)
    try:
        page = asking.new_page()
        sign_in_through_form(page, live_server, maria)

        # Ask, seeing on the way that a similar question exists and choosing a tag in use.
        page.goto(live_server("/"))
        tab_to(page, "header nav a[href='/questions']")
        activate(page)
        tab_to(page, "main a[href^='/questions/ask']")
        activate(page)
        tab_to(page, "#title")
        page.keyboard.type("Υπερωρία υπαλλήλων")
        page.wait_for_selector(SIMILAR)
        box = page.locator("#title")
        assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "true"
        assert page.locator(SIMILAR + " .suggestion-title").all_inner_texts()[0] == earlier.title
        page.keyboard.press("Escape")  # not that one: mine is another question
        assert box.get_attribute("aria-expanded") == "false"
        page.keyboard.type(" τα Σαββατοκύριακα: πώς πληρώνεται;")
        tab_to(page, "textarea#body", max_tabs=4)
        page.keyboard.type("Ισχύει η ίδια προσαύξηση τις Κυριακές;")
        tab_to(page, "#tags", max_tabs=4)
        page.keyboard.type("μισθ")
        page.wait_for_selector(TAG_OPTIONS)
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        assert page.locator("#tags").input_value() == "Μισθοδοσία, "
        tab_to(page, "#save")
        activate(page)
        assert re.search(r"/questions/\d+$", page.url), page.url
        question_url = page.url
        assert "Υπερωρία υπαλλήλων τα Σαββατοκύριακα" in page.inner_text("h1")

        # Nikos answers, by keyboard, in a browser of his own.
        other = answering.new_page()
        sign_in_through_form(other, live_server, nikos)
        other.goto(question_url)
        tab_to(other, "textarea#body", max_tabs=80)
        other.keyboard.type("Ναι, με προσαύξηση 75%.")
        tab_to(other, "#save", max_tabs=3)
        activate(other)
        assert "#answer-" in other.url
        assert "προσαύξηση 75%" in other.inner_text("#answers")

        # Maria votes the answer up; the button says it is pressed.
        page.reload()
        tab_to(page, "#answers button[name=value][value='1']", max_tabs=80)
        assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "false"
        activate(page)
        pressed = page.locator("#answers button[aria-pressed=true]")
        assert pressed.count() == 1 and pressed.get_attribute("value") == "0"  # pressed again, it takes the vote back

        # …and accepts it: it carries the words "Accepted answer" (in the page's language).
        tab_to(page, "#answers form[action$='/accept'] button", max_tabs=80)
        activate(page)
        badge = page.locator("#answers .accepted-badge")
        assert badge.count() == 1 and badge.inner_text().strip() not in ("", "✓")

        # Maria's question repeats Nikos's earlier one: she closes it as a duplicate.
        tab_to(page, "#duplicate-tool summary", max_tabs=80, backwards=True)
        page.keyboard.press("Enter")  # opens the form
        tab_to(page, "#duplicate-original", max_tabs=3)
        page.keyboard.type(str(earlier.id))
        tab_to(page, "form[action$='/duplicate'] button", max_tabs=3)
        activate(page)
        link = page.locator(f"header .notice a[href='/questions/{earlier.id}']")
        assert link.count() == 1 and link.inner_text() == earlier.title
        assert page.locator("textarea#body").count() == 0  # it takes no more answers
    finally:
        asking.close()
        answering.close()


@pytest.fixture
def forum(app, colleagues):
    """Questions in every state a page can show: answered and accepted, commented, closed, a duplicate, flagged."""
    maria, nikos, eleni = colleagues["maria"], colleagues["nikos"], colleagues["eleni"]
    tags = ["Μισθοδοσία", "υπερωρίες"]
    solved = services.ask(maria, QuestionInput(
        title="Πώς υπολογίζεται η υπερωρία των υπαλλήλων;", tags=tags,
        body="Ποιος είναι ο τύπος;\n\n| Ημέρα | Προσαύξηση |\n|---|---|\n| Κυριακή | 75% |\n\n```\nωρομίσθιο * 1,75\n```"))
    first = services.answer(nikos, solved, "Με τον τύπο του **νόμου 4354/2015**.")
    second = services.answer(eleni, solved, "Δείτε και την εγκύκλιο του υπουργείου.")
    services.accept(maria, first)
    services.vote(maria, 1, answer=second)
    services.comment(nikos, "Για ποιο έτος ρωτάτε;", question=solved)
    services.comment(maria, "Ευχαριστώ πολύ!", answer=first)
    closed = services.ask(nikos, QuestionInput(title="Ερώτηση εκτός θέματος για το πάρκινγκ", body="Πού παρκάρω;"))
    moderation.close(eleni, closed, "Εκτός θέματος")
    repeat = services.ask(nikos, QuestionInput(title="Υπερωρία: ποιος ο τύπος υπολογισμού;", body="Τύπος;",
                                               language="el", visibility="public"))
    moderation.mark_duplicate(nikos, repeat, solved)
    moderation.flag(maria, "answer", second.id, "Δεν απαντά στην ερώτηση")
    services.edit_question(maria, solved, QuestionInput(title=solved.title, body=solved.body + "\n\nΚαι τις αργίες;",
                                                        tags=tags, summary="Προσθήκη για αργίες"))
    db.session.commit()
    jobs.run_pending()
    return {"solved": solved, "closed": closed, "repeat": repeat}


@pytest.mark.parametrize("language", ["el", "en"])
def test_qa_pages_have_no_axe_violations_and_fit_a_phone(language, browser, live_server, colleagues, forum):
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        solved = forum["solved"].id
        for label, path in [("question list, anonymous", "/questions"),
                            ("public duplicate, anonymous", f"/questions/{forum['repeat'].id}")]:
            check.goto(path)
            check.check(label)

        check.sign_in(colleagues["eleni"])
        for label, path in [
            ("question list", "/questions"),
            ("unanswered", "/questions?tab=unanswered&sort=score"),
            ("by tag", "/questions?tag=Μισθοδοσία"),
            ("nothing found", "/questions?tag=καμία"),
            ("question", f"/questions/{solved}"),
            ("closed question", f"/questions/{forum['closed'].id}"),
            ("duplicate", f"/questions/{forum['repeat'].id}"),
            ("ask form", "/questions/ask"),
            ("edit form", f"/questions/{solved}/edit"),
            ("history with a diff", f"/questions/{solved}/history?from=1&to=2"),
            ("moderation", "/moderation"),
        ]:
            check.goto(path)
            assert check.page.evaluate("document.documentElement.lang") == language
            check.check(label)
            if check.page.locator("details").count():
                check.page.evaluate(OPEN_DETAILS)
                check.check(label + ", every form open")

        # The ask form refused (a title too short), and while it offers similar questions and tags.
        check.goto("/questions/ask")
        page = check.page
        page.fill("#title", "Γιατί;")
        page.fill("#body", "Κείμενο.")
        page.eval_on_selector("#title", "el => el.removeAttribute('required')")
        with page.expect_navigation():
            page.click("#save")
        check.check("ask form with errors")
        page.fill("#title", "")
        page.type("#title", "υπερωρία")
        page.wait_for_selector(SIMILAR)
        check.check("ask form offering similar questions")
        check.finish()
    finally:
        context.close()
