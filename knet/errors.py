"""Errors with meaning, raised by services and turned into a page or an RFC 9457 problem in one place."""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import LazyString, gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from knet.db import db

logger = logging.getLogger(__name__)


class KnetError(Exception):
    """Base of every expected failure; `message` is a sentence a person can act on."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str | LazyString, **extra: object) -> None:
        super().__init__(message)
        self._message = message
        self.extra = {name: value for name, value in extra.items() if value is not None}

    @property
    def message(self) -> str:
        """The sentence, in the language of whoever reads it now (services raise lazy strings)."""
        return str(self._message)

    def __str__(self) -> str:
        return self.message


class Invalid(KnetError):
    status = 400
    title = "Invalid input"


class Unauthorized(KnetError):
    status = 401
    title = "Sign-in required"


class Forbidden(KnetError):
    status = 403
    title = "Forbidden"


class NotFound(KnetError):
    status = 404
    title = "Not found"


class Conflict(KnetError):
    status = 409
    title = "Conflict"


class TooLarge(KnetError):
    status = 413
    title = "Too large"


#: Addresses only programs read: the API, node-to-node federation and discovery.
MACHINE_PATHS = ("/api/", "/federation/", "/.well-known/", "/nodeinfo/")


def wants_json() -> bool:
    """API, federation and other machine clients get problem documents; people get pages."""
    return request.path.startswith(MACHINE_PATHS) or request.accept_mimetypes.best == "application/json"


def problem(status: int, title: str, detail: str, **extra: object) -> Response:
    """Build an RFC 9457 application/problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _render(status: int, title: str, detail: str, **extra: object):
    if wants_json():
        return problem(status, title, detail, **extra)
    return render_template("error.html", status=status, title=title, detail=detail), status


def _http_detail(exc: HTTPException) -> str:
    details = {
        400: _("The request could not be understood."),
        401: _("You need to sign in to do this."),
        403: _("You are not allowed to do this."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept that kind of request."),
        413: _("What you sent is larger than this node accepts."),
    }
    return details.get(exc.code or 500) or _("The request could not be completed (HTTP status %(status)d).",
                                              status=exc.code or 500)


def init_app(app: Flask) -> None:
    @app.errorhandler(KnetError)
    def handle_knet_error(exc: KnetError):
        return _render(exc.status, exc.title, exc.message, **exc.extra)

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        detail = _("The form had expired or did not come from this site. Go back, reload the page and try again.")
        return _render(400, "CSRF check failed", detail)

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        return _render(exc.code or 500, exc.name, _http_detail(exc))

    @app.errorhandler(IntegrityError)
    @app.errorhandler(StaleDataError)
    def handle_race(exc: Exception):
        # Two people saved the same thing at the same moment; the database kept the first.
        db.session.rollback()
        logger.warning("Concurrent change refused on %s %s: %s", request.method, request.path, exc)
        return _render(409, "Conflict", _("Someone else saved a change at the same moment. Reload and try again; "
                                          "nothing of yours was saved."))

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500, "Internal error", _("Something went wrong on this node. The error was logged."))
