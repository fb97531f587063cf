"""The learner's pages: the catalogue, a course's page, enrolling, the course's steps one by one, and
"My learning". Thin views that parse input, call one service, commit, and render or redirect.

Failures the services raise (knet.errors) become a page with their status and sentence.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required

from knet.config import LANGUAGES, MAX_PAGE_NUMBER
from knet.db import db
from knet.errors import Conflict
from knet.render_cache import cached_view
from knet.views import add_nav_link
from learning import catalogue as reading, certificates, courses, progress, scorm_routes
from learning.catalogue import DURATIONS, MAX_QUERY_CHARS, ORDERS, CatalogueQuery
from learning.forms import EnrolForm
from learning.models import Course

bp = Blueprint("learning", __name__, template_folder="templates")

#: Where the trainers' pages edit a course (learning/trainer_routes.py), linked when they are there.
EDIT_ENDPOINT = "learning_trainer.edit"


def _actor():
    return current_user if current_user.is_authenticated else None


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE_NUMBER)


def _to_course(course: Course):
    return redirect(url_for(".course", course_id=course.id))


@bp.app_template_filter("course_duration")
def course_duration(minutes: int) -> str:
    """An estimated duration in words: «1 ώρα 30 λεπτά», "45 minutes"."""
    hours, minutes = divmod(minutes, 60)
    parts = [ngettext("%(num)d hour", "%(num)d hours", hours)] if hours else []
    if minutes or not hours:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", minutes))
    return " ".join(parts)


# The catalogue ------------------------------------------------------------------------------------

@bp.get("/learning/courses")
def catalogue():
    return cached_view(_render_catalogue)


def _render_catalogue():
    args = request.args
    language, duration, order = args.get("language"), args.get("duration"), args.get("order")
    wanted = CatalogueQuery(q=args.get("q", "").strip()[:MAX_QUERY_CHARS],
                            language=language if language in LANGUAGES else None,
                            tag=args.get("tag", "").strip()[:MAX_QUERY_CHARS] or None,
                            community=args.get("community", "").strip()[:300] or None,
                            duration=duration if duration in DURATIONS else None,
                            order=order if order in ORDERS else None)
    page, per_page = _page_number(), current_app.config["KNET"]["page_size"]
    listed, total = reading.catalogue(_actor(), wanted, page, per_page)
    return render_template("learning/catalogue.html", courses=listed, total=total, wanted=wanted, page=page,
                           per_page=per_page, communities=reading.communities(_actor()))


# A course -----------------------------------------------------------------------------------------

@bp.get("/learning/courses/<int:course_id>")
def course(course_id: int):
    """A course's page, which is also its URI (learning.courses.course_uri)."""
    return cached_view(lambda: _render_course(course_id))


def _render_course(course_id: int):
    actor = _actor()
    shown = reading.course_page(actor, courses.get_course(actor, course_id))
    edit_url = url_for(EDIT_ENDPOINT, course_id=course_id) \
        if shown.may_edit and EDIT_ENDPOINT in current_app.view_functions else None
    return render_template("learning/course.html", shown=shown, form=EnrolForm(), edit_url=edit_url)


@bp.post("/learning/courses/<int:course_id>/enrol")
@login_required
def enrol(course_id: int):
    course = courses.get_course(current_user, course_id)
    try:
        _enrolment, new = progress.enrol(current_user, course)
    except Conflict as exc:  # a prerequisite not completed, or a course closed to enrolment
        db.session.rollback()
        flash(exc.message, "error")
        return _to_course(course)
    db.session.commit()
    if new:
        flash(_("You are enrolled in “%(title)s”. Start with its first step whenever you are ready.",
                title=course.title), "success")
    else:
        flash(_("You were already enrolled in “%(title)s”.", title=course.title), "info")
    return _to_course(course)


@bp.get("/learning/courses/<int:course_id>/steps/<key>")
def step(course_id: int, key: str):
    """A lesson (which now counts as read), a quiz's introduction, or a SCORM lesson's player, for an
    enrolled learner."""
    actor = _actor()
    course = courses.get_course(actor, course_id)
    progress.find_item(course, key)  # an unknown step is a 404 for everyone
    if progress.enrolment_of(actor, course) is None:
        flash(_("Enrol in this course to read its lessons and take its quizzes."), "info")
        return _to_course(course)
    item = progress.open_item(actor, course, key)
    db.session.commit()
    player = scorm_routes.player(course, item) if item["kind"] == "scorm" else None
    return render_template("learning/step.html", shown=reading.step_page(actor, course, key), course=course,
                           player=player)


# My learning --------------------------------------------------------------------------------------

@bp.get("/learning/mine")
@login_required
def mine():
    return cached_view(_render_mine)


def _render_mine():
    in_progress, completed = reading.my_learning(current_user)
    held = certificates.certificates_of(current_user)
    return render_template("learning/my_learning.html", assigned=reading.assigned_not_started(current_user),
                           in_progress=in_progress, completed=completed, certificates=held,
                           by_course={c.course_id: c for c in held})


def init_app(app: Flask) -> None:
    """Register the learner's pages and the "Courses" link of the main navigation."""
    app.register_blueprint(bp)
    add_nav_link(app, "learning.catalogue", _l("Courses"))
