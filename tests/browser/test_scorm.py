"""SCORM lessons in a real Chromium: a trainer uploads Rustici's golf package as a lesson and publishes; a
learner opens it; the package's runtime (in its sandboxed frame) reports Initialize, then completion, and
the learner's progress shows the lesson done, for SCORM 1.2 and 2004. The frame cannot reach the page
around it, its files carry the strict policy, and the player page passes axe in Greek and English."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from knet.db import db
from learning import progress, scorm_package, structure, versions
from learning.models import Course, Enrolment, ScormState
from tests.browser.conftest import sign_in_through_form
from tests.browser.test_accessibility import DESKTOP, Checker
from tests.learning.conftest import make_course  # noqa: F401 - the learning tests' course factory, as a fixture here
from tests.learning.test_scorm_package import GOLF_12, GOLF_2004

pytestmark = pytest.mark.browser

SCORM_FRAME = re.compile(r"/learning/scorm/[^/]+/")
#: What each version's SCO calls to start, report completion, save and end.
CALLS = {
    "1.2": ("API.LMSInitialize('')", "API.LMSSetValue('cmi.core.lesson_status', 'completed')",
            "API.LMSSetValue('cmi.core.score.raw', '80')", "API.LMSCommit('')", "API.LMSFinish('')"),
    "2004": ("API_1484_11.Initialize('')", "API_1484_11.SetValue('cmi.completion_status', 'completed')",
             "API_1484_11.SetValue('cmi.score.scaled', '0.8')", "API_1484_11.Commit('')",
             "API_1484_11.Terminate('')"),
}


def package_frame(page):
    page.wait_for_function("() => document.getElementById('scorm-frame') !== null")
    for _ in range(100):
        frame = next((frame for frame in page.frames if SCORM_FRAME.search(frame.url)), None)
        if frame is not None:
            frame.wait_for_load_state()
            return frame
        page.wait_for_timeout(50)
    pytest.fail("the package's frame never loaded")


def scorm_state(learner, key) -> ScormState | None:
    db.session.expire_all()
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    return db.session.get(ScormState, (enrolment.id, key)) if enrolment else None


@pytest.mark.parametrize("version, filename", [("1.2", GOLF_12), ("2004", GOLF_2004)])
def test_a_trainer_uploads_the_golf_package_and_a_learner_completes_it(version, filename, browser, live_server,
                                                                      make_user, make_course, corpus):
    trainer, learner = make_user("tina", role="trainer"), make_user("lena", role="reader")
    course = make_course(trainer, "Γκολφ", lessons=0, quiz=False, publish=False)
    module_id = course.modules[0].id

    context = browser.new_context(locale="el-GR", viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in_through_form(page, live_server, trainer)
        page.goto(live_server(f"/learning/courses/{course.id}/edit"))
        page.fill(f"#module-{module_id}-new-title", "Κανόνες του γκολφ")
        with page.expect_navigation():
            page.click("form.add-item button[value='scorm']")
        assert page.url.endswith("/scorm"), page.url
        page.set_input_files("#file", str(corpus / "scorm" / "packages" / filename))
        with page.expect_navigation():
            page.click("#upload")
        assert page.locator("dl.facts").inner_text().count(f"SCORM {version}") == 1, page.inner_text("main")
        page.goto(live_server(f"/learning/courses/{course.id}/edit"))
        with page.expect_navigation():
            page.click("#publish")
        db.session.expire_all()
        assert db.session.get(Course, course.id).published_version == 1
    finally:
        context.close()

    key = versions.items_of(versions.get_version(db.session.get(Course, course.id)).snapshot)[0]["key"]
    context = browser.new_context(locale="el-GR", viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in_through_form(page, live_server, learner)
        page.goto(live_server(f"/learning/courses/{course.id}"))
        with page.expect_navigation():
            page.click("#enrol")
        with page.expect_navigation():
            page.click("#resume")
        frame = package_frame(page)
        status = page.locator("#scorm-status")
        before = status.inner_text()

        initialize, set_status, set_score, commit, finish = CALLS[version]
        assert frame.evaluate(initialize) == "true"
        page.wait_for_function("() => document.getElementById('scorm-status').dataset.event === 'initialize'")
        assert status.inner_text() != before
        assert scorm_state(learner, key).launches == 1  # the server saw the attempt start

        for call in (set_status, set_score, commit):
            assert frame.evaluate(call) == "true", call
        page.wait_for_function("() => document.getElementById('scorm-status').dataset.done === 'true'")
        assert frame.evaluate(finish) == "true"
        page.wait_for_function("() => document.getElementById('scorm-status').dataset.event === 'finish'")
        assert "80%" in status.inner_text()

        state = scorm_state(learner, key)
        assert state.completion_status == "completed" and state.score_raw == (80 if version == "1.2" else None)
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
        assert progress.outline(db.session.get(Course, course.id), enrolment).complete

        page.goto(live_server(f"/learning/courses/{course.id}"))
        assert page.locator("#course-progress").get_attribute("value") == "1"
        assert page.locator("a[href^='/learning/certificates/']").count() == 1
    finally:
        context.close()


@pytest.fixture
def golf_course(make_user, make_course, corpus):
    """A published course whose SCORM lesson is the golf package for 1.2, and an enrolled learner."""
    trainer, learner = make_user("tina", role="trainer"), make_user("lena", role="reader")
    course = make_course(trainer, "Γκολφ", lessons=0, quiz=False, publish=False)
    item = structure.add_scorm(trainer, course.modules[0], "Κανόνες του γκολφ")
    scorm_package.add_package(trainer, item, "golf.zip", (corpus / "scorm" / "packages" / GOLF_12).read_bytes())
    structure.update_lesson(trainer, item, item.title, "Διαβάστε τους **κανόνες** του παιχνιδιού.")
    versions.publish(trainer, course)
    progress.enrol(learner, course)
    db.session.commit()
    return course, item.key, learner, trainer


def test_the_package_frame_cannot_reach_the_page_around_it(page, live_server, golf_course):
    course, key, learner, _trainer = golf_course
    sign_in_through_form(page, live_server, learner)
    with page.expect_response(SCORM_FRAME) as framed:
        page.goto(live_server(f"/learning/courses/{course.id}/steps/{key}"))
    headers = framed.value.all_headers()
    assert "sandbox allow-scripts allow-forms" in headers["content-security-policy"]
    assert "connect-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert page.get_attribute("#scorm-frame", "sandbox") == "allow-scripts allow-forms"
    frame = package_frame(page)

    touch = "() => { try { return parent.document.title; } catch (error) { return 'refused: ' + error.name; } }"
    assert frame.evaluate(touch) == "refused: SecurityError"
    assert frame.evaluate("() => { try { return document.cookie; } catch (error) { return 'refused: ' + error.name; } }"
                          ) == "refused: SecurityError"
    assert frame.evaluate("() => self.origin") == "null"
    # A package cannot post to knet itself: connect-src 'none' and an opaque origin without cookies.
    fetched = frame.evaluate("() => fetch('/learning/mine').then(() => 'fetched', (error) => 'refused')")
    assert fetched == "refused"
    # Its scripts can still reach the runtime knet gave it.
    assert frame.evaluate("() => typeof window.API.LMSInitialize") == "function"


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_player_and_the_trainers_scorm_page_have_no_axe_violations(language, browser, live_server, golf_course,
                                                                        tmp_path):
    course, key, learner, trainer = golf_course
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        check.sign_in(learner)
        check.goto(f"/learning/courses/{course.id}/steps/{key}")
        assert check.page.evaluate("document.documentElement.lang") == language
        package_frame(check.page)
        check.check("the SCORM player")
        check.finish()
    finally:
        context.close()

    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    item = course.modules[0].items[0]
    try:
        check = Checker(context, live_server)
        check.sign_in(trainer)
        check.goto(f"/learning/courses/{course.id}/items/{item.id}/scorm")
        check.check("a SCORM lesson's page for its trainers")
        hostile = tmp_path / "not-a-package.zip"
        hostile.write_bytes(b"hello")
        check.page.set_input_files("#file", str(hostile))
        with check.page.expect_navigation():
            check.page.click("#upload")
        assert check.page.locator("#file-error").is_visible()
        check.check("a refused SCORM package")
        check.finish()
    finally:
        context.close()
