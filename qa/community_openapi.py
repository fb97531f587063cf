"""The OpenAPI description of /api/v1/communities."""
from __future__ import annotations

from qa.communities import MAX_DESCRIPTION, MAX_NAME, MIN_NAME, ROLES, VISIBILITIES

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_COMMUNITY = {"application/json": {"schema": {"$ref": "#/components/schemas/Community"}}}
_MEMBERSHIP = {"application/json": {"schema": {"$ref": "#/components/schemas/Membership"}}}
_WRITE = [{"bearer": []}]
_PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
           {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}]
_PAGE_FIELDS = {"page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
                "next": {"type": ["string", "null"]}, "prev": {"type": ["string", "null"]}}
_FIELDS = {
    "name": {"type": "string", "minLength": MIN_NAME, "maxLength": MAX_NAME,
             "description": "The community's address (slug) is made from it; the old address then leads to the "
                            "new one."},
    "description": {"type": "string", "maxLength": MAX_DESCRIPTION, "description": "Markdown."},
    "visibility": {"type": "string", "enum": list(VISIBILITIES), "default": "internal"},
}
_ID = {"name": "community_id", "in": "path", "required": True, "schema": {"type": "integer"},
       "description": "The community's number: its URI is {node url}/communities/{community_id}."}


def _errors(*codes: int) -> dict:
    text = {400: "Invalid input (the detail names the field)", 401: "Missing or unknown token",
            403: "Not allowed with this token or role", 404: "No such community, or not visible to you",
            409: "Conflict (a community with this name exists; the last moderator cannot leave)"}
    return {str(code): {"description": text[code], "content": _PROBLEM} for code in codes}


SCHEMAS = {
    "Membership": {
        "type": "object",
        "properties": {
            "community": {"type": "integer"},
            "role": {"type": "string", "enum": list(ROLES)},
            "following": {"type": "boolean", "description": "Whether the member hears about new questions."},
            "joined": {"type": "string", "format": "date-time"},
        },
    },
    "Member": {
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "name": {"type": "string", "description": "The name the person shows, or their username."},
            "role": {"type": "string", "enum": list(ROLES)},
            "joined": {"type": "string", "format": "date-time"},
        },
    },
    "Community": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "uri": {"type": "string", "description": "The community's identity; it stays when the name changes."},
            "slug": {"type": "string", "description": "The readable address, made from the name."},
            "name": {"type": "string"},
            "description": {"type": "string", "description": "Markdown."},
            "description_html": {"type": "string", "description": "Sanitised rendering of the description."},
            "visibility": {"type": "string", "enum": list(VISIBILITIES)},
            "created": {"type": "string", "format": "date-time"},
            "members": {"type": "integer"},
            "questions": {"type": "integer", "description": "Questions in the community that you may read."},
            "membership": {"oneOf": [{"$ref": "#/components/schemas/Membership"}, {"type": "null"}],
                           "description": "Your membership (null when you are not a member or send no token)."},
            "url": {"type": "string", "description": "The community's page on this node."},
        },
    },
    "CommunityInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": _FIELDS,
    },
    "CommunityChange": {
        "type": "object",
        "additionalProperties": False,
        "description": "Only the fields sent change.",
        "properties": {name: {key: value for key, value in field.items() if key != "default"}
                       for name, field in _FIELDS.items()},
    },
}

PATHS = {
    "/communities": {
        "get": {
            "summary": "The communities you may see, by name, with their member and question counts",
            "parameters": _PAGING,
            "responses": {"200": {"description": "One page of communities with total, next and prev",
                                  "content": {"application/json": {"schema": {
                                      "type": "object", "properties": {
                                          "communities": {"type": "array",
                                                          "items": {"$ref": "#/components/schemas/Community"}},
                                          **_PAGE_FIELDS}}}}},
                          **_errors(400, 401)},
        },
        "post": {
            "summary": "Create a community (moderators; needs a write token); you become its moderator",
            "security": _WRITE,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/CommunityInput"}}}},
            "responses": {"201": {"description": "Created", "content": _COMMUNITY}, **_errors(400, 401, 403, 409)},
        },
    },
    "/communities/{community_id}": {
        "parameters": [_ID],
        "get": {"summary": "One community, with its counts and your membership",
                "responses": {"200": {"description": "The community", "content": _COMMUNITY}, **_errors(401, 404)}},
        "patch": {
            "summary": "Change the name, description or visibility (the community's moderators, or the node's)",
            "security": _WRITE,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/CommunityChange"}}}},
            "responses": {"200": {"description": "Saved", "content": _COMMUNITY}, **_errors(400, 401, 403, 404, 409)},
        },
    },
    "/communities/{community_id}/members": {
        "parameters": [_ID],
        "get": {
            "summary": "The members, moderators first, then by name (for people signed in who may see the community)",
            "parameters": _PAGING,
            "responses": {"200": {"description": "One page of members with total, next and prev",
                                  "content": {"application/json": {"schema": {
                                      "type": "object", "properties": {
                                          "members": {"type": "array",
                                                      "items": {"$ref": "#/components/schemas/Member"}},
                                          **_PAGE_FIELDS}}}}},
                          **_errors(400, 401, 404)},
        },
    },
    "/communities/{community_id}/membership": {
        "parameters": [_ID],
        "post": {
            "summary": "Join the community; as a member already, change whether you follow it",
            "security": _WRITE,
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"following": {"type": "boolean", "default": True}}}}}},
            "responses": {"201": {"description": "Joined", "content": _MEMBERSHIP},
                          "200": {"description": "Already a member (following updated if sent)",
                                  "content": _MEMBERSHIP},
                          **_errors(400, 401, 403, 404)},
        },
        "delete": {
            "summary": "Leave the community (its last moderator must hand over first)",
            "security": _WRITE,
            "responses": {"204": {"description": "Left (or was not a member)"}, **_errors(401, 403, 404, 409)},
        },
    },
}
