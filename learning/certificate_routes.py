"""Certificates for people and for verifiers: the printable page, the Open Badges 2.0 documents
(assertion, badge class, issuer profile, badge image) and the administrators' form that revokes one.

Everything here but revoking is public: a certificate's unguessable address is what its holder
shows to others, and a verifier (a person, or a badge reader in a browser) needs no account.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import (Blueprint, Flask, Response, flash, jsonify, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from knet.db import db
from knet.errors import Invalid, KnetError, problem
from learning import badges, certificates
from learning.courses import course_uri, may_see
from learning.models import Certificate

bp = Blueprint("certificates", __name__, template_folder="templates", static_folder="static",
               static_url_path="/learning/certificates/static")

#: Open Badges 2.0, "Setting Content-Type": JSON-LD by default, plain JSON to a client that asks only for that.
LINKED_DATA, JSON = "application/ld+json", "application/json"


class RevokeForm(FlaskForm):
    """Revoking a certificate: the reason is shown to everyone who checks it (the service checks it)."""

    reason = TextAreaField(_l("Reason (shown to everyone who checks the certificate)"),
                           render_kw={"rows": 3, "maxlength": certificates.MAX_REASON, "required": True})


def _actor():
    return current_user if current_user.is_authenticated else None


@bp.get("/learning/certificates/<certificate_id>")
def page(certificate_id: str):
    return _page(certificates.get(certificate_id), RevokeForm())


@bp.post("/learning/certificates/<certificate_id>/revoke")
@login_required
def revoke(certificate_id: str):
    certificate = certificates.get(certificate_id)
    form = RevokeForm()
    try:
        certificates.revoke(current_user, certificate, form.reason.data or "")
    except Invalid as exc:
        db.session.rollback()
        form.reason.errors = [exc.message]
        return _page(certificate, form, 400)
    db.session.commit()
    flash(_("The certificate was revoked: anyone who checks it now reads that, with your reason."), "success")
    return redirect(url_for(".page", certificate_id=certificate.id))


def _page(certificate: Certificate, form: RevokeForm, status: int = 200) -> Response:
    actor, course = _actor(), certificate.course
    response = make_response(render_template(
        "learning/certificate.html", certificate=certificate, form=form,
        may_revoke=actor is not None and actor.is_admin and certificate.revoked_at is None,
        course_link=course_uri(course.id) if course is not None and may_see(actor, course) else None,
        course_language=course.language if course is not None else None,
        page_url=badges.page_url(certificate.id), assertion_url=badges.assertion_url(certificate.id)), status)
    # A revocation must show at once (and the page asks search engines not to index a person's name).
    response.headers["Cache-Control"] = "no-cache"
    return response


# Open Badges documents ---------------------------------------------------------------------------

def linked_data(view: Callable[..., tuple[dict, int]]) -> Callable[..., Response]:
    """Serve a view's document as JSON-LD that any verifier may fetch, from any web page; a refusal
    becomes an RFC 9457 problem document, never an HTML page."""

    @wraps(view)
    def serve(*args, **kwargs) -> Response:
        try:
            document, status = view(*args, **kwargs)
        except KnetError as exc:
            response = problem(exc.status, exc.title, exc.message)
        else:
            response = jsonify(document)
            response.status_code, response.mimetype = status, _media_type()
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        response.vary.add("Accept")
        return response

    return serve


def _media_type() -> str:
    return JSON if request.accept_mimetypes.best_match([LINKED_DATA, JSON]) == JSON else LINKED_DATA


@bp.get("/learning/certificates/<certificate_id>.json")
@linked_data
def assertion(certificate_id: str):
    """The Open Badges assertion; a revoked one answers 410 Gone, as hosted verification expects."""
    certificate = certificates.get(certificate_id)
    return badges.assertion(certificate), 410 if certificate.revoked_at is not None else 200


@bp.get("/learning/courses/<int:course_id>/badge.json")
@linked_data
def badge_class(course_id: int):
    return badges.badge_class(certificates.badge_course(course_id)), 200


@bp.get("/learning/issuer.json")
@linked_data
def issuer():
    return badges.issuer(), 200


@bp.get("/learning/courses/<int:course_id>/badge.svg")
def badge_image(course_id: int):
    course = certificates.badge_course(course_id)
    response = make_response(render_template(
        "learning/badge.svg", title=course.title, lines=badges.image_lines(course.title),
        node=badges.image_lines(badges.node_name(), width=28, count=1)[0]))
    response.mimetype = "image/svg+xml"
    # Drawn here from escaped text, never uploaded; still, opened on its own it may run nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)
