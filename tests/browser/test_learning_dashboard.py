"""The trainer's dashboard of a course in a real Chromium: axe (WCAG 2.1 A/AA) in Greek and English at
desktop and phone width, and the CSV file reached and downloaded by keyboard alone."""
from __future__ import annotations

import csv
import io

import pytest

from tests.browser.conftest import focused, sign_in_through_form, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker
from tests.learning.conftest import make_course, make_quiz  # noqa: F401 - the learning tests' factories, as fixtures
from tests.learning.test_dashboard import classroom, path, people  # noqa: F401 - a course with learners in every state

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_dashboard_has_no_axe_violations_and_fits_a_phone(language, browser, live_server, people, classroom,
                                                               make_course):
    course, _made, _second = classroom
    draft = make_course(people["trainer"], "Πρόχειρο μάθημα", publish=False)
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        check.sign_in(people["trainer"])
        check.goto(path(course))
        assert check.page.evaluate("document.documentElement.lang") == language
        assert check.page.locator("svg.chart[role=img]").count() == 4
        assert check.page.locator("table caption").count() == 5
        check.check("a course's dashboard")
        check.goto(path(draft))
        check.check("the dashboard of a course never published")
        check.finish()
    finally:
        context.close()


def test_the_csv_file_is_reached_and_downloaded_by_keyboard(page, live_server, people, classroom):
    course, _made, _second = classroom
    sign_in_through_form(page, live_server, people["trainer"])
    page.goto(live_server(path(course)))
    tab_to(page, "#csv-link", max_tabs=40)
    assert page.evaluate("document.activeElement.getAttribute('href')") == path(course, csv_file=True), focused(page)
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    download = info.value
    name = download.suggested_filename  # in the page's language (Greek): the course's title, then a word for what it is
    assert name.startswith("Προμήθειες-στην-πράξη-") and name.endswith(".csv"), name
    with open(download.path(), encoding="utf-8-sig") as file:  # utf-8-sig: the byte-order mark is there
        rows = list(csv.reader(io.StringIO(file.read())))
    assert rows[0][1] == "Προμήθειες στην πράξη"
    assert [cells[1] for cells in rows[4:8]] == ["6", "1", "4", "1"]  # enrolled, not started, in progress, completed
