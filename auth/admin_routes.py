"""Pages for administrators: accounts and their roles, and the audit log."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth import admin, audit, audit_export
from auth.access import ROLE_NAMES, require_role
from auth.forms import ActiveForm, RolesForm
from auth.models import User
from knet.db import db
from knet.errors import Invalid, NotFound

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
PER_PAGE = 50


def _page_number() -> int:
    return max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))


@bp.get("/people")
@login_required
def accounts():
    query = request.args.get("q", "")[:100]
    page = _page_number()
    people, total = admin.list_accounts(current_user, query, page, PER_PAGE)
    return render_template("admin/accounts.html", people=people, total=total, page=page, per_page=PER_PAGE,
                           query=query, role_names=ROLE_NAMES)


@bp.route("/people/<username>", methods=["GET", "POST"])
@login_required
def account(username: str):
    require_role(current_user, "admin")
    person = User.by_username(username)
    if person is None:
        raise NotFound(_("There is no account called “%(name)s”.", name=username))
    roles_form = RolesForm(roles=list(person.roles))
    active_form = ActiveForm()
    status = 200
    if request.method == "POST":
        try:
            if "active" in request.form and active_form.validate_on_submit():
                admin.set_active(current_user, person, active_form.active.data == "1")
            elif roles_form.validate_on_submit():
                admin.set_local_roles(current_user, person, roles_form.roles.data)
            else:
                raise Invalid(_("The form has expired; please try again."))
        except Invalid as exc:
            db.session.rollback()
            flash(exc.message, "error")
            status = 400
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("admin.account", username=person.username))
    return render_template("admin/account.html", person=person, roles_form=roles_form, active_form=active_form,
                           role_names=ROLE_NAMES), status


@bp.get("/audit")
@login_required
def audit_log():
    require_role(current_user, "admin")
    return render_template("admin/audit.html", events=audit.recent(200))


@bp.get("/audit.csv")
@login_required
def audit_csv():
    return _audit_file("csv")


@bp.get("/audit.json")
@login_required
def audit_json():
    return _audit_file("json")


def _audit_file(fmt: str):
    """The audit log as a download, oldest entry first, optionally ?since=YYYY-MM-DD&until=YYYY-MM-DD."""
    require_role(current_user, "admin")
    since = audit_export.day(request.args.get("since"), "since")
    until = audit_export.day(request.args.get("until"), "until")
    pieces = audit_export.export(fmt, audit_export.events(since, until))
    # Who took a copy of the log is itself worth knowing.
    audit.record("audit_exported", current_user.username.casefold(), user=current_user,
                 address=request.remote_addr or "", detail=audit_export.file_name(fmt, since, until))
    db.session.commit()
    response = Response(stream_with_context(pieces), mimetype=audit_export.MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{audit_export.file_name(fmt, since, until)}"'
    response.headers["Cache-Control"] = "no-store"
    return response
