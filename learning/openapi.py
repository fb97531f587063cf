"""The OpenAPI description of /api/v1/courses, /api/v1/lessons, /api/v1/quizzes and /api/v1/certificates."""
from __future__ import annotations

from knet.config import LANGUAGES, LICENCES, VISIBILITIES
from learning.catalogue import DURATIONS, MAX_QUERY_CHARS, ORDERS
from learning.courses import MAX_MINUTES, MAX_PREREQUISITES, MAX_SUMMARY, MAX_TAGS, MAX_TITLE, MAX_TRAINERS, MIN_TITLE
from learning.models import ITEM_KINDS, QUESTION_KINDS, STATES

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_WRITE = [{"bearer": []}]


def _json(schema: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _list_of(schema: str) -> dict:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{schema}"}}


def _errors(*codes: int) -> dict:
    text = {400: "Invalid input (the detail says what; `field` names the field)",
            401: "No token, or an unknown or revoked one (writes always need a token)",
            403: "Not allowed: a read-only token, no trainer role, or not a trainer of this course",
            404: "No such course, lesson, quiz, attempt or certificate, or not visible to you",
            409: "Conflict: not enrolled, not open for enrolment, a prerequisite not completed, or no attempts left",
            413: "A description over the node's size limit"}
    return {str(code): {"description": text[code], "content": _PROBLEM} for code in codes}


_COURSE_ID = {"name": "course_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1},
              "description": "The course's number."}
_KEY = {"name": "key", "in": "path", "required": True,
        "schema": {"type": "string", "pattern": "^[0-9a-f]{1,32}$"},
        "description": "The lesson's or quiz's stable key (16 hexadecimal digits), as in `modules[].items[].key` "
                       "of a course: it stays the same in every published version, and progress is kept by it."}
_NUMBER = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1},
           "description": "1 for your first attempt at the quiz, and so on."}
_CERTIFICATE_ID = {"name": "certificate_id", "in": "path", "required": True,
                   "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"},
                   "description": "The certificate's unguessable id, as in its address."}
_NO_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": False, "description": "No body, or an empty object."}}}}

_DATE = {"type": "string", "format": "date-time"}
_MAYBE_DATE = {"type": ["string", "null"], "format": "date-time"}
_TEXT = {"type": "string"}
_HTML = {"type": "string", "description": "Sanitised HTML, safe to show as it is."}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_MAYBE_INT = {"type": ["integer", "null"]}
_URL = {"type": "string", "description": "Its address in the API."}

_COURSE_INPUT = {
    "title": {"type": "string", "minLength": MIN_TITLE, "maxLength": MAX_TITLE},
    "summary": {"type": "string", "maxLength": MAX_SUMMARY,
                "description": "One or two sentences (spaces are collapsed)."},
    "description": {"type": "string", "description": "Markdown; limited to the node's max_body_bytes."},
    "language": {"type": "string", "enum": list(LANGUAGES), "description": "Default: the node's default language."},
    "visibility": {"type": "string", "enum": list(VISIBILITIES), "default": "internal"},
    "licence": {"type": "string", "enum": list(LICENCES), "default": "CC-BY-4.0"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": MAX_TAGS,
             "description": "Case, accents and spaces never make two tags."},
    "estimated_minutes": {"type": "integer", "minimum": 0, "maximum": MAX_MINUTES, "default": 0},
    "community": {"type": ["string", "null"], "maxLength": 300,
                  "description": "The address of the community of practice it belongs to."},
    "trainers": {"type": ["array", "null"], "items": {"type": "string"}, "maxItems": MAX_TRAINERS,
                 "description": "Usernames of people with the trainer role; the creator is a trainer of a new course; "
                                "null or left out keeps the trainers as they are."},
    "prerequisites": {"type": "array", "items": {"type": "integer"}, "maxItems": MAX_PREREQUISITES,
                      "description": "Ids of the courses to complete before enrolling."},
}

_COURSE = {
    "id": _INT,
    "title": _TEXT, "summary": _TEXT, "language": _TEXT,
    "estimated_minutes": {"type": "integer", "description": "0: no estimate."},
    "visibility": {"type": "string", "enum": list(VISIBILITIES)},
    "state": {"type": "string", "enum": list(STATES)},
    "version": {"type": ["integer", "null"], "description": "The newest published version (null: never published)."},
    "tags": {"type": "array", "items": _TEXT},
    "trainers": {"type": "array", "items": _TEXT, "description": "Usernames."},
    "community": {"type": ["string", "null"], "description": "The community of practice's address."},
    "standing": {"type": ["string", "null"], "enum": ["enrolled", "completed", None],
                 "description": "Yours: null when you are not enrolled."},
    "uri": {"type": "string", "description": "The course's page and identity on the network."},
    "url": _URL,
}

_ITEM = {
    "key": {"type": "string", "description": "Stable across versions: the `key` of /lessons/{key} and /quizzes/{key}."},
    "kind": {"type": "string", "enum": list(ITEM_KINDS)},
    "title": _TEXT,
    "html": {**_HTML, "description": "The lesson, or the quiz's introduction: sanitised HTML."},
    "done": {"type": "boolean", "description": "You read the lesson, or passed the quiz."},
    "attachments": _list_of("Attachment"),
    "page": {"type": "string", "description": "The step's page for people."},
    "url": {"type": "string", "description": "A quiz: its questions (GET). A lesson: where to mark it read (POST)."},
    "pass_percent": {"type": "integer", "description": "Quizzes only: the score needed to pass, in percent."},
    "max_attempts": {"type": "integer", "description": "Quizzes only: 0 means as many as you like."},
    "question_count": {"type": "integer", "description": "Quizzes only."},
}

_STEP = {"key": _TEXT, "kind": {"type": "string", "enum": list(ITEM_KINDS)}, "title": _TEXT,
         "module": {"type": "string", "description": "The module's key."}, "module_title": _TEXT,
         "number": {"type": "integer", "description": "Its place in the course, from 1."}, "done": _BOOL}

_RESULT_QUESTION = {
    "key": _TEXT, "kind": {"type": "string", "enum": list(QUESTION_KINDS)}, "prompt_html": _HTML,
    "answered": _BOOL, "right": _BOOL,
    "chosen": {"type": "array", "items": _TEXT, "description": "The texts of the options you chose, or your number."},
    "right_answer": {"type": ["array", "null"], "items": _TEXT,
                     "description": "Where your answer was wrong: the right options' texts, or the number ± its "
                                    "tolerance (null where you were right)."},
    "feedback": {"type": "array", "items": _TEXT,
                 "description": "The question's feedback, then that of each option you chose (plain text)."},
}

SCHEMAS = {
    "CourseInput": {"type": "object", "additionalProperties": False, "properties": _COURSE_INPUT},
    "Course": {"type": "object", "properties": _COURSE},
    "CourseDetail": {
        "allOf": [{"$ref": "#/components/schemas/Course"}],
        "type": "object",
        "description": "Never holds a quiz's questions or answers: GET /quizzes/{key} for the questions.",
        "properties": {
            "description": {"type": "string", "description": "Markdown."}, "html": _HTML,
            "licence": {"type": "string", "enum": list(LICENCES)},
            "working_copy": {"type": "boolean",
                             "description": "true: the trainers' unpublished working copy, not what learners read."},
            "may_edit": {"type": "boolean", "description": "Whether you may change it (PATCH)."},
            "prerequisites": {"type": "array", "items": {"type": "object", "properties": {
                "id": _INT, "title": {"type": ["string", "null"], "description": "null if you may not see it."},
                "done": {"type": ["boolean", "null"], "description": "You completed it (null: anonymous)."}}}},
            "resume": {"type": ["string", "null"], "description": "The key of the step to continue with."},
            "certificate": {"oneOf": [{"$ref": "#/components/schemas/CertificateLink"}, {"type": "null"}]},
            "created": _DATE, "updated": _DATE,
            "modules": {"type": "array", "items": {"type": "object", "properties": {
                "key": _TEXT, "title": _TEXT, "items": _list_of("Item")}}},
        },
    },
    "Item": {"type": "object", "properties": _ITEM},
    "Attachment": {"type": "object", "properties": {
        "filename": _TEXT, "content_type": _TEXT, "size": {"type": "integer", "description": "Bytes."},
        "url": {"type": "string", "description": "The file itself."}}},
    "Progress": {"type": "object", "properties": {
        "course": _INT, "version": _MAYBE_INT, "enrolled": _BOOL,
        "source": {"type": ["string", "null"], "enum": ["self", "assignment", None]},
        "enrolled_at": _MAYBE_DATE, "completed": _BOOL, "completed_at": _MAYBE_DATE,
        "done": {"type": "integer", "description": "Steps done."}, "total": {"type": "integer"},
        "percent": _INT, "resume": {"type": ["string", "null"], "description": "The key of the step to continue with."},
        "certificate": {"oneOf": [{"$ref": "#/components/schemas/CertificateLink"}, {"type": "null"}]},
        "steps": {"type": "array", "items": {"type": "object", "properties": _STEP}}, "url": _URL}},
    "Quiz": {
        "type": "object",
        "description": "A quiz as you answer it: option keys and texts, never which is right, nor any feedback.",
        "properties": {
            "key": _TEXT, "title": _TEXT, "html": _HTML, "course": _INT,
            "version": {"type": "integer", "description": "The published version you answer."},
            "pass_percent": _INT, "max_attempts": {"type": "integer", "description": "0: as many as you like."},
            "attempts_used": _INT, "attempts_left": {"type": ["integer", "null"], "description": "null: no limit."},
            "may_submit": _BOOL, "best_percent": _MAYBE_INT, "passed": _BOOL,
            "questions": {"type": "array", "items": {"type": "object", "properties": {
                "key": _TEXT, "kind": {"type": "string", "enum": list(QUESTION_KINDS)}, "prompt_html": _HTML,
                "options": {"type": "array", "description": "Empty for numeric questions; true/false questions have "
                                                            "the keys \"true\" and \"false\".",
                            "items": {"type": "object", "properties": {"key": _TEXT, "text": _TEXT}}}}}},
            "attempts": _URL,
        },
    },
    "AnswersInput": {
        "type": "object", "additionalProperties": False, "required": ["answers"],
        "properties": {"answers": {
            "type": "object",
            "description": "{question key: answer}: a list of the chosen options' keys (at most one for single "
                           "choice and true/false), or for numeric questions a number or text such as \"2,5\". A "
                           "question left out or answered with [], null or blank text counts as wrong.",
            "additionalProperties": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "number"},
                                               {"type": "string"}, {"type": "null"}]}}},
    },
    "Attempt": {"type": "object", "properties": {
        "number": _INT, "version": _INT, "percent": _INT, "passed": _BOOL, "submitted": _DATE, "url": _URL}},
    "AttemptResult": {"type": "object", "properties": {
        "quiz": {"type": "string", "description": "The quiz's key."}, "title": _TEXT, "number": _INT, "version": _INT,
        "percent": _INT, "passed": _BOOL, "pass_percent": _INT,
        "right": {"type": "integer", "description": "Questions answered right."}, "total": _INT,
        "unanswered": _INT, "attempts_left": {"type": ["integer", "null"], "description": "null: no limit."},
        "course_completed": _BOOL,
        "certificate": {"oneOf": [{"$ref": "#/components/schemas/CertificateLink"}, {"type": "null"}]},
        "submitted": _DATE,
        "questions": {"type": "array", "items": {"type": "object", "properties": _RESULT_QUESTION}}, "url": _URL}},
    "CertificateLink": {"type": "object", "properties": {
        "id": _TEXT, "revoked": _BOOL, "url": _URL,
        "page": {"type": "string", "description": "The certificate's page, which anyone may open to check it."},
        "assertion": {"type": "string", "description": "The Open Badges 2.0 assertion (JSON-LD)."}}},
    "Certificate": {
        "allOf": [{"$ref": "#/components/schemas/CertificateLink"}],
        "type": "object",
        "properties": {
            "person": {"type": "string", "description": "The name of the holder when it was issued."},
            "course_title": {"type": "string", "description": "As it was when it was issued."},
            "course_version": _INT,
            "course": {"type": ["string", "null"], "description": "The course in the API, if you may see it."},
            "issued": _DATE, "revoked_at": _MAYBE_DATE, "revoked_reason": {"type": ["string", "null"]},
        },
    },
}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description}


PATHS = {
    "/courses": {
        "get": {
            "summary": "The catalogue: the published courses you may see",
            "parameters": [
                _query("q", {"type": "string", "maxLength": MAX_QUERY_CHARS}, "Words to search for."),
                _query("language", {"type": "string", "enum": list(LANGUAGES)}, "The course's language."),
                _query("tag", {"type": "string"}, "Only courses with this tag (case and accents do not matter)."),
                _query("community", {"type": "string"}, "Only courses of this community of practice (its address)."),
                _query("duration", {"type": "string", "enum": list(DURATIONS)},
                       "short: under an hour; medium: one to three hours; long: more."),
                _query("order", {"type": "string", "enum": list(ORDERS)},
                       "Default: relevance when searching, else newest."),
                _query("page", {"type": "integer", "minimum": 1}, "Page number."),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Courses per page."),
            ],
            "responses": {"200": {"description": "One page of `items` (Course) with total, next and prev"},
                          **_errors(400, 401)},
        },
        "post": {
            "summary": "Start a course as a draft (people with the trainer role; needs a write token)",
            "security": _WRITE,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "allOf": [{"$ref": "#/components/schemas/CourseInput"}], "required": ["title"]}}}},
            "responses": {"201": {"description": "Created; Location is its address", "content": _json("CourseDetail")},
                          **_errors(400, 401, 403, 413)},
        },
    },
    "/courses/{course_id}": {
        "parameters": [_COURSE_ID],
        "get": {
            "summary": "A course with its modules, lessons and quizzes, as you see it (never a quiz's answers)",
            "parameters": [_query("draft", {"type": "boolean"},
                                  "true: the unpublished working copy (the course's trainers only).")],
            "responses": {"200": {"description": "The course", "content": _json("CourseDetail")},
                          **_errors(400, 401, 403, 404)},
        },
        "patch": {
            "summary": "Change what the course says about itself (its trainers, or an admin); fields left out stay",
            "security": _WRITE,
            "requestBody": {"required": True, "content": _json("CourseInput")},
            "responses": {"200": {"description": "Saved (in the working copy, until published)",
                                  "content": _json("CourseDetail")},
                          **_errors(400, 401, 403, 404, 413)},
        },
    },
    "/courses/{course_id}/enrol": {
        "parameters": [_COURSE_ID],
        "post": {
            "summary": "Enrol in a published course whose prerequisites you completed",
            "security": _WRITE,
            "requestBody": _NO_BODY,
            "responses": {"201": {"description": "Enrolled; Location is your progress", "content": _json("Progress")},
                          "200": {"description": "You were already enrolled", "content": _json("Progress")},
                          **_errors(400, 401, 403, 404, 409)},
        },
    },
    "/courses/{course_id}/progress": {
        "parameters": [_COURSE_ID],
        "get": {"summary": "Where you stand in the course: each step done or not, and your certificate",
                "responses": {"200": {"description": "Your progress", "content": _json("Progress")},
                              **_errors(401, 404)}},
    },
    "/lessons/{key}/complete": {
        "parameters": [_KEY],
        "post": {
            "summary": "Mark a lesson of the newest version read (you must be enrolled); it is where you resume",
            "security": _WRITE,
            "requestBody": _NO_BODY,
            "responses": {"200": {"description": "Read; your progress in its course", "content": _json("Progress")},
                          **_errors(400, 401, 403, 404, 409)},
        },
    },
    "/quizzes/{key}": {
        "parameters": [_KEY],
        "get": {"summary": "A quiz of the newest version as you answer it: its questions and options, no answers",
                "responses": {"200": {"description": "The quiz", "content": _json("Quiz")},
                              **_errors(401, 404, 409)}},
    },
    "/quizzes/{key}/attempts": {
        "parameters": [_KEY],
        "get": {"summary": "Your attempts at the quiz, first to last",
                "responses": {"200": {"description": "`items`: your attempts (Attempt)", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {"items": _list_of("Attempt")}}}}},
                              **_errors(401, 404, 409)}},
        "post": {
            "summary": "Submit your answers: the score, and per question whether it was right and why",
            "security": _WRITE,
            "requestBody": {"required": True, "content": _json("AnswersInput")},
            "responses": {"201": {"description": "Marked; Location is this attempt", "content": _json("AttemptResult")},
                          **_errors(400, 401, 403, 404, 409)},
        },
    },
    "/quizzes/{key}/attempts/{number}": {
        "parameters": [_KEY, _NUMBER],
        "get": {"summary": "One of your attempts, marked against the version it answered",
                "responses": {"200": {"description": "The attempt", "content": _json("AttemptResult")},
                              **_errors(401, 404, 409)}},
    },
    "/certificates/{certificate_id}": {
        "parameters": [_CERTIFICATE_ID],
        "get": {"summary": "Check a certificate (anyone may, no token needed): whose, of what, and whether revoked",
                "responses": {"200": {"description": "The certificate", "content": _json("Certificate")},
                              **_errors(401, 404)}},
    },
}
