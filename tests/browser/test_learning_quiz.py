"""Taking a quiz in a real Chromium by keyboard, failing then passing it, and reaching the certificate;
axe (WCAG 2.1 A/AA) on the quiz, its result and the certificate, in Greek and English."""
from __future__ import annotations

import pytest

from knet.db import db
from learning import progress
from tests.browser.conftest import activate, sign_in_through_form, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker
from tests.learning.conftest import make_course, make_quiz  # noqa: F401  (the course factories, as fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def enrolled(make_user, make_quiz):
    """Lena is enrolled in a course with one lesson (read) and a quiz of four questions."""
    made = make_quiz(make_user("tina", role="trainer"))
    lena = make_user("lena", role="reader")
    lena.display_name = "Ελένη Λαμπράκη"
    progress.enrol(lena, made.course)
    progress.open_item(lena, made.course, made.course.modules[0].items[0].key)
    db.session.commit()
    return lena, made


def test_a_learner_fails_then_passes_a_quiz_by_keyboard_and_gets_the_certificate(page, live_server, enrolled):
    lena, made = enrolled
    sign_in_through_form(page, live_server, lena)
    page.context.add_cookies([{"name": "knet_lang", "value": "en", "url": live_server.url}])
    address = live_server(f"/learning/courses/{made.course.id}/quizzes/{made.quiz}")
    page.goto(address)
    tab_to(page, "#submit-quiz")  # nothing answered
    activate(page)
    assert "Not passed yet" in page.locator("#quiz-outcome").inner_text()

    page.goto(address)
    tab_to(page, f"#q-{made.questions['single']}-{made.options['30.000 €']}")
    page.keyboard.press("Space")
    for option in ("Σύμβαση", "Απόφαση ανάθεσης"):
        tab_to(page, f"#q-{made.questions['multiple']}-{made.options[option]}")
        page.keyboard.press("Space")
    tab_to(page, f"#q-{made.questions['truefalse']}-true")
    page.keyboard.press("Space")
    tab_to(page, f"#q-{made.questions['numeric']}")
    page.keyboard.type("2,5")
    tab_to(page, "#submit-quiz")
    activate(page)
    outcome = page.locator("#quiz-outcome").inner_text()
    assert "Passed" in outcome and "You have completed the course." in outcome
    tab_to(page, "a", text="See your certificate")
    activate(page)
    assert "/learning/certificates/" in page.url
    assert "Ελένη Λαμπράκη" in page.locator("main").inner_text()


@pytest.mark.parametrize("language", ["el", "en"])
def test_quiz_pages_have_no_axe_violations_and_fit_a_phone(language, browser, live_server, enrolled):
    lena, made = enrolled
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        check.sign_in(lena)
        address = f"/learning/courses/{made.course.id}/quizzes/{made.quiz}"
        check.goto(address)
        assert check.page.evaluate("document.documentElement.lang") == language
        check.check("quiz")
        check.page.fill(f"#q-{made.questions['numeric']}", "δύο")
        with check.page.expect_navigation():
            check.page.click("#submit-quiz")
        check.check("quiz, refused answer")
        check.goto(address)
        check.page.check(f"#q-{made.questions['single']}-{made.options['300.000 €']}")
        with check.page.expect_navigation():
            check.page.click("#submit-quiz")
        check.check("quiz result, not passed")
        check.goto(address)
        for kind, option in (("single", "30.000 €"), ("multiple", "Σύμβαση"), ("multiple", "Απόφαση ανάθεσης")):
            check.page.check(f"#q-{made.questions[kind]}-{made.options[option]}")
        check.page.check(f"#q-{made.questions['truefalse']}-true")
        check.page.fill(f"#q-{made.questions['numeric']}", "2.5")
        with check.page.expect_navigation():
            check.page.click("#submit-quiz")
        check.check("quiz result, passed")
        with check.page.expect_navigation():
            check.page.click("#quiz-outcome a")
        check.check("certificate")
        check.finish()
    finally:
        context.close()
