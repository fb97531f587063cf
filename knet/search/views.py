"""The search page, and the OpenSearch description that lets browsers offer the node as a search engine."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from knet.config import LANGUAGES
from knet.search.index import Filters, Hit, Viewer, clean, search
from knet.search import indexing
from knet.search.indexing import node_index

bp = Blueprint("search", __name__)

#: The content types a search can be narrowed to, with their text labels (every type the node indexes).
TYPE_LABELS = {
    "page": _l("Wiki page"),
    "question": _l("Question"),
    "answer": _l("Answer"),
    "course": _l("Course"),
    "lesson": _l("Lesson"),
    "person": _l("Person"),
    "community": _l("Community"),
}
#: A decorative symbol per type, shown next to the text label and hidden from screen readers.
TYPE_ICONS = {"page": "▤", "question": "?", "answer": "✓", "course": "▶", "lesson": "◆", "person": "●",
              "community": "◎"}
LANGUAGE_LABELS = {"el": _l("Greek"), "en": _l("English")}
#: Deepest results page the web page shows; nobody reads further, and deep pages cost the most.
MAX_PAGE = 1000
MAX_TAG_CHARS = 100


def current_viewer() -> Viewer:
    """Who is searching, as the index understands it: anonymous, or a member of this node."""
    if current_user.is_authenticated:
        return Viewer(current_user.get_id())
    return Viewer()


def filters_from(args) -> Filters:
    """The filters asked for with ?type=&lang=&tag=; unknown values narrow nothing rather than fail."""
    kind = args.get("type", "")
    language = args.get("lang", "")
    tag = clean(args.get("tag", ""))[:MAX_TAG_CHARS]
    return Filters(type=kind if kind in TYPE_LABELS else None,
                   language=language if language in LANGUAGES else None,
                   tag=tag or None)


def link_of(hit: Hit) -> str:
    """Where a result leads: objects of this node by their path (so the link works on any host name
    the node is reached by), objects of other nodes by their URI."""
    base = current_app.config["KNET"]["url"].rstrip("/")
    if hit.uri.startswith(base + "/"):
        return hit.uri[len(base):]
    return hit.uri


def _page_number(raw: str | None) -> int:
    try:
        page = int(raw or 1)
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


@bp.get("/search")
def results():
    text = request.args.get("q", "")
    filters = filters_from(request.args)
    page = _page_number(request.args.get("page"))
    found = search(node_index(), text, viewer=current_viewer(), page=page,
                   per_page=current_app.config["KNET"]["page_size"], filters=filters)
    rebuilding = indexing.rebuilding()
    # The filters that apply, for links that keep them (pagination, "did you mean", tags).
    kept = {name: value for name, value in (("type", filters.type), ("lang", filters.language),
                                            ("tag", filters.tag)) if value}
    return render_template("search/results.html", results=found, filters=filters, kept=kept,
                           type_labels=TYPE_LABELS, type_icons=TYPE_ICONS, language_labels=LANGUAGE_LABELS,
                           link_of=link_of, empty_query=not found.query, rebuilding=rebuilding)


@bp.get("/opensearch.xml")
def opensearch():
    base = current_app.config["KNET"]["url"].rstrip("/")
    name = current_app.config["KNET"]["name"]
    # OpenSearch 1.1 limits ShortName to 16 characters; the description carries the whole name.
    xml = render_template("opensearch.xml", base=base, short_name=name[:16],
                          description=_("Search %(node)s.", node=name))
    return Response(xml, mimetype="application/opensearchdescription+xml")

