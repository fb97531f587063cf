"""The trainers' pages in a real Chromium: a course built and published by keyboard alone, and axe
(WCAG 2.1 A/AA) on every trainer page in Greek and English, at desktop and phone width."""
from __future__ import annotations

import pytest

from knet.db import db
from learning import structure, versions
from learning.models import Course
from learning.structure import OptionInput, QuestionInput
from tests.browser.conftest import activate, focused, sign_in_through_form, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker
from tests.learning.conftest import make_course  # noqa: F401 - the learning tests' course factory, as a fixture here

pytestmark = pytest.mark.browser


def type_into(page, selector: str, words: str, **tab) -> None:
    """Tab to a text box and type into it."""
    tab_to(page, selector, **tab)
    page.keyboard.type(words)


def add_step(page, title: str, kind: str) -> None:
    """Type a title into the module's box for a new step and press its button ("Add a lesson" or "Add a quiz")."""
    type_into(page, "input[id$='-new-title']", title, max_tabs=120)
    tab_to(page, f"button[value='{kind}']", max_tabs=3)
    activate(page)


def write_lesson(page, body: str) -> None:
    assert "/items/" in page.url and page.locator("textarea#body").count() == 1, page.url
    type_into(page, "textarea#body", body)
    tab_to(page, "#save")
    activate(page)
    assert page.url.split("#")[0].endswith("/edit") and "/items/" not in page.url, page.url


def test_a_trainer_builds_and_publishes_a_course_by_keyboard(page, live_server, make_user):
    trainer = make_user("tina", role="trainer")
    sign_in_through_form(page, live_server, trainer)
    page.goto(live_server("/learning/teaching"))

    tab_to(page, "#new-course")
    activate(page)
    assert page.url.endswith("/learning/courses/new")
    type_into(page, "#title", "Δημόσιες συμβάσεις")
    type_into(page, "#summary", "Τα βασικά των προμηθειών.", max_tabs=3)
    tab_to(page, "#save", max_tabs=40)
    activate(page)
    assert page.url.endswith("/edit"), page.url
    course_id = int(page.url.split("/")[-2])

    type_into(page, "#new-module-title", "Εισαγωγή", max_tabs=80)
    activate(page)  # Enter in the box adds the module
    assert "Εισαγωγή" in page.locator("#outline").inner_text()

    add_step(page, "Τι είναι σύμβαση", "lesson")
    write_lesson(page, "Μια **συμφωνία** με τον ανάδοχο.")
    add_step(page, "Η απευθείας ανάθεση", "lesson")
    write_lesson(page, "Μέχρι το όριο του νόμου.")

    add_step(page, "Τεστ", "quiz")
    assert "/items/" in page.url
    tab_to(page, "#add-question")
    activate(page)
    assert page.url.endswith("/questions/new")
    tab_to(page, "#kind-0")  # single choice is chosen; the arrow keys would choose another kind
    assert page.is_checked("#kind-0")
    type_into(page, "textarea#prompt", "Ποιο είναι το όριο της απευθείας ανάθεσης;")
    type_into(page, "#options-0-text", "30.000 €")
    tab_to(page, "#options-0-correct", max_tabs=2)
    page.keyboard.press("Space")
    assert page.is_checked("#options-0-correct")
    type_into(page, "#options-1-text", "300.000 €")
    tab_to(page, "#save", max_tabs=80)
    activate(page)
    assert "30.000 €" in page.locator("#questions").inner_text(), page.inner_text("main")

    tab_to(page, ".trainer-back a", backwards=True)
    activate(page)
    type_into(page, "#publish-note", "Πρώτη έκδοση", backwards=True, max_tabs=80)
    tab_to(page, "#publish", max_tabs=2)
    activate(page)
    assert page.locator(".messages").is_visible() and "#" not in page.url.split("/")[-1], focused(page)
    assert page.locator("#publish").inner_text().endswith("2")  # the next one would be version 2

    db.session.expire_all()
    course = db.session.get(Course, course_id)
    assert course.state == "published" and course.published_version == 1
    assert [(item.kind, item.title) for item in course.modules[0].items] == [
        ("lesson", "Τι είναι σύμβαση"), ("lesson", "Η απευθείας ανάθεση"), ("quiz", "Τεστ")]
    lesson, _second, quiz = course.modules[0].items
    assert lesson.body == "Μια **συμφωνία** με τον ανάδοχο."
    assert [(o["text"], o["correct"]) for o in quiz.questions[0].options] == [("30.000 €", True), ("300.000 €", False)]
    snapshot = versions.get_version(course).snapshot
    assert [item["title"] for item in versions.items_of(snapshot)] == ["Τι είναι σύμβαση", "Η απευθείας ανάθεση", "Τεστ"]


@pytest.fixture
def two_versions(make_user, make_course):
    """A course published twice (a lesson changed, a module added), for the versions and compare pages."""
    trainer = make_user("tina", role="trainer")
    course = make_course(trainer, "Δημόσιες συμβάσεις για αρχάριους με πολύ μεγάλο τίτλο μαθήματος")
    first = course.modules[0].items[0]
    structure.update_lesson(trainer, first, first.title, "Το κείμενο άλλαξε.\n\nΚαι μια νέα παράγραφος.")
    second = structure.add_module(trainer, course, "Δεύτερη ενότητα")
    structure.add_lesson(trainer, second, "Ένα ακόμη μάθημα", "Κείμενο.")
    quiz = course.modules[0].items[-1]
    structure.add_question(trainer, quiz, QuestionInput(kind="numeric", prompt="Πόσο κάνει 5 / 2;", number=2.5,
                                                        tolerance=0.1, feedback="Πέντε διά δύο."))
    structure.add_question(trainer, quiz, QuestionInput(
        kind="multiple", prompt="Τι αναρτάται;", options=[OptionInput("Σύμβαση", True, "Ναι."),
                                                         OptionInput("Σημείωμα", False, "Όχι.")]))
    versions.publish(trainer, course, "Διορθώσεις")
    db.session.commit()
    return trainer, course, quiz


@pytest.mark.parametrize("language", ["el", "en"])
def test_trainer_pages_have_no_axe_violations_and_fit_a_phone(language, browser, live_server, two_versions):
    trainer, course, quiz = two_versions
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    base = f"/learning/courses/{course.id}"
    lesson = course.modules[0].items[0]
    try:
        check = Checker(context, live_server)
        check.sign_in(trainer)
        for label, path in [
            ("courses I teach", "/learning/teaching"), ("new course", "/learning/courses/new"),
            ("editing a course and its outline", f"{base}/edit"),
            ("editing a lesson", f"{base}/items/{lesson.id}/edit"), ("editing a quiz", f"{base}/items/{quiz.id}/edit"),
            ("a new question", f"{base}/items/{quiz.id}/questions/new"),
            ("editing a question", f"{base}/items/{quiz.id}/questions/{quiz.questions[0].id}/edit"),
            ("deleting a module", f"{base}/modules/{course.modules[0].id}/delete"),
            ("versions", f"{base}/versions"), ("comparing versions", f"{base}/versions/compare?from=1&to=2"),
        ]:
            check.goto(path)
            assert check.page.evaluate("document.documentElement.lang") == language
            check.check(label)

        check.goto(f"{base}/items/{quiz.id}/questions/new")  # refused: the reasons sit next to their fields
        check.page.check("#kind-0")
        check.page.fill("#prompt", "Ποια είναι σωστά;")
        check.page.fill("#options-0-text", "Α")
        check.page.check("#options-0-correct")
        check.page.fill("#options-1-text", "Β")
        check.page.check("#options-1-correct")
        with check.page.expect_navigation():
            check.page.click("#save")
        assert check.page.locator("#options-error").is_visible()
        check.check("a refused question")

        check.goto(f"{base}/edit")  # a module without a title: refused on the outline, the rest as it was
        with check.page.expect_navigation():
            check.page.click("#add-module")
        assert check.page.locator("#new-module-title-error").is_visible()
        check.check("a refused module")

        check.goto("/learning/courses/new")
        check.page.fill("#title", "ab")
        check.page.fill("#estimated_minutes", "πολλά")
        with check.page.expect_navigation():
            check.page.click("#save")
        assert check.page.locator("#title-error").is_visible()
        check.check("a refused new course")
        check.finish()
    finally:
        context.close()
