"""Markdown in, safe HTML out: the only module that imports markdown and the sanitiser."""
from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as etree
from collections.abc import Callable
from html import unescape
from itertools import islice
from typing import NamedTuple

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.inlinepatterns import InlineProcessor


class WikiTarget(NamedTuple):
    """Where a [[wiki link]] points and whether a page is there yet."""

    href: str
    exists: bool


#: Turns the title inside [[…]] into a link target; supplied by the wiki.
LinkResolver = Callable[[str], WikiTarget]

WIKILINK_RE = r"\[\[([^\[\]|\n]{1,200})(?:\|([^\[\]\n]{1,200}))?\]\]"

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class", "id"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "div": {"class"},
    "sup": {"id"},
    "li": {"id"},
    "ol": {"start"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
URL_SCHEMES = {"http", "https", "mailto", "data"}
URL_ATTRIBUTES = {("a", "href"), ("img", "src")}
# Only raster images may come inline as data: URLs; SVG can carry script.
RASTER_DATA_URL = re.compile(r"data:image/(?:png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]+\Z", re.IGNORECASE)
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Zs"}
SAFE_CLASS = re.compile(r"[A-Za-z0-9_-]+(?: [A-Za-z0-9_-]+)*\Z")


class _WikiLinkProcessor(InlineProcessor):
    def __init__(self, pattern: str, resolve: LinkResolver) -> None:
        super().__init__(pattern)
        self.resolve = resolve

    def handleMatch(self, m, data):
        title = m.group(1).strip()
        label = (m.group(2) or title).strip()
        target = self.resolve(title)
        link = etree.Element("a", {"href": target.href, "class": "wikilink" if target.exists else "wikilink missing"})
        link.text = label
        return link, m.start(0), m.end(0)


class _WikiLinkExtension(Extension):
    def __init__(self, resolve: LinkResolver) -> None:
        super().__init__()
        self.resolve = resolve

    def extendMarkdown(self, md):
        # Priority above links (160) so that [[a|b]] is not read as a reference link.
        md.inlinePatterns.register(_WikiLinkProcessor(WIKILINK_RE, self.resolve), "knet_wikilink", 175)


def wiki_link_titles(source: str) -> list[str]:
    """The titles named by [[…]] links in a Markdown text, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in re.finditer(WIKILINK_RE, source):
        seen.setdefault(match.group(1).strip(), None)
    return list(seen)


def render(source: str, resolve: LinkResolver | None = None) -> str:
    """Render Markdown to HTML and sanitise it with an allow-list."""
    extensions: list = [
        "tables",
        "fenced_code",
        "footnotes",
        "sane_lists",
        "toc",
    ]
    if resolve is not None:
        extensions.append(_WikiLinkExtension(resolve))
    html = markdown.markdown(
        source,
        extensions=extensions,
        # Alignment as the `align` attribute, which the sanitiser keeps (it drops every `style`).
        extension_configs={"toc": {"slugify": slugify_unicode, "toc_depth": "1-6"},
                           "tables": {"use_align_attribute": True}},
        output_format="html",
    )
    return sanitise(html)


def sanitise(html: str) -> str:
    """Keep only allowed tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_filter_attribute,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _scheme_as_read(value: str) -> str:
    """The start of a URL with entities decoded and whitespace, control and invisible characters removed,
    lower-cased: browsers (old ones especially) skip such characters in a scheme, so `jav ascript:` must not pass."""
    previous = None
    while previous != value:
        previous, value = value, unescape(value)
    visible = (ch for ch in value if not (ch.isspace() or unicodedata.category(ch) in _INVISIBLE))
    return "".join(islice(visible, 16)).lower()


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    if (element, attribute) in URL_ATTRIBUTES:
        url = _scheme_as_read(value)
        if url.startswith("data:"):
            return value if element == "img" and RASTER_DATA_URL.match(value.strip()) else None
        if url.startswith(("javascript:", "vbscript:")):
            return None
    if attribute == "class" and not SAFE_CLASS.match(value):
        return None
    return value
