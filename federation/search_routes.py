"""GET /federation/search?q=…: this node's own `network` and `public` objects that match, for an active peer
(signed requests only), with their total and facets. A peer's question is checked strictly: a program
asks it, so a question this node would have to guess at is refused with the reason."""
from __future__ import annotations

import re

from flask import Blueprint, Flask, request
from flask_babel import lazy_gettext as _l

from federation import peers, search_protocol
from federation.changes_routes import whole_number
from federation.signed_requests import active_peer
from knet.config import LANGUAGES, LICENCES
from knet.errors import Invalid
from knet.metrics import timed_search
from knet.search import Filters, Viewer, search
from knet.search.index import MAX_QUERY_CHARS
from knet.search.indexing import node_index
from knet.search.views import MAX_TAG_CHARS, TYPE_LABELS, date_range

bp = Blueprint("federation_search", __name__)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@bp.get(search_protocol.PATH)
def answer():
    active_peer()
    text = _words()
    limit = whole_number("limit", search_protocol.DEFAULT_LIMIT, 1, search_protocol.MAX_LIMIT)
    audience = _one_of("audience", search_protocol.AUDIENCES, "public")
    since, until = date_range(request.args)
    filters = Filters(type=_one_of("type", tuple(TYPE_LABELS)), language=_one_of("lang", LANGUAGES),
                      tag=_tag(), licence=_one_of("licence", LICENCES), since=since, until=until)
    own = peers.own_url()
    # For anyone: what anyone may read; for staff signed in at a peer: `network` objects too, never the
    # `internal` ones of this node's members (member=False), nor anybody's private ones.
    viewer = Viewer("peer" if audience == "network" else None, member=False, home=own)
    with timed_search("peer"):
        found = search(node_index(), text, viewer=viewer, per_page=limit, filters=filters, suggest=False,
                       facets=True)
    return search_protocol.answer_document(own, found), 200, {"Cache-Control": "no-store"}


def _words() -> str:
    text = request.args.get("q", "")
    if not text.strip():
        raise Invalid(_l("“q”, the words to search for, is missing."), field="q")
    if len(text) > MAX_QUERY_CHARS:
        raise Invalid(_l("“q” is longer than %(most)d characters.", most=MAX_QUERY_CHARS), field="q")
    if _CONTROL.search(text):
        raise Invalid(_l("“q” contains control characters."), field="q")
    return text


def _one_of(name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    value = request.args.get(name, "")
    if not value:
        return default
    if value not in choices:
        raise Invalid(_l("“%(name)s” must be one of %(choices)s.", name=name, choices=", ".join(choices)),
                      field=name)
    return value


def _tag() -> str | None:
    tag = request.args.get("tag", "").strip()
    if len(tag) > MAX_TAG_CHARS or _CONTROL.search(tag):
        raise Invalid(_l("“tag” must be at most %(most)d characters, without control characters.",
                         most=MAX_TAG_CHARS), field="tag")
    return tag or None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
