"""Atom 1.0 feeds of public content: the builder every feature's feeds use, and the feed of a tag across
every kind of content.

Feeds carry public objects only (knet.published), each entry as its document says: its URI as the id,
its title, page, author, licence (a rel="license" link and the licence's name as rights), language,
tags, dates, and its sanitised HTML. A feed answers conditional requests (ETag, Last-Modified), as
feed readers poll it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from xml.etree import ElementTree

from flask import Blueprint, Flask, Response, current_app, request, url_for
from flask_babel import get_locale, gettext as _

from knet import published
from knet.content import iso
from knet.errors import NotFound

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MEDIA_TYPE = "application/atom+xml"
#: Entries in one feed: readers poll often, and what is older they have already seen.
FEED_SIZE = 50
#: When a feed has no entry yet, it says it was last updated then.
NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Tags longer than any feature keeps, or holding control characters or halves of surrogate pairs
#: (which no database stores), are nobody's tags.
MAX_TAG_CHARS = 100

ElementTree.register_namespace("", ATOM)
bp = Blueprint("feeds", __name__)


@dataclass(frozen=True)
class Feed:
    """What a feed is about: its title and the path of the page it follows (its own path is the request's)."""

    title: str
    page: str


def absolute(path: str) -> str:
    """A path of this node as a full address, under the node's public URL."""
    return current_app.config["KNET"]["url"].rstrip("/") + path


def atom(feed: Feed, documents: list[dict]) -> bytes:
    """An Atom document of these documents (public ones only; others are left out)."""
    node = current_app.config["KNET"]
    shown = [document for document in documents if document.get("knet:visibility") == published.PUBLIC]
    root = ElementTree.Element(_tag("feed"), {XML_LANG: str(get_locale())})
    _text(root, "id", absolute(request.path))
    _text(root, "title", f"{feed.title} · {node['name']}")
    _text(root, "updated", iso(newest(shown)))
    author = ElementTree.SubElement(root, _tag("author"))
    _text(author, "name", node["name"])
    _text(author, "uri", node["url"])
    ElementTree.SubElement(root, _tag("link"), rel="self", type=MEDIA_TYPE, href=absolute(request.path))
    ElementTree.SubElement(root, _tag("link"), rel="alternate", type="text/html", href=absolute(feed.page))
    _text(root, "generator", "knet")
    for document in shown:
        _entry(root, document)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _entry(root: ElementTree.Element, document: dict) -> None:
    language = document.get("knet:language", "")
    entry = ElementTree.SubElement(root, _tag("entry"), {XML_LANG: language} if language else {})
    _text(entry, "id", document["id"])
    _text(entry, "title", document.get("name", ""))
    link = {"rel": "alternate", "type": "text/html", "href": document["url"]}
    ElementTree.SubElement(entry, _tag("link"), {**link, "hreflang": language} if language else link)
    licence = published.licence_of(document)
    if licence_url := published.licence_url(licence):
        ElementTree.SubElement(entry, _tag("link"), rel="license", href=licence_url)
    _text(entry, "rights", published.LICENCE_NAMES.get(licence) or _("All rights reserved"))
    if document.get("published"):
        _text(entry, "published", document["published"])
    _text(entry, "updated", document.get("updated") or document.get("published") or iso(NEVER))
    if name := published.author_of(document):
        _text(_sub(entry, "author"), "name", name)
    for tag in published.tags_of(document):
        ElementTree.SubElement(entry, _tag("category"), term=tag)
    if document.get("summary"):
        _text(entry, "summary", document["summary"])
    _text(entry, "content", document.get("content", ""), type="html")


def newest(documents: list[dict]) -> datetime:
    """When the newest of these documents last changed (NEVER when there are none)."""
    moments = [document.get("updated") or document.get("published") for document in documents]
    return max((datetime.fromisoformat(moment) for moment in moments if moment), default=NEVER)


def response(feed: Feed, documents: list[dict]) -> Response:
    """The feed as an answer to this request: 304 Not Modified when the reader already has it."""
    answer = Response(atom(feed, documents), mimetype=MEDIA_TYPE)
    answer.last_modified = newest(documents)
    answer.vary.add("Cookie")  # the feed's own title is in the reader's language
    answer.add_etag()
    return answer.make_conditional(request)


def _tag(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _sub(parent: ElementTree.Element, name: str) -> ElementTree.Element:
    return ElementTree.SubElement(parent, _tag(name))


def _text(parent: ElementTree.Element, name: str, text: str, **attributes: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, _tag(name), attributes)
    element.text = text
    return element


def storable_tag(tag: str) -> bool:
    return (len(tag) <= MAX_TAG_CHARS
            and not any(ord(char) < 32 or ord(char) == 0x7F or 0xD800 <= ord(char) <= 0xDFFF for char in tag))


@bp.get("/tags/<tag>/feed.atom")
def tagged(tag: str):
    """The newest public objects of every kind that carry a tag."""
    found = []
    if tag.strip() and storable_tag(tag):
        for kind in published.kinds().values():
            found += published.newest_documents(kind, tag, FEED_SIZE)
    if not found:
        raise NotFound(_("Nothing public on this node carries the tag “%(tag)s”.", tag=tag[:MAX_TAG_CHARS]))
    found.sort(key=lambda document: document.get("updated") or document.get("published") or "", reverse=True)
    return response(Feed(_("Tag “%(tag)s”", tag=tag), url_for("search.results", tag=tag)), found[:FEED_SIZE])


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
