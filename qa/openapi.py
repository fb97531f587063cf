"""The OpenAPI description of /api/v1/questions, /api/v1/answers and /api/v1/tags."""
from __future__ import annotations

from knet.config import LANGUAGES, VISIBILITIES

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_WRITE = [{"bearer": []}]


def _json(schema: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _id(name: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1}, "description": f"The {what}'s number."}


_QUESTION_ID = _id("question_id", "question")
_TAG_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 50},
             "description": "The tag's name (case and accents do not matter)."}
_ANSWER_ID = _id("answer_id", "answer")


def _errors(*codes: int) -> dict:
    text = {400: "Invalid input (the detail says what; `field` names the field)",
            401: "No token, or an unknown or revoked one (writes always need a token)",
            403: "Not allowed: a read-only token, or not yours to change",
            404: "No such question or answer, or not visible to you",
            409: "Conflict: the question is closed or locked, a stale base_revision, or a change made at the same "
                 "moment as another (repeat it)",
            413: "Text over the node's size limit",
            503: "The database was busy with another change at the same moment (SQLite); repeat after Retry-After"}
    return {str(code): {"description": text[code], "content": _PROBLEM} for code in codes}


_DATE = {"type": "string", "format": "date-time"}
_USERNAME = {"type": ["string", "null"], "description": "Username of the author (null once the account is gone)."}

_QUESTION_FIELDS = {
    "title": {"type": "string", "minLength": 10, "maxLength": 200,
              "description": "What you want to know (spaces are collapsed)."},
    "body": {"type": "string", "description": "Markdown; limited to the node's max_body_bytes (512 KiB)."},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 10,
             "description": "Tag names; case, accents and spaces never make two tags."},
    "language": {"type": "string", "enum": list(LANGUAGES),
                 "description": "Default: the node's default language."},
    "visibility": {"type": "string", "enum": list(VISIBILITIES), "default": "internal"},
    "community": {"type": ["integer", "null"], "description": "Id of the community it is asked in."},
}

SCHEMAS = {
    "QuestionInput": {"type": "object", "additionalProperties": False, "properties": _QUESTION_FIELDS},
    "QuestionUpdate": {
        "type": "object",
        "additionalProperties": False,
        "description": "Fields left out keep their current value.",
        "properties": {
            **_QUESTION_FIELDS,
            "summary": {"type": "string", "maxLength": 500, "description": "Edit summary of this revision."},
            "base_revision": {"type": "integer",
                              "description": "The revision you edited; if the question has moved on, 409."},
        },
    },
    "Comment": {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "body": {"type": "string"},
                       "html": {"type": "string", "description": "Sanitised rendering of body."},
                       "author": _USERNAME, "created": _DATE,
                       "hidden": {"type": "boolean", "description": "Hidden by a moderator (only moderators see it)."}},
    },
    "Question": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"}, "body": {"type": "string"},
            "html": {"type": "string", "description": "Sanitised rendering of body."},
            "language": {"type": "string"}, "visibility": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "author": _USERNAME,
            "community": {"type": ["integer", "null"]},
            "score": {"type": "integer", "description": "Sum of the votes (+1 and -1)."},
            "answer_count": {"type": "integer", "description": "Visible answers."},
            "accepted_answer": {"type": ["integer", "null"]},
            "closed": {"type": "boolean"}, "closed_reason": {"type": ["string", "null"]},
            "duplicate_of": {"type": ["integer", "null"]},
            "locked": {"type": "boolean", "description": "Takes no answers, comments, votes or edits."},
            "locked_reason": {"type": ["string", "null"], "description": "Why a moderator locked it, if they said."},
            "hidden": {"type": "boolean"}, "hidden_reason": {"type": ["string", "null"]},
            "revision": {"type": "integer"}, "created": _DATE,
            "active": {**_DATE, "description": "Last edit, answer or comment."},
            "uri": {"type": "string", "description": "The question's page and identity on the network."},
            "url": {"type": "string", "description": "This question in the API."},
        },
    },
    "QuestionDetail": {
        "allOf": [{"$ref": "#/components/schemas/Question"}],
        "type": "object",
        "properties": {
            "my_vote": {"type": "integer", "enum": [-1, 0, 1], "description": "Your vote on the question."},
            "comments": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
            "answers": {"type": "array", "items": {"$ref": "#/components/schemas/Answer"},
                        "description": "The answers you may see: the accepted one first, then by score, then oldest."},
        },
    },
    "Answer": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "question": {"type": "integer"}, "body": {"type": "string"},
            "html": {"type": "string", "description": "Sanitised rendering of body."},
            "author": _USERNAME, "score": {"type": "integer"},
            "accepted": {"type": "boolean", "description": "The asker (or a moderator) marked it as the solution."},
            "my_vote": {"type": "integer", "enum": [-1, 0, 1]},
            "hidden": {"type": "boolean"}, "hidden_reason": {"type": ["string", "null"]},
            "revision": {"type": "integer"}, "created": _DATE, "updated": _DATE,
            "comments": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
            "uri": {"type": "string"}, "url": {"type": "string"},
        },
    },
    "VoteInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["value"],
        "properties": {"value": {"type": "integer", "enum": [-1, 0, 1],
                                 "description": "1 up, -1 down, 0 take your vote back; a new vote replaces yours."}},
    },
    "Tag": {
        "type": "object",
        "properties": {
            "name": {"type": "string",
                     "description": "As first written; case, accents and spaces never make two tags."},
            "following": {"type": "boolean", "description": "Whether you are told of each new question with it."},
            "questions": {"type": "string", "description": "Its questions in the API."},
        },
    },
    "VoteResult": {
        "type": "object",
        "properties": {"score": {"type": "integer", "description": "The new sum of the votes."},
                       "vote": {"type": "integer", "enum": [-1, 0, 1], "description": "Your vote now."}},
    },
}


def _vote(what: str) -> dict:
    return {
        "summary": f"Vote on the {what} (not on your own; not on a locked question)",
        "security": _WRITE,
        "requestBody": {"required": True, "content": _json("VoteInput")},
        "responses": {"200": {"description": "Counted", "content": _json("VoteResult")},
                      **_errors(400, 401, 403, 404, 409, 503)},
    }


_NO_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": False, "description": "No body, or an empty object."}}}}

PATHS = {
    "/questions": {
        "get": {
            "summary": "The questions you may see, newest first",
            "parameters": [
                {"name": "tag", "in": "query", "schema": {"type": "string"},
                 "description": "Only questions with this tag (case and accents do not matter)."},
                {"name": "language", "in": "query", "schema": {"type": "string", "enum": list(LANGUAGES)}},
                {"name": "community", "in": "query", "schema": {"type": "integer", "minimum": 1},
                 "description": "Only questions asked in this community."},
                {"name": "unanswered", "in": "query", "schema": {"type": "boolean"},
                 "description": "true: only questions without a visible answer."},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            ],
            "responses": {"200": {"description": "One page of `items` (Question) with total, next and prev"},
                          **_errors(400, 401)},
        },
        "post": {
            "summary": "Ask a question (needs a write token)",
            "security": _WRITE,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "allOf": [{"$ref": "#/components/schemas/QuestionInput"}], "required": ["title", "body"]}}}},
            "responses": {"201": {"description": "Asked; Location is its address", "content": _json("QuestionDetail")},
                          **_errors(400, 401, 403, 413, 503)},
        },
    },
    "/questions/{question_id}": {
        "parameters": [_QUESTION_ID],
        "get": {"summary": "One question with its answers (accepted first) and comments",
                "responses": {"200": {"description": "The question", "content": _json("QuestionDetail")},
                              **_errors(401, 404)}},
        "put": {
            "summary": "Save a new revision (its author or a moderator)",
            "security": _WRITE,
            "requestBody": {"required": True, "content": _json("QuestionUpdate")},
            "responses": {"200": {"description": "Saved", "content": _json("QuestionDetail")},
                          **_errors(400, 401, 403, 404, 409, 413, 503)},
        },
    },
    "/questions/{question_id}/answers": {
        "parameters": [_QUESTION_ID],
        "post": {
            "summary": "Answer the question (not when it is closed or locked)",
            "security": _WRITE,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False, "required": ["body"],
                "properties": {"body": {"type": "string", "description": "Markdown."}}}}}},
            "responses": {"201": {"description": "Answered; Location is the answer's address",
                                  "content": _json("Answer")},
                          **_errors(400, 401, 403, 404, 409, 413, 503)},
        },
    },
    "/questions/{question_id}/vote": {"parameters": [_QUESTION_ID], "post": _vote("question")},
    "/answers/{answer_id}": {
        "parameters": [_ANSWER_ID],
        "get": {"summary": "One answer with its comments",
                "responses": {"200": {"description": "The answer", "content": _json("Answer")},
                              **_errors(401, 404)}},
    },
    "/answers/{answer_id}/vote": {"parameters": [_ANSWER_ID], "post": _vote("answer")},
    "/answers/{answer_id}/accept": {
        "parameters": [_ANSWER_ID],
        "post": {
            "summary": "Mark the answer as the solution (the asker or a moderator); it replaces another accepted one",
            "security": _WRITE,
            "requestBody": _NO_BODY,
            "responses": {"200": {"description": "Accepted", "content": _json("Answer")},
                          **_errors(400, 401, 403, 404, 409, 503)},
        },
        "delete": {
            "summary": "Take the acceptance back (the asker or a moderator)",
            "security": _WRITE,
            "responses": {"200": {"description": "No longer accepted", "content": _json("Answer")},
                          **_errors(400, 401, 403, 404, 409, 503)},
        },
    },
    "/tags/followed": {
        "get": {
            "summary": "The tags you follow, by name",
            "responses": {"200": {"description": "`items`: the tags (Tag)", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"items": {
                    "type": "array", "items": {"$ref": "#/components/schemas/Tag"}}}}}}},
                          **_errors(401)},
        },
    },
    "/tags/{name}/follow": {
        "parameters": [_TAG_NAME],
        "put": {
            "summary": "Follow a tag: you are told of each new question with it (a new name makes the tag)",
            "security": _WRITE,
            "requestBody": _NO_BODY,
            "responses": {"200": {"description": "Followed (also when you already did)", "content": _json("Tag")},
                          "404": {"description": "No tag can have this name", "content": _PROBLEM},
                          **_errors(400, 401, 403, 503)},
        },
        "delete": {
            "summary": "Stop following a tag",
            "security": _WRITE,
            "responses": {"200": {"description": "Not followed (also when you did not)", "content": _json("Tag")},
                          "404": {"description": "No tag has this name", "content": _PROBLEM},
                          **_errors(400, 401, 403, 503)},
        },
    },
}
