"""The learner's pages in a real Chromium: finding a course, enrolling and reading lessons by keyboard,
and axe (WCAG 2.1 A/AA) in Greek and English on the catalogue, a course, a lesson and "My learning"."""
from __future__ import annotations

import pytest

from knet import jobs
from knet.db import db
from learning import progress
from tests.browser.conftest import activate, sign_in_through_form, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker
from tests.learning.conftest import complete_course, make_course  # noqa: F401 - fixtures used below

pytestmark = pytest.mark.browser

DESCRIPTION = """\
Ό,τι χρειάζεται για τις **απευθείας αναθέσεις** ενός δήμου.

| Διαδικασία | Όριο |
|---|---|
| Απευθείας ανάθεση υπηρεσιών με πολύ μεγάλο όνομα διαδικασίας | 30.000 € |

Δείτε και https://example.org/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
"""


@pytest.fixture
def school(make_user, make_course, complete_course):  # noqa: F811 - the imported fixtures
    """A public course of two lessons and a quiz, a course that needs it first, and a learner who has
    completed another course (so "My learning" has something in each part)."""
    trainer, learner = make_user("tina", role="trainer"), make_user("lena", role="reader")
    trainer.display_name, learner.display_name = "Τίνα Εκπαιδεύτρια", "Λένα Μαθήτρια"
    db.session.commit()
    course = make_course(trainer, "Δημόσιες συμβάσεις για αρχάριους", visibility="public", estimated_minutes=90,
                         tags=["Προμήθειες", "ΕΣΗΔΗΣ"], description=DESCRIPTION)
    advanced = make_course(trainer, "Προχωρημένες συμβάσεις", visibility="public", estimated_minutes=300,
                           prerequisites=[course.id])
    done = make_course(trainer, "Πυρασφάλεια στα δημοτικά κτίρια", visibility="internal", lessons=1, quiz=False)
    complete_course(learner, done)
    jobs.run_pending()
    return {"trainer": trainer, "learner": learner, "course": course, "advanced": advanced}


def test_a_learner_finds_a_course_enrols_and_reads_two_lessons_by_keyboard(page, live_server, school):
    course = school["course"]
    sign_in_through_form(page, live_server, school["learner"])
    page.goto(live_server("/learning/courses"))
    tab_to(page, "#catalogue-q")
    page.keyboard.type("αναθέσεις")
    activate(page)
    assert page.locator(".course-card h2").all_inner_texts() == ["Δημόσιες συμβάσεις για αρχάριους"]

    tab_to(page, "a", "Δημόσιες συμβάσεις για αρχάριους")
    activate(page)
    assert page.url == live_server(f"/learning/courses/{course.id}")
    tab_to(page, "#enrol")
    activate(page)
    assert page.locator(".messages").inner_text().strip()
    assert page.get_attribute("#course-progress", "value") == "0"
    assert progress.enrolment_of(school["learner"], course) is not None

    tab_to(page, "#resume")
    activate(page)
    first, second = (step.item for step in progress.outline(course, None).steps[:2])
    assert page.locator("#step-title").inner_text() == first["title"]
    assert page.get_attribute("#step-progress", "value") == "1"
    assert page.get_attribute("#step-progress", "max") == "3"
    label = page.locator("#step-progress-label").inner_text()

    tab_to(page, "#next-step")
    activate(page)
    assert page.locator("#step-title").inner_text() == second["title"]
    assert page.get_attribute("#step-progress", "value") == "2"
    assert page.locator("#step-progress-label").inner_text() != label  # the words move on with the bar
    db.session.expire_all()
    assert progress.outline(course, progress.enrolment_of(school["learner"], course)).done == 2


@pytest.mark.parametrize("language", ["el", "en"])
def test_learning_pages_have_no_axe_violations_and_fit_a_phone(language, browser, live_server, school):
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    course, advanced = school["course"], school["advanced"]
    try:
        check = Checker(context, live_server)
        for label, path, status in [("catalogue, anonymous", "/learning/courses", 200),
                                    ("catalogue, narrowed", "/learning/courses?q=συμβασεις&duration=medium", 200),
                                    ("course, anonymous", f"/learning/courses/{course.id}", 200),
                                    ("no such course", "/learning/courses/999", 404)]:
            check.goto(path, status)
            assert check.page.evaluate("document.documentElement.lang") == language
            check.check(label)

        check.sign_in(school["learner"])
        for label, path in [("catalogue, signed in", "/learning/courses"),
                            ("course, before enrolling", f"/learning/courses/{course.id}"),
                            ("course with a prerequisite missing", f"/learning/courses/{advanced.id}")]:
            check.goto(path)
            check.check(label)

        progress.enrol(school["learner"], course)
        db.session.commit()
        steps = progress.outline(course, None).steps
        for label, path in [("lesson", f"/learning/courses/{course.id}/steps/{steps[0].item['key']}"),
                            ("quiz step", f"/learning/courses/{course.id}/steps/{steps[2].item['key']}"),
                            ("course, enrolled", f"/learning/courses/{course.id}"),
                            ("my learning", "/learning/mine")]:
            check.goto(path)
            check.check(label)
        check.finish()
    finally:
        context.close()
