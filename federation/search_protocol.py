"""Federated search on the wire, as pure functions: the question a node asks its peers
(GET /federation/search?q=…), the answer a peer gives, and that answer checked on receipt.

A peer answers for its own objects only, `network` and `public` ones, or only `public` ones when the
person searching is not signed in. The receiver keeps only results whose URI is on the answering peer's
host, and takes no HTML from it but the `<mark>`s of a snippet.
"""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l

from federation.protocol import MAX_URI, Malformed, node_of
from knet.config import LANGUAGES, LICENCES
from knet.search import Hit, SearchResults
from knet.search.facets import Facets
from knet.search.network import Answer, Question
from knet.search.views import TYPE_LABELS

PATH = "/federation/search"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
#: Who the person searching is, as the question says: signed-in staff (of any peer) or anyone.
AUDIENCES = ("network", "public")
MAX_TITLE = 500
MAX_SNIPPET = 2000
MAX_TAGS = 20
_MARKS = re.compile(r"(</?mark>)")


def question_url(peer_url: str, question: Question) -> str:
    """The address at which ``peer_url`` answers the question."""
    filters = question.filters
    args = {"q": question.text, "limit": question.limit, "audience": "network" if question.signed_in else "public",
            "type": filters.type, "lang": filters.language, "tag": filters.tag, "licence": filters.licence,
            "since": filters.since.date().isoformat() if filters.since else None,
            "until": filters.until.date().isoformat() if filters.until else None}
    return f"{peer_url}{PATH}?" + urlencode({name: value for name, value in args.items() if value})


def answer_document(node_url: str, found: SearchResults) -> dict:
    """A node's answer: its results (best first, ranked from 1), their total and facets."""
    return {
        "type": "knet:SearchAnswer", "node": node_url, "query": found.query, "total": found.total,
        "results": [{"uri": hit.uri, "type": hit.type, "title": hit.title, "snippet": hit.snippet,
                     "language": hit.language, "tags": hit.tags, "licence": hit.licence or None,
                     "updated": _iso(hit.updated), "home": hit.home, "rank": rank}
                    for rank, hit in enumerate(found.hits, start=1)],
        "facets": found.facets.as_json() if found.facets is not None else {},
    }


def parse_answer(document: object, peer_url: str) -> Answer:
    """A peer's answer, checked: Malformed if it is not one; results that are not the peer's own
    objects, or not shaped as results, are left out."""
    if not isinstance(document, dict) or document.get("type") != "knet:SearchAnswer":
        raise Malformed("not-an-answer", _l("The answer is not a search answer."))
    total, results = document.get("total"), document.get("results")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0 or not isinstance(results, list):
        raise Malformed("not-an-answer", _l("The answer has no total or no results."))
    ranked = [(entry.get("rank"), number, entry) for number, entry in enumerate(results[:MAX_LIMIT])
              if isinstance(entry, dict)]
    ranked.sort(key=lambda item: (item[0] if isinstance(item[0], int) and not isinstance(item[0], bool)
                                  else MAX_LIMIT + 1, item[1]))
    hits = [hit for hit in (_hit(entry, peer_url) for _, _, entry in ranked) if hit is not None]
    return Answer(home=peer_url, total=max(total, len(hits)), hits=hits, facets=Facets.from_json(document.get("facets")))


def _hit(entry: dict, peer_url: str) -> Hit | None:
    uri, kind = entry.get("uri"), entry.get("type")
    if not isinstance(uri, str) or len(uri) > MAX_URI or node_of(uri) != peer_url or kind not in TYPE_LABELS:
        return None
    tags = entry.get("tags") if isinstance(entry.get("tags"), list) else []
    language, licence = entry.get("language"), entry.get("licence")
    return Hit(uri=uri, type=kind, title=_text(entry.get("title"), MAX_TITLE), snippet=safe_snippet(entry.get("snippet")),
               language=language if language in LANGUAGES else "",
               tags=[tag[:100] for tag in tags[:MAX_TAGS] if isinstance(tag, str) and tag.strip()],
               updated=_moment(entry.get("updated")), home=peer_url, score=0.0,
               licence=licence if licence in LICENCES else "")


def safe_snippet(value: object) -> str:
    """A peer's snippet as HTML this node writes itself: its text escaped, and `<mark>`s kept only
    where they open and close in turn."""
    if not isinstance(value, str):
        return ""
    parts, marked = [], False
    for piece in _MARKS.split(value[:MAX_SNIPPET]):
        if piece == "<mark>" and not marked:
            parts.append(piece)
            marked = True
        elif piece == "</mark>" and marked:
            parts.append(piece)
            marked = False
        elif piece not in ("<mark>", "</mark>"):
            parts.append(html.escape(html.unescape(piece), quote=False))
    if marked:
        parts.append("</mark>")
    return "".join(parts)


def _text(value: object, most: int) -> str:
    return " ".join(value.split())[:most] if isinstance(value, str) else ""


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
