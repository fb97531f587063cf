"""The signed-in person in the JSON API: GET /api/v1/me."""
from __future__ import annotations

from flask import Blueprint, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from auth.bearer import api_actor
from auth.models import User
from knet.errors import Unauthorized

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")


def person_json(user: User) -> dict:
    return {
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "roles": list(user.roles),
        "department": user.department.name if user.department else None,
        "home": user.home_issuer or current_app.config["KNET"]["url"],
    }


@bp.get("/me")
def me():
    """Who is signed in: by bearer token, or by the session of a browser on this node."""
    actor = api_actor() or (current_user if current_user.is_authenticated else None)
    if actor is None:
        raise Unauthorized(_l("Nobody is signed in: sign in, or send a personal token."))
    return person_json(actor)


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
PATHS = {
    "/me": {
        "get": {
            "summary": "The signed-in person",
            "description": "Known by a bearer token or by the browser's session on this node.",
            "responses": {
                "200": {"description": "The person",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}}},
                "401": {"description": "Nobody is signed in", "content": _PROBLEM},
            },
        },
    },
}
SCHEMAS = {
    "Me": {
        "type": "object",
        "required": ["username", "name", "email", "roles", "department", "home"],
        "properties": {
            "username": {"type": "string"},
            "name": {"type": "string"},
            "email": {"type": ["string", "null"]},
            "roles": {"type": "array", "items": {"type": "string",
                                                 "enum": ["reader", "editor", "trainer", "moderator", "admin"]}},
            "department": {"type": ["string", "null"], "description": "The person's own unit (office, department)."},
            "home": {"type": "string", "description": "The address of the person's home node."},
        },
    },
}
