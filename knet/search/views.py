"""The search page, the header search box's suggestions, and the OpenSearch description that lets
browsers offer the node as a search engine."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timezone

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from flask_babel import format_date, gettext as _, lazy_gettext as _l
from flask_login import current_user

from knet.config import LANGUAGES, LICENCES
from knet.errors import Invalid
from knet.metrics import timed_search
from knet.search.analysis import STOP_WORDS, fold
from knet.search.facets import OLDER, age_range
from knet.search.index import Filters, Hit, SearchResults, Viewer, clean, search
from knet.search import indexing
from knet.search.indexing import node_index
from knet.search.network import DEPTH, network_search

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
LICENCE_LABELS = {"CC-BY-4.0": "CC BY 4.0", "CC0-1.0": "CC0 1.0", "all-rights-reserved": _l("All rights reserved")}
#: The age brackets of the "updated" facet.
AGE_LABELS = {"week": _l("In the past week"), "month": _l("In the past month"), "year": _l("In the past year"),
              OLDER: _l("More than a year ago")}
MAX_HOME_CHARS = 200
#: Deepest results page the web page shows; nobody reads further, and deep pages cost the most.
MAX_PAGE = 1000
MAX_TAG_CHARS = 100
#: The dates a search can be narrowed to (when objects were last updated), by parameter name.
DATE_LABELS = {"since": _l("Updated since"), "until": _l("Updated until")}
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: How many objects the search box's autocompletion offers.
SUGGESTIONS = 8


def current_viewer() -> Viewer:
    """Who is searching, as the index understands it: anonymous, or a member of this node."""
    return viewer_of(current_user if current_user.is_authenticated else None)


def viewer_of(actor) -> Viewer:
    """A search of this node's own objects by `actor` (a member or a visitor from a peer, who sees no
    internal objects; or None for anonymous); see `scoped` for searches that take in peers' objects too."""
    if actor is None:
        return Viewer(None, home=current_app.config["KNET"]["url"])
    return Viewer(str(actor.id), member=not getattr(actor, "is_visitor", False), home=current_app.config["KNET"]["url"])


SCOPES = ("local", "network")


def scope_of(args) -> str:
    """?scope=local (the default: this node's own objects) or network (those of every peer too);
    Invalid for another scope."""
    scope = args.get("scope", "") or "local"
    if scope not in SCOPES:
        raise Invalid(_l("“scope” must be “local” (this municipality's objects) or “network” (those of every "
                         "peered municipality too), not “%(scope)s”.", scope=scope[:40]), field="scope")
    return scope


def scoped(viewer: Viewer, args) -> Viewer:
    """The viewer kept to this node's own objects (?scope=local) or not (?scope=network: the replicas of
    peers' objects too, as this node's index holds them)."""
    return replace(viewer, home=current_app.config["KNET"]["url"] if scope_of(args) == "local" else None)


def find(text: str, viewer: Viewer, scope: str, page: int, per_page: int, filters: Filters) -> SearchResults:
    """A page of results with their facets: this node's own objects (scope "local"), or the merged
    network search of this node and its peers ("network"), which reaches DEPTH results."""
    if scope == "local":
        with timed_search("local"):
            return search(node_index(), text, viewer=replace(viewer, home=current_app.config["KNET"]["url"]),
                          page=page, per_page=per_page, filters=filters, facets=True)
    if (page - 1) * per_page >= DEPTH:
        raise Invalid(_l("A search of every municipality shows its first %(depth)d results; narrow it with "
                         "more words or filters instead of going further.", depth=DEPTH), field="page")
    with timed_search("network"):
        return network_search(node_index(), text, viewer=replace(viewer, home=None), page=page, per_page=per_page,
                              filters=filters)


def filters_from(args) -> Filters:
    """The filters asked for with ?type=&lang=&tag=&since=&until=. Unknown types, languages and tags
    narrow nothing rather than fail; a date that is not one raises Invalid (see :func:`date_range`)."""
    since, until = date_range(args)
    return replace(_choices(args), since=since, until=until)


def _choices(args) -> Filters:
    kind = args.get("type", "")
    language = args.get("lang", "")
    licence = args.get("licence", "")
    tag = clean(args.get("tag", ""))[:MAX_TAG_CHARS]
    home = args.get("home", "").strip()
    return Filters(type=kind if kind in TYPE_LABELS else None,
                   language=language if language in LANGUAGES else None,
                   tag=tag or None, licence=licence if licence in LICENCES else None,
                   home=home if home.startswith(("https://", "http://")) and len(home) <= MAX_HOME_CHARS else None)


def date_range(args) -> tuple[datetime | None, datetime | None]:
    """The first and the last moment, in UTC, of the whole days asked for with ?since=&until=
    (YYYY-MM-DD, both days included); Invalid names a date that is not one, or a reversed range."""
    since, until = _day(args, "since"), _day(args, "until")
    if since and until and since > until:
        raise Invalid(_l("“%(since_label)s” (%(since)s) is later than “%(until_label)s” (%(until)s): choose an "
                         "earlier start or a later end.", since_label=DATE_LABELS["since"],
                         since=format_date(since, "long"), until_label=DATE_LABELS["until"],
                         until=format_date(until, "long")), field="since")
    return (datetime.combine(since, time.min, timezone.utc) if since else None,
            datetime.combine(until, time.max, timezone.utc) if until else None)


def _day(args, name: str) -> date | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    if _ISO_DAY.fullmatch(raw):  # date.fromisoformat alone also takes 20260331 and week dates
        try:
            return date.fromisoformat(raw)
        except ValueError:  # 2026-02-30
            pass
    raise Invalid(_l("“%(label)s” must be a date written as YYYY-MM-DD, for example 2026-03-31.",
                     label=DATE_LABELS[name]), field=name)


FOREIGN = "knet.search.foreign"


def link_foreign_objects(app: Flask, link: Callable[[str], str], home_name: Callable[[str], str | None]) -> None:
    """Say where results from other nodes lead on this one (federation shows its copies of them), and
    how their home nodes are named (by URL)."""
    app.extensions[FOREIGN] = (link, home_name)


def home_of(hit: Hit) -> str | None:
    """The name of the node a result comes from, when it is not this one."""
    if not hit.home or hit.home == current_app.config["KNET"]["url"]:
        return None
    return home_name(hit.home)


def home_name(url: str) -> str:
    """A node's name, by its URL: this node's, a peer's, or the URL's host when it is neither."""
    if url == current_app.config["KNET"]["url"]:
        return current_app.config["KNET"]["name"]
    foreign = current_app.extensions.get(FOREIGN)
    return (foreign[1](url) if foreign else None) or url.split("://", 1)[-1]


def link_of(hit: Hit) -> str:
    """Where a result leads: objects of this node by their path (so the link works on any host name
    the node is reached by), objects of other nodes to this node's copy of them (or their URI)."""
    base = current_app.config["KNET"]["url"].rstrip("/")
    if hit.uri.startswith(base + "/"):
        return hit.uri[len(base):]
    if not hit.uri.lower().startswith(("https://", "http://")):
        return "#"  # an index entry from elsewhere never becomes a javascript: (or other) link
    foreign = current_app.extensions.get(FOREIGN)
    return foreign[0](hit.uri) if foreign else hit.uri


def _page_number(raw: str | None) -> int:
    try:
        page = int(raw or 1)
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def suggestions_for(text: str, viewer: Viewer) -> dict:
    """What a search box offers while someone types: the objects ``viewer`` may read that the words
    so far find (the last word as a prefix), best first, with their titles and where they lead.

    ``suggestions`` is the titles alone, without repeats (the API's first shape); ``results`` has
    one entry per object."""
    text = clean(text).strip()
    hits: list[Hit] = []
    if text and not text.endswith(("*", '"')):
        # A last word that is a stop word («προμήθειες του») is taken as typed in full, not as a prefix.
        last = text.split()[-1]
        typed = text if fold(last) in STOP_WORDS else text + "*"
        hits = search(node_index(), typed, viewer=viewer, per_page=SUGGESTIONS, suggest=False).hits
    return {
        "query": text,
        "suggestions": list(dict.fromkeys(hit.title for hit in hits)),
        "results": [{"title": hit.title, "uri": hit.uri, "link": link_of(hit), "type": hit.type,
                     "language": hit.language} for hit in hits],
    }


@bp.get("/search")
def results():
    text = request.args.get("q", "")
    per_page = current_app.config["KNET"]["page_size"]
    date_error = None
    try:
        filters = filters_from(request.args)
    except Invalid as exc:
        # The page again, with the words and choices kept and the message in place of results.
        filters, date_error = _choices(request.args), exc
    network = request.args.get("scope") == "network"
    page = _page_number(request.args.get("page"))
    if network:
        page = min(page, -(-DEPTH // per_page))
    if date_error:
        found = SearchResults(query=clean(text), total=0, page=1, per_page=per_page)
    else:
        found = find(text, current_viewer(), "network" if network else "local", page, per_page, filters)
    # The filters that apply, for links that keep them (pagination, "did you mean", tags, facets).
    kept = {name: value for name, value in (("type", filters.type), ("lang", filters.language),
                                            ("tag", filters.tag), ("licence", filters.licence),
                                            ("home", filters.home if network else None),
                                            ("since", _iso_day(filters.since)),
                                            ("until", _iso_day(filters.until)),
                                            ("scope", "network" if network else None)) if value}
    # What the date fields show: the days that apply, or what was typed when it was not a date.
    days = {name: request.args.get(name, "")[:20] if date_error else kept.get(name, "") for name in DATE_LABELS}
    html = render_template("search/results.html", results=found, filters=filters, kept=kept, days=days,
                           date_error=date_error, date_labels=DATE_LABELS, type_labels=TYPE_LABELS,
                           type_icons=TYPE_ICONS, language_labels=LANGUAGE_LABELS, link_of=link_of, home_of=home_of,
                           network=network, facet_groups=facet_groups(found, kept, network),
                           shown_total=min(found.total, DEPTH) if network else found.total,
                           empty_query=not found.query, rebuilding=indexing.rebuilding())
    return html, 400 if date_error else 200


@dataclass(frozen=True)
class FacetLink:
    label: str
    count: int
    #: The query arguments of the search narrowed to this value (or widened again, when it is chosen).
    args: dict
    chosen: bool


def facet_groups(found: SearchResults, kept: dict, network: bool) -> list[tuple[str, list[FacetLink]]]:
    """The search page's facets: (heading, links) for each facet that has values, in a fixed order."""
    if found.facets is None:
        return []
    today = datetime.now(timezone.utc).date()
    base = {"q": found.query, **kept}
    groups = []
    for name, heading, argument, label in (
            ("home", _("Municipality"), "home", home_name),
            ("type", _("Type"), "type", lambda value: TYPE_LABELS.get(value, value)),
            ("language", _("Language"), "lang", lambda value: LANGUAGE_LABELS.get(value, value)),
            ("tag", _("Tag"), "tag", str),
            ("licence", _("Licence"), "licence", lambda value: LICENCE_LABELS.get(value, value))):
        if name == "home" and not network:
            continue
        links = [FacetLink(str(label(count.value)), count.count,
                           _toggled(base, argument, count.value), kept.get(argument) == count.value)
                 for count in found.facets.get(name) if name != "licence" or count.value in LICENCE_LABELS]
        if links:
            groups.append((heading, links))
    ages = []
    for count in found.facets.get("updated"):
        since, until = age_range(count.value, today)
        undated = {key: value for key, value in base.items() if key not in DATE_LABELS}
        args = {**undated, **{key: day.isoformat() for key, day in (("since", since), ("until", until)) if day}}
        chosen = all(kept.get(key) == args.get(key) for key in DATE_LABELS)
        ages.append(FacetLink(str(AGE_LABELS[count.value]), count.count, undated if chosen else args, chosen))
    if ages:
        groups.append((_("Updated"), ages))
    return groups


def _toggled(base: dict, argument: str, value: str) -> dict:
    """The arguments with this value chosen, or without it when it is the one chosen already."""
    if base.get(argument) == value:
        return {key: kept for key, kept in base.items() if key != argument}
    return {**base, argument: value}


def _iso_day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


@bp.get("/search/suggestions")
def suggestions():
    """The search box's suggestions as JSON, for the page's own script: unlike the API, this sees
    the session, so a signed-in member is offered what they may read."""
    response = jsonify(suggestions_for(request.args.get("q", ""), scoped(current_viewer(), request.args)))
    # They depend on who asks and change with every edit.
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Cookie")
    return response


@bp.app_context_processor
def search_box_labels() -> dict:
    """The type labels the header's search box shows beside its suggestions, in the page's language."""
    return {"search_type_labels": TYPE_LABELS}


@bp.get("/opensearch.xml")
def opensearch():
    base = current_app.config["KNET"]["url"].rstrip("/")
    name = current_app.config["KNET"]["name"]
    # OpenSearch 1.1 limits ShortName to 16 characters; the description carries the whole name.
    xml = render_template("opensearch.xml", base=base, short_name=name[:16],
                          description=_("Search %(node)s.", node=name))
    return Response(xml, mimetype="application/opensearchdescription+xml")

