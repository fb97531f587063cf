"""Lesson files: uploading and removing them (a course's trainers), and fetching them (its learners):
thin views over learning.attachments."""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, flash, redirect, request, send_file
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField

from knet.db import as_utc, db
from knet.errors import Invalid, NotFound, TooLarge
from knet.views import local_path
from learning import attachments, courses, structure

logger = logging.getLogger(__name__)

bp = Blueprint("learning_attachments", __name__)

#: Room in a multipart body, beyond the file, for boundaries, part headers and the CSRF token.
FORM_OVERHEAD = 64 * 1024
#: Nothing a file says may run or load anything, were a browser ever to treat it as a page.
SANDBOX = "default-src 'none'; sandbox"
# Chromium will not start its PDF viewer in a sandboxed document, and draws it squashed without inline
# styles; a PDF (application/pdf, nosniff) is never read as a page, so only the sandbox is left out.
PDF_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


class AttachmentForm(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired()])
    #: The page to go back to (the lesson being edited).
    next = HiddenField()
    submit = SubmitField(_l("Attach"))


class RemoveAttachmentForm(FlaskForm):
    next = HiddenField()
    submit = SubmitField(_l("Remove"))


def _actor():
    return current_user if current_user.is_authenticated else None


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict | None) -> None:
    """Let the upload address take a body as large as the upload limit (the node's limit is sized for
    texts), and refuse a larger one by its Content-Length before reading it.

    This runs before the app's before-request functions, where CSRF protection reads the form: by
    then the limit must already be the upload's."""
    if endpoint != f"{bp.name}.upload":
        return
    limit = attachments.max_upload_bytes()
    request.max_content_length = limit + FORM_OVERHEAD
    if request.content_length is not None and request.content_length > request.max_content_length:
        raise TooLarge(_l("The file is larger than %(mb)s MB, the largest file this node accepts.",
                          mb=attachments.megabytes(limit)))


def _back(course_id: int, form: AttachmentForm | RemoveAttachmentForm):
    return redirect(local_path(form.next.data or f"/learning/courses/{course_id}"))


@bp.post("/learning/courses/<int:course_id>/items/<int:item_id>/attachments")
def upload(course_id: int, item_id: int):
    actor = _actor()
    item = structure.get_item(courses.get_course(actor, course_id), item_id)
    form = AttachmentForm()
    if not form.validate_on_submit():
        raise Invalid(_l("Choose a file to attach."), field="file")
    sent = form.file.data
    # One byte past the limit is enough to know the file is too large.
    attachment = attachments.add_attachment(actor, item, sent.filename or "",
                                            sent.stream.read(attachments.max_upload_bytes() + 1))
    db.session.commit()
    flash(_("“%(name)s” is attached to “%(lesson)s”.", name=attachment.filename, lesson=item.title), "success")
    return _back(course_id, form)


@bp.post("/learning/courses/<int:course_id>/items/<int:item_id>/attachments/<int:attachment_id>/remove")
def remove(course_id: int, item_id: int, attachment_id: int):
    actor = _actor()
    item = structure.get_item(courses.get_course(actor, course_id), item_id)
    attachment = attachments.get_attachment(item, attachment_id)
    form = RemoveAttachmentForm()
    if not form.validate_on_submit():
        raise Invalid(_l("The form has expired: load the page again and repeat."))
    attachments.remove_attachment(actor, attachment)
    db.session.commit()
    flash(_("“%(name)s” was removed from the lesson; versions published before keep it until the next "
            "publishing.", name=attachment.filename), "success")
    return _back(course_id, form)


@bp.get("/learning/attachments/<int:attachment_id>/<filename>")
def download(attachment_id: int, filename: str):
    attachment = attachments.downloadable(_actor(), attachment_id, filename)
    path = attachments.media_path(attachment.sha256)
    if not path.is_file():
        logger.error("Attachment %d: %s is missing from the media directory", attachment.id, path)
        raise NotFound(_l("This file is missing from the node's storage; please tell its administrator."))
    inline = attachments.shown_inline(attachment.content_type)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=not inline,
                         download_name=attachment.filename, etag=attachment.sha256,
                         last_modified=as_utc(attachment.uploaded_at))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = PDF_POLICY if attachment.content_type == "application/pdf" \
        else SANDBOX
    # Only for those allowed: no shared cache may keep it, and the browser asks again (ETag) each time.
    response.cache_control.private = True
    response.vary.add("Cookie")
    return response


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)
