"""Authentication of API requests by `Authorization: Bearer <token>` (never by the session cookie)."""
from __future__ import annotations

from flask import g, request
from flask_babel import lazy_gettext as _l

from auth.models import User
from auth.services import token_owner
from knet.errors import Forbidden, Unauthorized

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def api_actor() -> User | None:
    """The person behind this API request, or None for an anonymous read."""
    if "api_actor" in g:
        return g.api_actor
    header = request.headers.get("Authorization", "")
    actor = None
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized(_l("Send the token as “Authorization: Bearer <token>”."))
        token = token_owner(raw.strip())
        if token is None:
            raise Unauthorized(_l("This API token is unknown or has been revoked."))
        if request.method in WRITE_METHODS and token.scope != "write":
            raise Forbidden(_l("This token may only read; create one with --scope write to make changes."))
        actor = token.user
    elif request.method in WRITE_METHODS:
        raise Unauthorized(_l("Changes through the API need a personal token: “knet user token --scope write”."))
    g.api_actor = actor
    return actor
