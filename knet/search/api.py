"""Search in the JSON API: GET /api/v1/search.

API requests never authenticate by the session cookie, and bearer tokens belong to `auth`, which
knet must not import: `auth` registers who is searching with :func:`set_api_viewer`. Without a
token the search is anonymous and finds public objects only.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, request

from knet.api import pagination
from knet.config import LICENCES
from knet.db import as_utc
from knet.search.facets import FIELDS as FACET_FIELDS
from knet.search.index import SearchResults, Viewer
from knet.search.network import DEPTH
from knet.search.views import SUGGESTIONS, TYPE_LABELS, filters_from, find, scope_of, scoped, suggestions_for

bp = Blueprint("search_api", __name__, url_prefix="/api/v1")

VIEWER_LOADER = "knet.search.api_viewer"
ViewerLoader = Callable[[], Viewer]


def set_api_viewer(app: Flask, loader: ViewerLoader) -> None:
    """Let a feature that authenticates API requests say who is searching (default: anonymous)."""
    app.extensions[VIEWER_LOADER] = loader


def api_viewer() -> Viewer:
    loader = current_app.extensions.get(VIEWER_LOADER)
    return loader() if loader else Viewer()


def results_json(found: SearchResults) -> dict:
    """A page of results as the API returns it; dates in ISO 8601 with their UTC offset."""
    return {
        "query": found.query,
        "total": found.total,
        "page": found.page,
        "results": [{"uri": hit.uri, "type": hit.type, "title": hit.title, "snippet": hit.snippet,
                     "language": hit.language, "tags": hit.tags, "licence": hit.licence or None,
                     "updated": _iso(hit.updated), "home": hit.home, "score": hit.score} for hit in found.hits],
        "suggestion": found.suggestion,
        "facets": found.facets.as_json() if found.facets is not None else {},
        "silent": list(found.silent),
    }


def _iso(moment) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


@bp.get("/search")
def search_objects():
    page, per_page = pagination()
    return results_json(find(request.args.get("q", ""), api_viewer(), scope_of(request.args), page, per_page,
                             filters_from(request.args)))


@bp.get("/search/suggestions")
def suggestions():
    """Titles for the search box while someone types: what the words so far (the last one as a
    prefix) find among the objects this person may read, best first, and where each leads."""
    return suggestions_for(request.args.get("q", ""), scoped(api_viewer(), request.args))


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

SCHEMAS = {
    "SearchResult": {
        "type": "object",
        "properties": {
            "uri": {"type": "string", "description": "The object's permanent address."},
            "type": {"type": "string", "enum": list(TYPE_LABELS)},
            "title": {"type": "string"},
            "snippet": {"type": "string",
                        "description": "HTML: the passage that matched, escaped, with the matched words in <mark>."},
            "language": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "updated": {"type": ["string", "null"], "format": "date-time"},
            "home": {"type": "string", "description": "The node the object lives on."},
            "licence": {"type": ["string", "null"], "description": "Its licence, when it has one (CC-BY-4.0…)."},
            "score": {"type": "number", "description": "How well it matched, within its own node's index (in a "
                                                       "network search, results are ordered by rank fusion)."},
        },
    },
    "FacetCounts": {
        "type": "array", "description": "Values, most results first, each with how many results have it.",
        "items": {"type": "object", "properties": {"value": {"type": "string"}, "count": {"type": "integer"}}},
    },
    "SearchResults": {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "The query as searched (control characters removed)."},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/SearchResult"}},
            "suggestion": {"type": ["string", "null"], "description": "A corrected query (\"did you mean\")."},
            "facets": {
                "type": "object",
                "description": "Counts of all the results (not only this page) by home node, type, language, tag "
                               "(the most frequent), licence, and age (updated: week, month and year are "
                               "cumulative; older is more than a year ago).",
                "properties": {name: {"$ref": "#/components/schemas/FacetCounts"}
                               for name in (*FACET_FIELDS, "updated")},
            },
            "silent": {"type": "array", "items": {"type": "string"},
                       "description": "Network searches: the peered municipalities that did not answer in time "
                                      "(their objects are searched as this node's copies hold them)."},
        },
    },
    "Suggestions": {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "The words as searched (control characters removed)."},
            "suggestions": {"type": "array", "items": {"type": "string"},
                            "description": "The titles alone, best first, each once."},
            "results": {"type": "array", "description": "One entry per object, best first.", "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "uri": {"type": "string", "description": "The object's permanent address."},
                    "link": {"type": "string", "description": "Where to open it: a path on this node for its "
                                                              "own objects, the URI for other nodes' objects."},
                    "type": {"type": "string", "enum": list(TYPE_LABELS)},
                    "language": {"type": "string"},
                },
            }},
        },
    },
}


def _parameter(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "description": description, "schema": schema or {"type": "string"}}


SCOPE = _parameter("scope", "local (the default): this node's own objects; network: also those of every "
                            "peered node, asked live (within a deadline) or, for a peer that does not answer, "
                            f"as this node's copies hold them; each with its home node in `home`. A network "
                            f"search reaches its first {DEPTH} results.",
                   {"type": "string", "enum": ["local", "network"], "default": "local"})

PATHS = {
    "/search/suggestions": {
        "get": {
            "summary": "Titles to offer in a search box while someone types (the last word counts as a prefix)",
            "parameters": [_parameter("q", "The words typed so far."), SCOPE],
            "responses": {"200": {
                "description": f"Up to {SUGGESTIONS} objects the reader may open, best first",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Suggestions"}}}},
                "400": {"description": "An unknown scope (the detail names it)", "content": _PROBLEM},
                "401": {"description": "An unknown or revoked token", "content": _PROBLEM}},
        },
    },
    "/search": {
        "get": {
            "summary": "Search everything on the node that the token's owner may read (public objects without a token)",
            "parameters": [
                _parameter("q", "Words, \"phrases\", prefix* and -exclusions; accents and case do not matter."),
                _parameter("type", "Only this type of object.",
                           {"type": "string", "enum": list(TYPE_LABELS)}),
                _parameter("lang", "Only objects in this language.", {"type": "string", "enum": ["el", "en"]}),
                _parameter("tag", "Only objects with this tag."),
                _parameter("licence", "Only objects under this licence.",
                           {"type": "string", "enum": list(LICENCES)}),
                _parameter("home", "Only objects whose home is this node (its URL, as in `home`)."),
                _parameter("since", "Only objects updated on this day (UTC) or later.",
                           {"type": "string", "format": "date", "examples": ["2026-01-01"]}),
                _parameter("until", "Only objects updated on this day (UTC) or earlier: the whole day counts.",
                           {"type": "string", "format": "date", "examples": ["2026-03-31"]}),
                SCOPE,
                _parameter("page", "Page number.", {"type": "integer", "minimum": 1}),
                _parameter("per_page", "Results per page.", {"type": "integer", "minimum": 1, "maximum": 100}),
            ],
            "responses": {
                "200": {"description": "One page of results",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResults"}}}},
                "400": {"description": "Invalid page, per_page or scope; a since or until that is not a YYYY-MM-DD "
                                       "date, or a since later than until (the problem's `field` names it)",
                        "content": _PROBLEM},
            },
        },
    },
}
