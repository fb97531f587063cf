"""Courses in the JSON API: /api/v1/courses, a course's lessons and quizzes by their stable keys
(/api/v1/lessons/<key>, /api/v1/quizzes/<key>), and /api/v1/certificates/<id>.

Thin views: parse the request, call the learning services, commit, answer JSON. Learners read the
newest published version; nothing sent before a quiz is submitted holds an answer, a `correct` flag
or feedback. Every failure is a problem document (knet.errors).
"""
from __future__ import annotations

import dataclasses

from flask import Blueprint, Flask, current_app, request, url_for
from flask_babel import lazy_gettext as _l

from auth.bearer import api_actor
from auth.models import User
from knet.api import add_openapi, answer_races, json_object, page_links, pagination, register_api
from knet.config import LANGUAGES
from knet.db import as_utc, db
from knet.errors import Invalid
from learning import badges, catalogue as reading, certificates, courses, openapi, progress, quizzes, versions
from learning.catalogue import DURATIONS, MAX_QUERY_CHARS, ORDERS, CatalogueQuery, CoursePage, Listed
from learning.courses import UNSTORABLE, CourseInput, course_uri
from learning.models import Certificate, Course, QuizAttempt
from learning.quizzes import AttemptResult, QuizPage

bp = Blueprint("learning_api", __name__, url_prefix="/api/v1")
answer_races(bp)

#: The fields of a course a client sends, and the name CourseInput gives those it names otherwise.
COURSE_FIELDS = {"title", "summary", "description", "language", "visibility", "licence", "tags",
                 "estimated_minutes", "community", "trainers", "prerequisites"}
RENAMED = {"community": "community_uri"}
#: Accepted spellings of ?draft=.
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


# JSON shapes ---------------------------------------------------------------------------------------

def _moment(value) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def course_json(course: Course, texts: dict, standing: str | None) -> dict:
    """A course as the catalogue lists it; `texts` are what the version shown says (title, summary…)."""
    return {
        "id": course.id, "title": texts["title"], "summary": texts["summary"], "language": texts["language"],
        "estimated_minutes": texts["estimated_minutes"], "visibility": course.visibility, "state": course.state,
        "version": course.published_version or None, "tags": [tag.name for tag in course.tags],
        "trainers": [trainer.username for trainer in course.trainers], "community": course.community_uri,
        "standing": standing, "uri": course_uri(course.id),
        "url": url_for("learning_api.get_course", course_id=course.id),
    }


def _listed_json(listed: Listed) -> dict:
    texts = {"title": listed.title, "summary": listed.summary, "language": listed.language,
             "estimated_minutes": listed.minutes}
    return course_json(listed.course, texts, listed.standing)


def _standing(shown: CoursePage) -> str | None:
    if shown.enrolment is None:
        return None
    return "completed" if shown.enrolment.completed_at is not None else "enrolled"


def item_json(course: Course, item: dict, done: set[str]) -> dict:
    """A lesson or quiz in a course's outline; a quiz without its questions (GET its `url` for them)."""
    shown = {
        "key": item["key"], "kind": item["kind"], "title": item["title"], "html": item["html"],
        "done": item["key"] in done,
        "attachments": [{"filename": a["filename"], "content_type": a["content_type"], "size": a["size"],
                         "url": url_for("learning_attachments.download", attachment_id=a["id"],
                                        filename=a["filename"])} for a in item["attachments"]],
        "page": url_for("learning.step", course_id=course.id, key=item["key"]),
    }
    if item["kind"] == "lesson":
        return {**shown, "url": url_for("learning_api.complete_lesson", key=item["key"])}
    if item["kind"] == "scorm":  # learned in the browser only: its page plays the package
        return shown
    return {**shown, "pass_percent": item["pass_percent"], "max_attempts": item["max_attempts"],
            "question_count": len(item["questions"]), "url": url_for("learning_api.get_quiz", key=item["key"])}


def course_detail_json(actor: User | None, course: Course, working_copy: bool) -> dict:
    """A course with its modules, lessons and quizzes: the newest published version, or the working copy."""
    shown = reading.course_page(actor, course)
    frozen = versions.snapshot(course) if working_copy else shown.frozen
    done = {step.item["key"] for step in shown.outline.steps if step.done}
    return {
        **course_json(course, frozen, _standing(shown)),
        "description": frozen["description"],
        "html": frozen["description_html"],
        "licence": frozen["licence"],
        "working_copy": working_copy,
        "may_edit": shown.may_edit,
        "prerequisites": [{"id": p.course.id, "title": p.course.title if p.visible else None, "done": p.done}
                          for p in shown.prerequisites],
        "resume": shown.resume,
        "certificate": certificate_link(shown.certificate),
        "created": _moment(course.created_at),
        "updated": _moment(course.updated_at),
        "modules": [{"key": module["key"], "title": module["title"],
                     "items": [item_json(course, item, done) for item in module["items"]]}
                    for module in frozen["modules"]],
    }


def progress_json(shown: CoursePage) -> dict:
    """Where the person stands in the course: each step done or not, and the certificate once complete."""
    enrolment, outline = shown.enrolment, shown.outline
    return {
        "course": shown.course.id,
        "version": shown.course.published_version or None,
        "enrolled": enrolment is not None,
        "source": enrolment and enrolment.source,
        "enrolled_at": _moment(enrolment and enrolment.enrolled_at),
        "completed": enrolment is not None and enrolment.completed_at is not None,
        "completed_at": _moment(enrolment and enrolment.completed_at),
        "done": outline.done,
        "total": len(outline.steps),
        "percent": outline.percent,
        "resume": shown.resume,
        "certificate": certificate_link(shown.certificate),
        "steps": [{"key": step.item["key"], "kind": step.item["kind"], "title": step.item["title"],
                   "module": step.item["module_key"], "module_title": step.item["module_title"],
                   "number": step.number, "done": step.done} for step in outline.steps],
        "url": url_for("learning_api.get_progress", course_id=shown.course.id),
    }


def quiz_json(course: Course, page: QuizPage) -> dict:
    """A quiz as a learner answers it (learning.quizzes.quiz_for_learner): no answers, no feedback."""
    return {
        "key": page.key, "title": page.title, "html": page.html, "course": course.id, "version": page.version,
        "pass_percent": page.pass_percent, "max_attempts": page.max_attempts, "attempts_used": page.attempts_used,
        "attempts_left": page.attempts_left, "may_submit": page.may_submit, "best_percent": page.best_percent,
        "passed": page.passed,
        "questions": [{"key": q.key, "kind": q.kind, "prompt_html": q.prompt_html,
                       "options": [{"key": o.key, "text": o.text} for o in q.options]} for q in page.questions],
        "attempts": url_for("learning_api.list_attempts", key=page.key),
    }


def attempt_json(attempt: QuizAttempt) -> dict:
    return {"number": attempt.number, "version": attempt.version, "percent": attempt.percent,
            "passed": attempt.passed, "submitted": _moment(attempt.submitted_at),
            "url": url_for("learning_api.get_attempt", key=attempt.quiz_key, number=attempt.number)}


def result_json(actor: User, course: Course, result: AttemptResult) -> dict:
    """An attempt marked question by question: what the quiz's result page shows."""
    return {
        "quiz": result.quiz_key, "title": result.title, "number": result.number, "version": result.version,
        "percent": result.percent, "passed": result.passed, "pass_percent": result.pass_percent,
        "right": result.right, "total": len(result.questions), "unanswered": len(result.unanswered),
        "attempts_left": result.attempts_left, "course_completed": result.course_completed,
        "certificate": certificate_link(certificates.certificate_of(actor, course))
        if result.course_completed else None,
        "submitted": _moment(result.submitted_at),
        "questions": [{"key": q.key, "kind": q.kind, "prompt_html": q.prompt_html, "answered": q.answered,
                       "right": q.right, "chosen": list(q.chosen),
                       # As the result page: the right answer is shown where the learner's was not.
                       "right_answer": None if q.right else list(q.right_answer), "feedback": list(q.feedback)}
                      for q in result.questions],
        "url": url_for("learning_api.get_attempt", key=result.quiz_key, number=result.number),
    }


def certificate_link(certificate: Certificate | None) -> dict | None:
    if certificate is None:
        return None
    return {"id": certificate.id, "revoked": certificate.revoked_at is not None,
            "url": url_for("learning_api.get_certificate", certificate_id=certificate.id),
            "page": badges.page_url(certificate.id), "assertion": badges.assertion_url(certificate.id)}


def certificate_json(actor: User | None, certificate: Certificate) -> dict:
    """A certificate as anyone checking it reads it (never the holder's e-mail address)."""
    course = certificate.course
    return {
        **certificate_link(certificate),
        "person": certificate.recipient_name,
        "course_title": certificate.course_title,
        "course_version": certificate.course_version,
        "course": url_for("learning_api.get_course", course_id=course.id)
        if course is not None and courses.may_see(actor, course) else None,
        "issued": _moment(certificate.issued_at),
        "revoked_at": _moment(certificate.revoked_at),
        "revoked_reason": certificate.revoked_reason,
    }


# Parsing -------------------------------------------------------------------------------------------

def _course_input(data: dict, defaults: CourseInput) -> CourseInput:
    """The fields sent over the defaults; learning.courses checks every value and its type."""
    return dataclasses.replace(defaults, **{RENAMED.get(name, name): value for name, value in data.items()})


def _current(course: Course) -> CourseInput:
    return CourseInput(
        title=course.title, summary=course.summary, description=course.description, language=course.language,
        visibility=course.visibility, licence=course.licence, tags=[tag.name for tag in course.tags],
        estimated_minutes=course.estimated_minutes, community_uri=course.community_uri, trainers=None,
        prerequisites=[required.id for required in course.prerequisites])


def _query_text(name: str, choices=None) -> str | None:
    value = request.args.get(name, "").strip()
    if UNSTORABLE.search(value) or len(value) > MAX_QUERY_CHARS:
        raise Invalid(_l("The query parameter “%(name)s” must be text of at most %(max)d characters.",
                         name=name, max=MAX_QUERY_CHARS), field=name)
    if value and choices is not None and value not in choices:
        raise Invalid(_l("“%(name)s” must be one of %(choices)s.", name=name, choices=", ".join(choices)),
                      field=name)
    return value or None


def _working_copy(actor: User | None, course: Course) -> bool:
    """Whether to show the working copy: asked for with ?draft=1 (its editors only), or never published."""
    wanted = request.args.get("draft", "").strip().lower()
    if wanted not in TRUE | FALSE:
        raise Invalid(_l("“draft” is true or false."), field="draft")
    if wanted in TRUE:
        courses.require_editor(actor, course)
        return True
    return course.published_version == 0


def _no_body() -> None:
    """Actions without fields take no body, or an empty JSON object."""
    if request.get_data(cache=True):
        json_object(set())


# Courses -------------------------------------------------------------------------------------------

@bp.get("/courses")
def list_courses():
    """The catalogue: published courses this caller may see, filtered and searched like the catalogue page."""
    actor = api_actor()
    page, per_page = pagination()
    filters = {"q": _query_text("q") or "", "language": _query_text("language", LANGUAGES),
               "tag": _query_text("tag"), "community": _query_text("community"),
               "duration": _query_text("duration", tuple(DURATIONS)), "order": _query_text("order", ORDERS)}
    listed, total = reading.catalogue(actor, CatalogueQuery(**filters), page, per_page)
    links = page_links("learning_api.list_courses", page, per_page, total,
                       **{name: value or None for name, value in filters.items()})
    return {"items": [_listed_json(entry) for entry in listed], **links}


@bp.post("/courses")
def create_course():
    actor = api_actor()
    data = json_object(COURSE_FIELDS, required={"title"})
    defaults = CourseInput(title="", language=current_app.config["KNET"]["default_language"])
    course = courses.create_course(actor, _course_input(data, defaults))
    db.session.commit()
    return (course_detail_json(actor, course, True), 201,
            {"Location": url_for("learning_api.get_course", course_id=course.id)})


@bp.get("/courses/<int:course_id>")
def get_course(course_id: int):
    actor = api_actor()
    course = courses.get_course(actor, course_id)
    return course_detail_json(actor, course, _working_copy(actor, course))


@bp.patch("/courses/<int:course_id>")
def update_course(course_id: int):
    """Change what the course says about itself (its trainers and admins); fields left out stay as they are."""
    actor = api_actor()
    course = courses.get_course(actor, course_id)
    data = json_object(COURSE_FIELDS)
    courses.update_course(actor, course, _course_input(data, _current(course)))
    db.session.commit()
    return course_detail_json(actor, course, courses.may_edit(actor, course))


@bp.post("/courses/<int:course_id>/enrol")
def enrol(course_id: int):
    actor = api_actor()
    course = courses.get_course(actor, course_id)
    _no_body()
    _enrolment, new = progress.enrol(actor, course)
    db.session.commit()
    return (progress_json(reading.course_page(actor, course)), 201 if new else 200,
            {"Location": url_for("learning_api.get_progress", course_id=course.id)})


@bp.get("/courses/<int:course_id>/progress")
def get_progress(course_id: int):
    actor = api_actor()
    return progress_json(reading.course_page(actor, courses.get_course(actor, course_id)))


# Lessons and quizzes, by their stable keys --------------------------------------------------------------

@bp.post("/lessons/<key>/complete")
def complete_lesson(key: str):
    """Mark a lesson read (as opening its page does) and make it where the learner resumes."""
    actor = api_actor()
    course = progress.course_of_item(actor, key, "lesson")
    _no_body()
    progress.open_item(actor, course, key)
    db.session.commit()
    return progress_json(reading.course_page(actor, course))


@bp.get("/quizzes/<key>")
def get_quiz(key: str):
    actor = api_actor()
    course = progress.course_of_item(actor, key, "quiz")
    return quiz_json(course, quizzes.quiz_for_learner(actor, course, key))


@bp.get("/quizzes/<key>/attempts")
def list_attempts(key: str):
    actor = api_actor()
    course = progress.course_of_item(actor, key, "quiz")
    return {"items": [attempt_json(attempt) for attempt in quizzes.attempts(actor, course, key)]}


@bp.post("/quizzes/<key>/attempts")
def submit_attempt(key: str):
    actor = api_actor()
    course = progress.course_of_item(actor, key, "quiz")
    answers = json_object({"answers"}, required={"answers"})["answers"]
    result = quizzes.submit(actor, course, key, answers)
    db.session.commit()
    return result_json(actor, course, result), 201, {"Location": url_for("learning_api.get_attempt", key=key,
                                                                        number=result.number)}


@bp.get("/quizzes/<key>/attempts/<int:number>")
def get_attempt(key: str, number: int):
    actor = api_actor()
    course = progress.course_of_item(actor, key, "quiz")
    return result_json(actor, course, quizzes.attempt_result(actor, course, key, number))


# Certificates --------------------------------------------------------------------------------------

@bp.get("/certificates/<certificate_id>")
def get_certificate(certificate_id: str):
    """A certificate, for anyone who checks it (as its page is)."""
    return certificate_json(api_actor(), certificates.get(certificate_id))


def init_app(app: Flask) -> None:
    """Serve /api/v1/courses, /lessons, /quizzes and /certificates and describe them in openapi.json."""
    register_api(app, bp)
    add_openapi(app, openapi.PATHS, openapi.SCHEMAS)
