"""Errors with meaning, raised by services and turned into a page or an RFC 9457 problem in one place."""
from __future__ import annotations

import errno
import logging
import sqlite3

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import LazyString, gettext as _, lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from knet.db import db, rollback_or_close

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


class Unavailable(KnetError):
    """A resource the node needs (its database, its disk) failed; nothing was saved and waiting helps."""

    status = 503
    title = "Service unavailable"


#: What a person is told when a resource fails during their request (see resource_failure).
DISK_FULL = _l("The node cannot save right now: its disk is full. Your change was not saved; try again later.")
READ_ONLY = _l("The node can only be read right now: its database does not accept changes. Your change was not "
               "saved; try again later.")
DATABASE_GONE = _l("The node cannot reach its database right now (it may be restarting). Your change, if you "
                   "made one, was not saved; try again in a minute.")

#: PostgreSQL error codes (SQLSTATE): disk_full, read_only_sql_transaction; class 08 is a lost connection and
#: 57P01-57P03 a server shutting down or starting.
_PG_DISK_FULL, _PG_READ_ONLY = "53100", "25006"
_PG_GONE_PREFIXES = ("08", "57P01", "57P02", "57P03")


def _causes(exc: BaseException):
    """The exception, what SQLAlchemy wrapped (`orig`), and its causes: the driver's error says what failed."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__


def resource_failure(exc: BaseException) -> LazyString | None:
    """The sentence for a failure of the disk or the database that passes by itself (full disk, read-only
    database, database server restarting), or None for any other error. Keep every such mapping here."""
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return DISK_FULL
        if isinstance(cause, sqlite3.Error):
            code = (getattr(cause, "sqlite_errorcode", 0) or 0) & 0xFF
            text = str(cause).lower()
            if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
                return DISK_FULL
            if code == sqlite3.SQLITE_READONLY or "readonly database" in text:
                return READ_ONLY
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str):
            if sqlstate == _PG_DISK_FULL:
                return DISK_FULL
            if sqlstate == _PG_READ_ONLY:
                return READ_ONLY
            if sqlstate.startswith(_PG_GONE_PREFIXES):
                return DATABASE_GONE
    if isinstance(exc, DBAPIError) and (exc.connection_invalidated or _is_connection_error(exc.orig)):
        return DATABASE_GONE
    return None


def _is_connection_error(error: BaseException | None) -> bool:
    """psycopg's errors without a SQLSTATE: the server refused or dropped the connection."""
    if error is None or getattr(error, "sqlstate", None):
        return False
    module = type(error).__module__
    return module.startswith("psycopg") and type(error).__name__ in ("OperationalError", "InterfaceError")


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

    @app.errorhandler(DBAPIError)
    @app.errorhandler(OSError)
    def handle_resource(exc: Exception):
        sentence = resource_failure(exc)
        if sentence is None:
            return handle_unexpected(exc)
        return answer_resource_failure(exc, sentence)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500, "Internal error", _("Something went wrong on this node. The error was logged."))


def answer_resource_failure(exc: BaseException, sentence: LazyString) -> Response | tuple:
    """503 with the sentence (a page, or a problem for programs), logged once without a traceback."""
    rollback_or_close()
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    logger.warning("Resource failure on %s %s: %s", request.method, request.path, first_line)
    if wants_json():
        response = problem(503, Unavailable.title, str(sentence))
    else:
        response = current_app.make_response(_render_page_without_the_database(str(sentence)))
    response.headers["Retry-After"] = "30"
    return response


def _render_page_without_the_database(detail: str) -> tuple:
    """The usual error page; if drawing it needs the database that just failed (the signed-in person, their
    unread notifications), it is drawn again as for a visitor who is not signed in."""
    try:
        return render_template("error.html", status=503, title=Unavailable.title, detail=detail), 503
    except Exception:
        rollback_or_close()
        g._login_user = current_app.login_manager.anonymous_user()  # Flask-Login's cache of current_user
        return render_template("error.html", status=503, title=Unavailable.title, detail=detail), 503
