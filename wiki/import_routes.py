"""The admin page that imports a MediaWiki export: an upload form, then a page that follows the
background job and shows its report. Thin views over wiki.importer, for administrators only.

The import runs as a job, not in the request: a large export takes minutes, longer than a request
may; the status page follows it (its script fetches the page again until the job is over)."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField, SelectField, SubmitField

from auth.access import require_role
from knet.db import db
from knet.errors import Invalid, TooLarge
from knet.views import add_nav_link
from wiki import importer, wikitext
from wiki.forms import VISIBILITY_CHOICES
from wiki.models import MediaWikiImport

bp = Blueprint("wiki_import", __name__, url_prefix="/admin/mediawiki-import", template_folder="templates",
               static_folder="static", static_url_path="/static")
#: Room in a multipart body, beyond the file, for boundaries, part headers and the other fields.
FORM_OVERHEAD = 64 * 1024
#: What each kind of wiki.wikitext problem is called on the report.
PROBLEM_NAMES = {wikitext.TEMPLATES: _l("templates"), wikitext.PARSER_FUNCTIONS: _l("parser functions"),
                 wikitext.FILES: _l("images and files"), wikitext.TABLES: _l("tables kept as text"),
                 wikitext.MATH: _l("formulas")}


class ImportForm(FlaskForm):
    file = FileField(_l("MediaWiki XML export"), validators=[FileRequired(_l("Choose the export file."))],
                     render_kw={"accept": ".xml,application/xml,text/xml"})
    visibility = SelectField(_l("Who can read the imported pages"), choices=VISIBILITY_CHOICES, default="internal")
    dry_run = BooleanField(_l("Dry run: only report what would be imported"))
    submit = SubmitField(_l("Import"))


@bp.before_request
@login_required
def administrators_only():
    require_role(current_user, "admin")


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict | None) -> None:
    """Let the upload take an export up to the import's limit (the node's limit is sized for texts), and
    refuse a larger one by its Content-Length before reading it. (This runs before CSRF protection reads
    the form, so the limit is the upload's by then.)"""
    if endpoint != f"{bp.name}.upload" or request.method != "POST":
        return
    limit = importer.max_upload_bytes()
    request.max_content_length = limit + FORM_OVERHEAD
    if request.content_length is not None and request.content_length > request.max_content_length:
        raise importer.too_large(limit)


@bp.route("", methods=["GET", "POST"])
def upload():
    form = ImportForm()
    status = 200
    if form.validate_on_submit():
        sent = form.file.data
        try:
            record = importer.queue_upload(current_user, sent.filename or "export.xml", sent.stream,
                                           visibility=form.visibility.data, dry_run=bool(form.dry_run.data))
        except (Invalid, TooLarge) as exc:
            db.session.rollback()
            form.file.errors = [exc.message]
            status = exc.status
        else:
            db.session.commit()
            return redirect(url_for("wiki_import.status", import_id=record.id))
    elif request.method == "POST":
        status = 400
    recent = db.session.scalars(select(MediaWikiImport).order_by(MediaWikiImport.id.desc()).limit(20))
    return render_template("wiki/import.html", form=form, recent=list(recent),
                           max_mb=f"{importer.max_upload_bytes() / (1024 * 1024):g}"), status


@bp.get("/<int:import_id>")
def status(import_id: int):
    record = importer.get_import(current_user, import_id)
    report = importer.Report(**record.report) if record.report else None
    return render_template("wiki/import_status.html", record=record, report=report,
                           read=importer.bytes_read(record), problem_names=PROBLEM_NAMES)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav_link(app, "wiki_import.upload", _l("MediaWiki import"), role="admin")
