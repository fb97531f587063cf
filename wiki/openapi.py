"""The OpenAPI description of /api/v1/pages."""
from __future__ import annotations

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_PAGE = {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}
_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "The page's address: its title in lower case, without accents, words joined by '-'."}


def _errors(*codes: int) -> dict:
    text = {400: "Invalid input (the detail names the field)", 401: "Missing or unknown token",
            403: "Not allowed with this token or role", 404: "No such page, or not visible to you",
            409: "Conflict (duplicate title, or a stale base_revision)", 413: "Text over the size limit"}
    return {str(code): {"description": text[code], "content": _PROBLEM} for code in codes}


_PAGE_FIELDS = {
    "title": {"type": "string", "minLength": 1, "maxLength": 200},
    "body": {"type": "string", "description": "Markdown; limited to the node's max_body_bytes (512 KiB)."},
    "language": {"type": "string", "enum": ["el", "en"]},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 20},
    "visibility": {"type": "string", "enum": ["private", "internal", "network", "public"]},
    "licence": {"type": "string", "enum": ["CC-BY-4.0", "CC0-1.0", "all-rights-reserved"]},
    "summary": {"type": "string", "maxLength": 500, "description": "Edit summary of this revision."},
}

SCHEMAS = {
    "PageInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": _PAGE_FIELDS,
    },
    "PageUpdate": {
        "type": "object",
        "additionalProperties": False,
        "description": "PageInput and the revision the edit started from.",
        "properties": {"base_revision": {"type": "integer", "description": "The page's revision when the edit began."},
                       **_PAGE_FIELDS},
        "required": ["base_revision"],
    },
    "Page": {
        "type": "object",
        "properties": {
            "slug": {"type": "string"}, "title": {"type": "string"}, "body": {"type": "string"},
            "html": {"type": "string", "description": "Sanitised rendering of body."},
            "language": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
            "visibility": {"type": "string"}, "licence": {"type": "string"},
            "revision": {"type": "integer"}, "updated": {"type": "string", "format": "date-time"},
            "author": {"type": ["string", "null"]}, "url": {"type": "string"},
        },
    },
    "Revision": {
        "type": "object",
        "properties": {"revision": {"type": "integer"}, "title": {"type": "string"}, "summary": {"type": "string"},
                       "author": {"type": ["string", "null"]}, "created": {"type": "string", "format": "date-time"}},
    },
}

_WRITE = [{"bearer": []}]

PATHS = {
    "/pages": {
        "get": {
            "summary": "List the pages you may read, most recently changed first",
            "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                           {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
            "responses": {"200": {"description": "One page of results with total, next and prev"}, **_errors(400)},
        },
        "post": {
            "summary": "Create a page (needs a write token)",
            "security": _WRITE,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "allOf": [{"$ref": "#/components/schemas/PageInput"}], "required": ["title", "body"]}}}},
            "responses": {"201": {"description": "Created", "content": _PAGE}, **_errors(400, 401, 403, 409, 413)},
        },
    },
    "/pages/{slug}": {
        "parameters": [_SLUG],
        "get": {"summary": "One page with its rendered HTML",
                "responses": {"200": {"description": "The page", "content": _PAGE}, **_errors(404)}},
        "put": {
            "summary": "Save a new revision; refused with 409 when base_revision is not the current one",
            "security": _WRITE,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/PageUpdate"}}}},
            "responses": {"200": {"description": "Saved", "content": _PAGE}, **_errors(400, 401, 403, 404, 409, 413)},
        },
        "delete": {"summary": "Delete the page (a moderator can restore it)", "security": _WRITE,
                   "responses": {"204": {"description": "Deleted"}, **_errors(401, 403, 404)}},
    },
    "/pages/{slug}/revisions": {
        "parameters": [_SLUG],
        "get": {"summary": "Every revision, newest first",
                "responses": {"200": {"description": "Revisions"}, **_errors(404)}},
    },
    "/pages/{slug}/diff": {
        "parameters": [_SLUG,
                       {"name": "from", "in": "query", "required": True, "schema": {"type": "integer"}},
                       {"name": "to", "in": "query", "required": True, "schema": {"type": "integer"}}],
        "get": {"summary": "A unified diff between two revisions",
                "responses": {"200": {"description": "The diff"}, **_errors(400, 404)}},
    },
    "/pages/{slug}/revert": {
        "parameters": [_SLUG],
        "post": {
            "summary": "Save an earlier revision's text as a new revision",
            "security": _WRITE,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"revision": {"type": "integer"}}, "required": ["revision"],
                "additionalProperties": False}}}},
            "responses": {"200": {"description": "Reverted", "content": _PAGE}, **_errors(400, 401, 403, 404, 409)},
        },
    },
}
