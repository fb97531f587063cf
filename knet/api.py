"""The JSON API's shared parts: its OpenAPI description, request parsing and pagination."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from knet.config import MAX_PAGE_NUMBER
from knet.db import db
from knet.errors import Invalid, answer_resource_failure, problem, resource_failure

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf = CSRFProtect()


def register_api(app: Flask, blueprint: Blueprint) -> None:
    """Serve an API blueprint. API requests authenticate by bearer token, never by the session
    cookie, so a forged cross-site request carries no credentials and CSRF tokens do not apply."""
    csrf.exempt(blueprint)
    app.register_blueprint(blueprint)


def answer_races(blueprint: Blueprint, detail: Callable[[], str] | None = None) -> None:
    """Answer a change the database refused because another was made at the same moment (a unique
    constraint met twice, or SQLite's single writer busy) with a problem the client may simply repeat:
    409, or 503 with Retry-After. Nothing was saved. `detail` may say it better for some endpoints.
    Call it where the blueprint is made (a blueprint takes no handlers once an app has registered it)."""

    def refused_by_the_database(exc: Exception):
        if (failure := resource_failure(exc)) is not None:  # a full disk or a lost database, not a race
            return answer_resource_failure(exc, failure)
        db.session.rollback()
        logger.warning("Concurrent change refused on %s %s: %s", request.method, request.path,
                       str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        sentence = (detail() if detail is not None else None) or str(_CONCURRENT)
        if isinstance(exc, OperationalError):
            response = problem(503, "Busy", sentence)
            response.headers["Retry-After"] = "1"
            return response
        return problem(409, "Conflict", sentence)

    for error in (IntegrityError, StaleDataError, OperationalError):
        blueprint.register_error_handler(error, refused_by_the_database)


_CONCURRENT = _l("Someone else saved a change at the same moment, so nothing of yours was saved; please try again.")

OPENAPI_BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "knet node API", "version": "1"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "A personal token from `knet user token`."}},
        "schemas": {
            "Problem": {
                "type": "object",
                "description": "An RFC 9457 problem document.",
                "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                               "status": {"type": "integer"}, "detail": {"type": "string"}},
                "required": ["title", "status", "detail"],
            },
        },
    },
}


def add_openapi(app: Flask, paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Let a feature describe its endpoints in /api/v1/openapi.json."""
    spec = app.extensions.setdefault("knet.openapi", {"paths": {}, "schemas": {}})
    spec["paths"].update(paths)
    spec["schemas"].update(schemas)


@bp.get("/openapi.json")
def openapi():
    contributed = current_app.extensions.get("knet.openapi", {"paths": {}, "schemas": {}})
    spec = json.loads(json.dumps(OPENAPI_BASE))
    spec["info"]["description"] = f"The API of {current_app.config['KNET']['name']}."
    spec["servers"] = [{"url": current_app.config["KNET"]["url"] + "/api/v1"}]
    spec["paths"] = {"/openapi.json": {"get": {"summary": "This description",
                                                "responses": {"200": {"description": "OpenAPI 3.1 document"}}}},
                     **contributed["paths"]}
    spec["components"]["schemas"].update(contributed["schemas"])
    return spec


def json_object(allowed: set[str], required: set[str] = frozenset()) -> dict[str, Any]:
    """The request body as a JSON object with only known fields, or Invalid naming what is wrong."""
    raw = request.get_data(cache=False)
    try:
        data = json.loads(raw or b"null")
    except ValueError as exc:
        raise Invalid(_l("The request body is not valid JSON: %(reason)s.", reason=str(exc))) from exc
    except RecursionError as exc:  # json.loads recurses once per nesting level
        raise Invalid(_l("The request body is nested too deeply to be a page.")) from exc
    if not isinstance(data, dict):
        raise Invalid(_l("The request body must be a JSON object."))
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Invalid(_l("Unknown field “%(field)s”; allowed fields are %(allowed)s.", field=unknown[0],
                         allowed=", ".join(sorted(allowed))),
                      field=unknown[0])
    missing = sorted(required - set(data))
    if missing:
        raise Invalid(_l("The field “%(field)s” is required.", field=missing[0]), field=missing[0])
    return data


def pagination() -> tuple[int, int]:
    """The page number and page size asked for with ?page=&per_page=."""
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", current_app.config["KNET"]["page_size"]))
    except ValueError as exc:
        raise Invalid(_l("“page” and “per_page” must be whole numbers.")) from exc
    if not 1 <= page <= MAX_PAGE_NUMBER or not 1 <= per_page <= 100:
        raise Invalid(_l("“page” is between 1 and %(max)d and “per_page” between 1 and 100.", max=MAX_PAGE_NUMBER))
    return page, per_page


def page_links(endpoint: str, page: int, per_page: int, total: int, **values) -> dict[str, Any]:
    """Pagination fields for a list response."""
    has_next = page * per_page < total
    return {
        "page": page, "per_page": per_page, "total": total,
        "next": url_for(endpoint, page=page + 1, per_page=per_page, **values) if has_next else None,
        "prev": url_for(endpoint, page=page - 1, per_page=per_page, **values) if page > 1 else None,
    }
