"""SCORM lessons through the node's pages: a trainer uploads a package and publishes; the learner's step
page frames it in a sandbox; its files come from the stored ZIP under a signed address with a strict
policy; what the runtime reports is checked and becomes the learner's progress (learning.scorm_routes,
scorm_serving, scorm_runtime)."""
from __future__ import annotations

import html
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from knet.db import db
from knet.errors import Invalid
from learning import scorm_package, structure, versions
from learning.models import Enrolment, Progress, ScormPackage, ScormState
from tests.forms import csrf_token
from tests.learning.test_scorm_package import GOLF_12, GOLF_2004, MINIMAL, package

FRAME = re.compile(r'<iframe id="scorm-frame"[^>]*>')


def golf(corpus: Path, name: str) -> bytes:
    return (corpus / "scorm" / "packages" / name).read_bytes()


@pytest.fixture
def scorm_course(make_course, trainer):
    """scorm_course(data): a published course whose only step is a SCORM lesson with this package."""

    def make(data: bytes, filename: str = "golf.zip", title: str = "Γκολφ"):
        course = make_course(trainer, title, lessons=0, quiz=False, publish=False)
        item = structure.add_scorm(trainer, course.modules[0], "Το παιχνίδι")
        scorm_package.add_package(trainer, item, filename, data)
        versions.publish(trainer, course, "Με πακέτο SCORM")
        db.session.commit()
        return course, item.key

    return make


def enrolled(browse, learner, course):
    client = browse(learner)
    page = client.get(f"/learning/courses/{course.id}").get_data(as_text=True)
    assert client.post(f"/learning/courses/{course.id}/enrol", data={"csrf_token": csrf_token(page)}).status_code == 302
    return client


def player(client, course, key) -> tuple[str, str, str]:
    """The step page's frame: its address, the report address and the CSRF token."""
    page = client.get(f"/learning/courses/{course.id}/steps/{key}")
    assert page.status_code == 200
    frame = FRAME.search(page.get_data(as_text=True)).group(0)
    attributes = dict(re.findall(r'([a-z-]+)="([^"]*)"', frame))
    assert attributes["sandbox"] == "allow-scripts allow-forms" and attributes["title"] == "Το παιχνίδι"
    return html.unescape(attributes["src"]), html.unescape(attributes["data-report"]), attributes["data-csrf"]


def report(client, url, token, event, values=None):
    return client.post(url, json={"event": event, "values": values or {}},
                       headers={"X-CSRFToken": token, "Accept": "application/json"})


# The trainer -------------------------------------------------------------------------------------

def test_a_trainer_adds_a_scorm_lesson_uploads_the_golf_package_and_publishes(browse, trainer, make_course, corpus):
    course = make_course(trainer, lessons=1, quiz=False, publish=False)
    client = browse(trainer)
    module = course.modules[0]
    outline = client.get(f"/learning/courses/{course.id}/edit").get_data(as_text=True)
    added = client.post(f"/learning/courses/{course.id}/modules/{module.id}/items",
                        data={f"module-{module.id}-new-title": "Γκολφ", f"module-{module.id}-new-kind": "scorm",
                              f"module-{module.id}-new-csrf_token": csrf_token(outline)}, follow_redirects=True)
    assert added.status_code == 200 and "SCORM" in added.get_data(as_text=True)
    item = db.session.get(type(module), module.id).items[-1]
    assert item.kind == "scorm" and item.scorm_package is None

    publish_page = client.get(f"/learning/courses/{course.id}/edit").get_data(as_text=True)
    refused = client.post(f"/learning/courses/{course.id}/publish", data={"csrf_token": csrf_token(publish_page)})
    assert refused.status_code == 400  # a SCORM lesson without its package

    edit = client.get(f"/learning/courses/{course.id}/items/{item.id}/scorm").get_data(as_text=True)
    uploaded = client.post(f"/learning/courses/{course.id}/items/{item.id}/scorm/package",
                           data={"csrf_token": csrf_token(edit), "file": (io.BytesIO(
                               golf(corpus, GOLF_2004)), "golf2004.zip")}, content_type="multipart/form-data")
    assert uploaded.status_code == 302
    db.session.expire_all()
    stored = db.session.get(type(item), item.id).scorm_package
    assert (stored.filename, stored.version, stored.launch) == ("golf2004.zip", "2004", "shared/launchpage.html")
    assert "shared/launchpage.html" in client.get(f"/learning/courses/{course.id}/items/{item.id}/scorm").get_data(
        as_text=True)
    assert client.post(f"/learning/courses/{course.id}/publish",
                       data={"csrf_token": csrf_token(publish_page)}).status_code == 302
    db.session.expire_all()
    frozen = versions.items_of(versions.get_version(db.session.get(type(course), course.id)).snapshot)[-1]
    assert frozen["scorm"]["sha256"] == stored.sha256 and frozen["scorm"]["version"] == "2004"


@pytest.mark.parametrize("hostile", ["traversal", "symlink", "not_zip", "missing"])
def test_a_refused_package_is_shown_next_to_the_field_and_nothing_is_kept(browse, trainer, make_course, hostile):
    course = make_course(trainer, lessons=0, quiz=False, publish=False)
    item = structure.add_scorm(trainer, course.modules[0], "Πακέτο")
    db.session.commit()
    data = {"traversal": package(MINIMAL, {"../../evil.html": b"x"}), "not_zip": b"hello",
            "missing": package(MINIMAL, {"index.html": b""}, empty_files=False)}.get(hostile)
    if hostile == "symlink":
        buffer = io.BytesIO(package(MINIMAL))
        with zipfile.ZipFile(buffer, "a") as archive:
            link = zipfile.ZipInfo("img/link")
            link.external_attr = 0o120777 << 16
            archive.writestr(link, "/etc/passwd")
        data = buffer.getvalue()
    client = browse(trainer)
    edit = client.get(f"/learning/courses/{course.id}/items/{item.id}/scorm").get_data(as_text=True)
    answer = client.post(f"/learning/courses/{course.id}/items/{item.id}/scorm/package",
                         data={"csrf_token": csrf_token(edit), "file": (io.BytesIO(data), "p.zip")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400 and 'id="file-error"' in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ScormPackage)) == 0


def test_only_the_courses_trainers_give_packages(browse, trainer, learner, make_course, corpus):
    course = make_course(trainer, lessons=0, quiz=False, publish=False)
    item = structure.add_scorm(trainer, course.modules[0], "Πακέτο")
    db.session.commit()
    with pytest.raises(Exception) as refused:  # noqa: PT011 - Forbidden or NotFound, both refuse
        scorm_package.add_package(learner, item, "golf.zip", golf(corpus, GOLF_12))
    assert refused.value.status in (403, 404)
    lesson = structure.add_lesson(trainer, course.modules[0], "Κείμενο", "Κείμενο.")
    with pytest.raises(Invalid):
        scorm_package.add_package(trainer, lesson, "golf.zip", golf(corpus, GOLF_12))


# Serving -----------------------------------------------------------------------------------------

def test_the_package_is_served_from_its_zip_in_a_sandbox(browse, learner, scorm_course, corpus):
    data = golf(corpus, GOLF_12)
    course, key = scorm_course(data)
    client = enrolled(browse, learner, course)
    src, _report, _token = player(client, course, key)
    assert src.startswith("/learning/scorm/") and src.endswith("/Playing/Playing.html")

    anonymous = browse(None)  # the token is what opens it: sandboxed documents send no cookie
    page = anonymous.get(src)
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    for part in ("sandbox allow-scripts allow-forms;", "default-src 'self'", "connect-src 'none'",
                 "form-action 'none'", "frame-ancestors 'self'"):
        assert part in policy
    assert "allow-same-origin" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    body = page.get_data(as_text=True)
    runtime = re.search(r'<script src="/learning/scorm-static/scorm-runtime.js" data-knet-scorm="([^"]+)"></script>',
                        body)
    assert runtime and body.index(runtime.group(0)) < body.index("scormfunctions.js")
    seed = json.loads(html.unescape(runtime.group(1)))
    assert (seed["version"], seed["learner_id"], seed["entry"]) == ("1.2", learner.username, "ab-initio")
    with anonymous.get("/learning/scorm-static/scorm-runtime.js") as script:
        assert script.status_code == 200 and b"API_1484_11" in script.get_data()

    # A file streamed from the ZIP: the response closes the ZIP when it is closed, as a server closes it.
    with anonymous.get(src.rsplit("/", 1)[0] + "/playing.jpg") as image, \
            zipfile.ZipFile(corpus / "scorm/packages" / GOLF_12) as archive:
        assert image.get_data() == archive.read("Playing/playing.jpg")
        assert image.mimetype == "image/jpeg" and "sandbox" in image.headers["Content-Security-Policy"]

    base = src.rsplit("/Playing/", 1)[0]
    assert anonymous.get(base + "/Playing/nothing.html").status_code == 404
    assert anonymous.get(base + "/Playing/").status_code == 404
    token = base.split("/")[3]
    assert anonymous.get(f"/learning/scorm/{token[:-2]}xy/Playing/Playing.html").status_code == 404
    assert anonymous.get("/learning/scorm/nope/Playing/Playing.html").status_code == 404


def test_a_learner_who_left_the_course_cannot_use_an_old_address(browse, learner, scorm_course, corpus):
    course, key = scorm_course(golf(corpus, GOLF_12))
    client = enrolled(browse, learner, course)
    src, _report, _token = player(client, course, key)
    db.session.delete(db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id)))
    db.session.commit()
    assert client.get(src).status_code == 404


def test_a_replaced_package_stops_serving_under_old_addresses_once_published(browse, trainer, learner, scorm_course,
                                                                               corpus):
    course, key = scorm_course(golf(corpus, GOLF_12))
    client = enrolled(browse, learner, course)
    src, _report, _token = player(client, course, key)
    item = course.modules[0].items[0]
    scorm_package.add_package(trainer, item, "golf2004.zip", golf(corpus, GOLF_2004))
    db.session.commit()
    assert client.get(src).status_code == 200  # not published yet: learners keep the old one
    versions.publish(trainer, course, "Νέο πακέτο")
    db.session.commit()
    assert client.get(src).status_code == 404
    assert player(client, course, key)[0].endswith("/shared/launchpage.html")


# The runtime's reports ---------------------------------------------------------------------------

def progress_of(learner, key) -> Progress | None:
    db.session.expire_all()
    return db.session.scalar(select(Progress).join(Enrolment).where(Enrolment.user_id == learner.id,
                                                                   Progress.item_key == key))


def test_scorm_12_completion_and_score_become_progress_and_complete_the_course(browse, learner, scorm_course,
                                                                             corpus):
    course, key = scorm_course(golf(corpus, GOLF_12))
    client = enrolled(browse, learner, course)
    _src, url, token = player(client, course, key)
    assert progress_of(learner, key) is None  # opening the step is not completing it

    started = report(client, url, token, "initialize")
    assert started.status_code == 200 and started.json["launches"] == 1 and started.json["done"] is False
    committed = report(client, url, token, "commit", {"cmi.core.lesson_status": "incomplete",
                                                      "cmi.core.lesson_location": "page-2",
                                                      "cmi.suspend_data": "σελίδα=2"})
    assert committed.json["done"] is False
    finished = report(client, url, token, "finish", {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "85",
                                                     "cmi.core.session_time": "0000:12:30", "cmi.core.exit": "suspend"})
    assert finished.status_code == 200 and finished.json["done"] is True and finished.json["percent"] == 85
    record = progress_of(learner, key)
    assert record.viewed_at and record.passed_at and record.best_percent == 85
    state = db.session.get(ScormState, (record.enrolment_id, key))
    assert (state.location, state.suspend_data, state.total_seconds, state.exit) == ("page-2", "σελίδα=2", 750, "suspend")
    enrolment = db.session.get(Enrolment, record.enrolment_id)
    assert enrolment.completed_at is not None  # its only step is done: the course is complete

    # The next launch resumes: the runtime starts from the saved state.
    src, _url, _token = player(client, course, key)
    seed = json.loads(html.unescape(re.search(r'data-knet-scorm="([^"]+)"', client.get(src).get_data(as_text=True))
                                    .group(1)))
    assert (seed["entry"], seed["location"], seed["suspend_data"], seed["score_raw"]) == ("resume", "page-2",
                                                                                         "σελίδα=2", "85")
    page = client.get(f"/learning/courses/{course.id}/steps/{key}").get_data(as_text=True)
    assert "You passed this lesson." in page


def test_scorm_2004_completion_success_and_scaled_score(browse, learner, scorm_course, corpus):
    course, key = scorm_course(golf(corpus, GOLF_2004))
    client = enrolled(browse, learner, course)
    _src, url, token = player(client, course, key)
    report(client, url, token, "initialize")
    done = report(client, url, token, "commit", {"cmi.completion_status": "completed", "cmi.score.scaled": "0.4"})
    assert done.json["done"] is True and done.json["percent"] == 40
    assert progress_of(learner, key).passed_at is None
    passed = report(client, url, token, "finish", {"cmi.success_status": "passed", "cmi.score.scaled": "0.9",
                                                   "cmi.session_time": "PT1H2M3.5S"})
    assert passed.json["success_status"] == "passed"
    record = progress_of(learner, key)
    assert record.passed_at is not None and record.best_percent == 90


@pytest.mark.parametrize("body, field, reason", [
    ({"event": "explode", "values": {}}, "event", "vocabulary"),
    ({"event": "commit", "values": ["cmi.core.lesson_status"]}, "values", "shape"),
    ({"event": "commit", "values": {"cmi.core.lesson_status": "done"}}, "cmi.core.lesson_status", "vocabulary"),
    ({"event": "commit", "values": {"cmi.core.score.raw": "lots"}}, "cmi.core.score.raw", "number"),
    ({"event": "commit", "values": {"cmi.core.score.raw": "101"}}, "cmi.core.score.raw", "range"),
    ({"event": "commit", "values": {"cmi.core.score.raw": 85}}, "cmi.core.score.raw", "type"),
    ({"event": "commit", "values": {"cmi.suspend_data": "x" * 4097}}, "cmi.suspend_data", "length"),
    ({"event": "commit", "values": {"cmi.core.session_time": "12 minutes"}}, "cmi.core.session_time", "time"),
    ({"event": "commit", "values": {"cmi.completion_status": "completed"}}, "values", "element"),  # 2004's name
    ({"event": "commit", "values": {"cmi.core.student_id": "someone-else"}}, "values", "element"),
    ({"event": "commit", "values": {f"cmi.interactions.{n}.id": "x" for n in range(21)}}, "values", "length"),
    ("not an object", "body", "shape"),
])
def test_what_the_browser_sends_is_checked(browse, learner, scorm_course, corpus, body, field, reason):
    course, key = scorm_course(golf(corpus, GOLF_12))
    client = enrolled(browse, learner, course)
    _src, url, token = player(client, course, key)
    answer = client.post(url, json=body, headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    assert (answer.json["field"], answer.json["reason"]) == (field, reason) and answer.json["detail"]
    assert progress_of(learner, key) is None


def test_reports_need_an_enrolment_and_the_csrf_token(browse, learner, make_user, scorm_course, corpus):
    course, key = scorm_course(golf(corpus, GOLF_12))
    client = enrolled(browse, learner, course)
    _src, url, token = player(client, course, key)
    assert client.post(url, json={"event": "initialize", "values": {}},
                       headers={"Accept": "application/json"}).status_code == 400
    stranger = browse(make_user("stella", role="reader"))
    page = stranger.get(f"/learning/courses/{course.id}").get_data(as_text=True)
    refused = stranger.post(url, json={"event": "initialize", "values": {}},
                            headers={"X-CSRFToken": csrf_token(page), "Accept": "application/json"})
    assert refused.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(ScormState)) == 0
