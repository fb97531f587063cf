"""Assignments in a real Chromium: the trainer assigns a course to a department by keyboard alone, the
learner finds it with its due date in "My learning"; axe (WCAG 2.1 A/AA) on both pages, in Greek and
English, with a refused form showing its reason."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from learning.models import Assignment
from knet.db import db
from tests.browser.conftest import focused, sign_in_through_form, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker
from tests.learning.conftest import make_course  # noqa: F401 - the learning tests' factory, as a fixture
from tests.learning.test_assignments import course, day, town  # noqa: F401 - departments, groups and people

pytestmark = pytest.mark.browser


def test_a_trainer_assigns_by_keyboard_and_the_learner_sees_the_due_date(page, live_server, town, course):
    sign_in_through_form(page, live_server, town["trainer"])
    page.goto(live_server(f"/learning/courses/{course.id}/assignments"))
    tab_to(page, "#department-department", max_tabs=60)
    page.keyboard.press("ArrowDown")  # the first department: Διεύθυνση Οικονομικών, with Payroll below it
    tab_to(page, "#department-due", max_tabs=5)
    # The date field's own picker orders day, month and year by the browser's locale: fill it as ISO.
    page.fill("#department-due", day(21))
    tab_to(page, "#assign-department", max_tabs=6)  # past the field's day, month and year
    assert "assign-department" in focused(page), focused(page)
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages")
    assignment = db.session.scalar(select(Assignment))
    assert assignment.department_id == town["finance"].id and assignment.due_at.date().isoformat() == day(21)

    page.context.clear_cookies()
    sign_in_through_form(page, live_server, town["kostas"])
    page.goto(live_server("/learning/mine"))
    heading = page.locator("#assigned-heading")
    assert heading.count() == 1
    section = page.locator("section", has=heading).inner_text()
    assert "Κλείσιμο μισθοδοσίας" in section


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_assignment_pages_have_no_axe_violations(language, browser, live_server, town, course):
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        check.sign_in(town["trainer"])
        check.goto(f"/learning/courses/{course.id}/assignments")
        check.check("the assignments page, empty")
        check.page.select_option("#group-group", index=1)
        check.page.fill("#group-due", "2000-01-01")
        check.page.click("form[action$='/assignments/group'] button[type=submit]")
        assert check.page.locator("#group-due-error").count() == 1
        check.check("the assignments page with a refused form")
        check.page.select_option("#department-department", index=1)
        check.page.click("form[action$='/assignments/department'] button[type=submit]")
        check.page.wait_for_selector("table.records")
        check.check("the assignments page with an assignment")
        check.page.context.clear_cookies()
        context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
        check.sign_in(town["kostas"])
        check.goto("/learning/mine")
        check.check("My learning with an assigned course")
        check.finish()
    finally:
        context.close()
