"""Administrators' pages for a person's data protection rights: download everything the node keeps about
them, and erase them (with a confirmation step). The work is in auth.erasure."""
from __future__ import annotations

import io

from flask import Blueprint, Flask, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField

from auth import account_purge, erasure
from auth.access import require_role
from auth.models import User
from knet.db import db
from knet.errors import Invalid, NotFound

bp = Blueprint("personal_data", __name__, url_prefix="/admin/people", template_folder="templates")


class ExportForm(FlaskForm):
    """Only the CSRF token: the export is a POST so that a link cannot trigger (and audit) one."""


class EraseForm(FlaskForm):
    #: The administrator types the username, so an erasure is never one click away (the page labels it).
    confirm = StringField()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _person(username: str) -> User:
    require_role(current_user, "admin")
    person = User.by_username(username)
    if person is None:
        raise NotFound(_("There is no account called “%(name)s”.", name=username))
    return person


@bp.post("/<username>/export")
@login_required
def export(username: str):
    person = _person(username)
    if not ExportForm().validate_on_submit():
        raise Invalid(_("The form has expired; please try again."))
    archive = erasure.export_person(current_user, person)
    filename = erasure.export_filename(person)
    db.session.commit()
    return send_file(io.BytesIO(archive), mimetype="application/zip", as_attachment=True, download_name=filename,
                     max_age=0)


@bp.route("/<username>/erase", methods=["GET", "POST"])
@login_required
def erase(username: str):
    person = _person(username)
    form = EraseForm()
    if person.is_erased:
        flash(_("This account was already erased; there is nothing more to erase."), "info")
        return redirect(url_for("admin.account", username=person.username))
    status = 200
    if form.is_submitted():
        if not form.validate():
            raise Invalid(_("The form has expired; please try again."))
        if (form.confirm.data or "").strip() != person.username:
            flash(_("Type the sign-in name “%(name)s” exactly to confirm.", name=person.username), "error")
            status = 400
        else:
            try:
                peers = account_purge.peers_to_tell(person)
                erasure.erase_person(current_user, person)
            except Invalid as exc:
                db.session.rollback()
                flash(exc.message, "error")
                status = 400
            else:
                db.session.commit()
                flash(_("The account was erased: what they wrote stays, shown as by former staff."), "success")
                if peers:
                    flash(_("The municipalities where they signed in will be told to erase their visitor account "
                            "too: %(names)s.", names=", ".join(node.name for node in peers)), "info")
                return redirect(url_for("admin.account", username=person.username))
    return render_template("admin/erase.html", person=person, form=form,
                           peers=account_purge.peers_to_tell(person)), status
