"""SCORM lessons: the trainer's page that gives a lesson its package, the package's files served in a
sandbox (learning.scorm_serving), and the address the player posts the runtime's reports to
(learning.scorm_runtime). Thin views; the services say what is wrong with what was sent."""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, flash, jsonify, redirect, render_template, request, \
    url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, SubmitField, TextAreaField

from knet.db import db
from knet.errors import Invalid, TooLarge
from learning import attachments, courses, progress, scorm_package, scorm_runtime, scorm_serving, structure
from learning.attachment_routes import FORM_OVERHEAD
from learning.courses import MAX_TITLE
from learning.models import Course, Item
from learning.trainer_views import REFUSALS, editable, refused

logger = logging.getLogger(__name__)

bp = Blueprint("learning_scorm", __name__, template_folder="templates", static_folder="static",
               static_url_path="/learning/scorm-static")

#: The runtime's values: at most a 2004 suspend_data (64 000 characters, each up to 6 bytes escaped in
#: JSON) and a few more.
MAX_REPORT_BYTES = 512 * 1024
VERSION_NAMES = {"1.2": "SCORM 1.2", "2004": "SCORM 2004"}


class ScormLessonForm(FlaskForm):
    title = StringField(_l("Title"), render_kw={"maxlength": MAX_TITLE, "required": True, "autocomplete": "off"})
    body = TextAreaField(_l("Introduction (Markdown)"), render_kw={"rows": 5, "spellcheck": "true"})
    save = SubmitField(_l("Save the lesson"))


class PackageForm(FlaskForm):
    file = FileField(_l("SCORM package (.zip)"), render_kw={"accept": ".zip,application/zip"})
    upload = SubmitField(_l("Upload the package"))


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict | None) -> None:
    """Let the upload address take a body as large as the upload limit, and the runtime's address a
    report; refuse larger ones by their Content-Length before reading them (as learning.attachment_routes)."""
    if endpoint == f"{bp.name}.upload":
        limit = attachments.max_upload_bytes()
        request.max_content_length = limit + FORM_OVERHEAD
        if request.content_length is not None and request.content_length > request.max_content_length:
            raise TooLarge(_l("The file is larger than %(mb)s MB, the largest file this node accepts.",
                              mb=attachments.megabytes(limit)))
    elif endpoint == f"{bp.name}.report":
        request.max_content_length = MAX_REPORT_BYTES


# The trainer's page ------------------------------------------------------------------------------

def _scorm_item(course_id: int, item_id: int) -> tuple[Course, Item]:
    course = editable(course_id)
    item = structure.get_item(course, item_id)
    if item.kind != "scorm":
        raise Invalid(_l("This step is not a SCORM lesson."))
    return course, item


def _page(course: Course, item: Item, form: ScormLessonForm | None = None, package_form: PackageForm | None = None,
          status: int = 200):
    form = form or ScormLessonForm(formdata=None, title=item.title, body=item.body)
    return render_template("learning/edit_scorm.html", course=course, item=item, form=form,
                           package_form=package_form or PackageForm(formdata=None), version_names=VERSION_NAMES,
                           max_upload_mb=attachments.megabytes(attachments.max_upload_bytes())), status


@bp.route("/learning/courses/<int:course_id>/items/<int:item_id>/scorm", methods=["GET", "POST"])
@login_required
def edit(course_id: int, item_id: int):
    course, item = _scorm_item(course_id, item_id)
    if request.method == "GET":
        return _page(course, item)
    form = ScormLessonForm()
    if not form.validate_on_submit():
        return _page(course, item, form, status=400)
    try:
        structure.update_lesson(current_user, item, form.title.data or "", form.body.data or "")
    except REFUSALS as exc:
        refused(form, exc)
        return _page(course, item, form, status=exc.status)
    db.session.commit()
    flash(_("The lesson “%(title)s” was saved.", title=item.title), "success")
    return redirect(url_for("learning_trainer.edit", course_id=course.id, _anchor=f"item-{item.id}"))


@bp.post("/learning/courses/<int:course_id>/items/<int:item_id>/scorm/package")
@login_required
def upload(course_id: int, item_id: int):
    course, item = _scorm_item(course_id, item_id)
    form = PackageForm()
    try:
        if not form.validate_on_submit() or not form.file.data:
            raise Invalid(_l("Choose a SCORM package (.zip) to upload."), field="file")
        sent = form.file.data
        # One byte past the limit is enough to know the file is too large.
        package = scorm_package.add_package(current_user, item, sent.filename or "",
                                            sent.stream.read(attachments.max_upload_bytes() + 1))
    except REFUSALS as exc:
        refused(form, exc)
        course, item = _scorm_item(course_id, item_id)
        return _page(course, item, package_form=form, status=exc.status)
    db.session.commit()
    flash(_("The package “%(name)s” (%(version)s) is the lesson's content; learners see it once the course is "
            "published again.", name=package.filename, version=VERSION_NAMES[package.version]), "success")
    return redirect(url_for(".edit", course_id=course.id, item_id=item.id))


# The package's files, in their sandbox -----------------------------------------------------------

@bp.get("/learning/scorm/<token>/<path:path>")
def serve(token: str, path: str):
    """A file of the package, from the stored ZIP; HTML documents get the runtime."""
    launch = scorm_serving.resolve(token)
    archive, entry = scorm_serving.open_entry(launch.package, path)
    mimetype = scorm_serving.content_type(path)
    if mimetype in scorm_serving.HTML_TYPES and entry.file_size <= scorm_serving.MAX_INJECTED:
        data = scorm_serving.runtime_data(launch, request.host_url.rstrip("/"))
        body = scorm_serving.with_runtime(scorm_serving.read_html(archive, entry),
                                          url_for(".static", filename="scorm-runtime.js"), data)
        response = Response(body, mimetype=mimetype)
    else:
        response = Response(scorm_serving.Stream(archive, entry), mimetype=mimetype)
        response.content_length = entry.file_size
    response.headers["Content-Security-Policy"] = scorm_serving.POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


# The runtime's reports ---------------------------------------------------------------------------

@bp.post("/learning/courses/<int:course_id>/steps/<key>/scorm")
@login_required
def report(course_id: int, key: str):
    """Initialize, Commit or Finish of a SCORM lesson's content, as the player passes it on (JSON:
    {"event": …, "values": {element: text}}); answers with where the learner now stands."""
    course = courses.get_course(current_user, course_id)
    sent = request.get_json(silent=True)
    if not isinstance(sent, dict):
        raise Invalid(_l("Send a JSON object with the event and its values."), field="body", reason="shape")
    state = scorm_runtime.record(current_user, course, key, sent.get("event"), sent.get("values", {}))
    db.session.commit()
    step = next(step for step in progress.outline(course, progress.enrolment_of(current_user, course)).steps
                if step.item["key"] == key)
    return jsonify(event=sent["event"], completion_status=state.completion_status,
                   success_status=state.success_status, percent=scorm_runtime.percent(state), done=step.done,
                   launches=state.launches)


# The player, on the learner's step page ----------------------------------------------------------

def player(course: Course, item: dict) -> dict | None:
    """What the step page needs to play a SCORM lesson to the signed-in learner (learning.routes.step)."""
    package = item.get("scorm")
    if not package:
        return None
    token = scorm_serving.token_for(current_user, course, item["key"], package["id"])
    enrolment = progress.enrolment_of(current_user, course)
    state = scorm_runtime.state_of(enrolment, item["key"], package["version"]) if enrolment else None
    return {"src": scorm_serving.launch_url_path(token, package), "version": package["version"],
            "report": url_for("learning_scorm.report", course_id=course.id, key=item["key"]),
            "started": bool(state and state.launches), "state": state,
            "percent": scorm_runtime.percent(state) if state else None}


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)
