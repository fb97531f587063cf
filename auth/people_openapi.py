"""The OpenAPI description of /api/v1/people and /api/v1/skills."""
from __future__ import annotations

from auth.content import LANGUAGE_NAMES
from auth.models import PROFILE_VISIBILITIES, ROLES

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_READ = [{"bearer": []}]
_UNAUTHORIZED = {"description": "No token, or an unknown or revoked one", "content": _PROBLEM}


def _parameter(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "description": description, "schema": schema or {"type": "string"}}


SCHEMAS = {
    "Person": {
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "name": {"type": "string", "description": "The name from the directory (the username when it has none)."},
            "title": {"type": "string"},
            "department": {"type": ["object", "null"], "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "path": {"type": "array", "items": {"type": "string"},
                         "description": "The department and those above it, from the top down."}}},
            "email": {"type": ["string", "null"]},
            "phone": {"type": "string"},
            "languages": {"type": "array", "items": {"type": "string", "enum": list(LANGUAGE_NAMES)}},
            "skills": {"type": "array", "items": {"type": "string"}},
            "about": {"type": "string", "description": "“Ask me about”, in the person's own words (plain text)."},
            "roles": {"type": "array", "items": {"type": "string", "enum": list(ROLES)}},
            "active": {"type": "boolean", "description": "False once the person has left (the profile stays, so "
                                                         "what they wrote stays attributed)."},
            "visibility": {"type": "string", "enum": list(PROFILE_VISIBILITIES)},
            "updated": {"type": "string", "format": "date-time"},
            "url": {"type": "string", "description": "The profile page on this node."},
            "photo": {"type": ["string", "null"], "description": "The photo's address (JPEG or PNG), if any."},
        },
    },
    "People": {
        "type": "object",
        "properties": {
            "people": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
            "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
            "next": {"type": ["string", "null"]}, "prev": {"type": ["string", "null"]},
        },
    },
    "Skills": {
        "type": "object",
        "properties": {"skills": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"},
            "people": {"type": "integer", "description": "How many people (still working here) have it."}}}}},
    },
}

PATHS = {
    "/people": {
        "get": {
            "summary": "The people who work here: everyone by name, those who know about something, or those "
                       "with a skill",
            "security": _READ,
            "parameters": [
                _parameter("q", "Who knows about…: words matched against skills, names, titles, departments "
                                "and “ask me about” (accents, case and word endings do not matter), best first."),
                _parameter("skill", "Only people with this skill (accents and case do not matter)."),
                _parameter("page", "Page number.", {"type": "integer", "minimum": 1}),
                _parameter("per_page", "People per page.", {"type": "integer", "minimum": 1, "maximum": 100}),
            ],
            "responses": {
                "200": {"description": "One page of people",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/People"}}}},
                "400": {"description": "Invalid page or per_page", "content": _PROBLEM},
                "401": _UNAUTHORIZED,
            },
        },
    },
    "/people/{username}": {
        "get": {
            "summary": "A person's profile (also of someone who has left: `active` is false)",
            "security": _READ,
            "parameters": [{"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The profile",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Person"}}}},
                "401": _UNAUTHORIZED,
                "404": {"description": "Nobody with this username", "content": _PROBLEM},
            },
        },
    },
    "/skills": {
        "get": {
            "summary": "Skills people have, the most common first (for autocompletion with ?q=)",
            "security": _READ,
            "parameters": [
                _parameter("q", "Only skills whose name, or a word of it, starts with this."),
                _parameter("limit", "How many skills.", {"type": "integer", "minimum": 1, "maximum": 50}),
            ],
            "responses": {
                "200": {"description": "Skills with how many people have each",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Skills"}}}},
                "401": _UNAUTHORIZED,
            },
        },
    },
}
