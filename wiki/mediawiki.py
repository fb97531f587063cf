"""Reading MediaWiki XML exports (Special:Export, dumpBackup.php; schemas 0.10 and 0.11): the only module
that imports lxml.

The file is streamed: each <page> is read with its revisions, handed over and then dropped, so a dump
much larger than memory can be read. Entities are not resolved, DTDs not loaded and nothing is fetched
from the network, whatever the file asks.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from lxml import etree

from knet.errors import Invalid

logger = logging.getLogger(__name__)

#: The export schema's namespace, without its version (0.10, 0.11… and older ones that say 0.11 inside).
EXPORT_NAMESPACE = "http://www.mediawiki.org/xml/export-"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: Read this many bytes at a time; the progress callback hears of each.
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Site:
    """The <siteinfo> of an export: which wiki it comes from and the names of its namespaces."""

    name: str
    base: str
    database: str
    version: str
    #: The language of the wiki's content (the export's xml:lang), e.g. "en".
    language: str = ""
    namespaces: dict[int, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What tells this wiki apart from others, for remembering what was imported from it."""
        return (self.base or self.database or self.name)[:200]


@dataclass(frozen=True)
class Revision:
    id: int
    timestamp: datetime
    #: The contributor's user name, or their IP address if they were not signed in ("" if hidden).
    contributor: str
    anonymous: bool
    comment: str
    text: str


@dataclass
class Page:
    id: int
    title: str
    namespace: int
    #: The title a redirect page points to (from <redirect title=…>), or None.
    redirect: str | None
    revisions: list[Revision]


class _Counting:
    """A binary file that tells a callback how many bytes were read so far."""

    def __init__(self, file: BinaryIO, progress: Callable[[int], None] | None) -> None:
        self.file, self.progress, self.count = file, progress, 0

    def read(self, size: int = CHUNK) -> bytes:
        data = self.file.read(size if 0 < size <= CHUNK else CHUNK)
        self.count += len(data)
        if self.progress is not None and data:
            self.progress(self.count)
        return data


def not_an_export(line: int, reason: str | None = None) -> Invalid:
    """The refusal of a file that is not a well-formed MediaWiki export, naming the line."""
    if reason:
        return Invalid(_l("The file is not a well-formed MediaWiki XML export: line %(line)d: %(reason)s.",
                          line=line, reason=reason.rstrip(".")), field="file")
    return Invalid(_l("The file is not a MediaWiki XML export: line %(line)d does not start one (a <mediawiki> "
                      "element of the export schema).", line=line), field="file")


class Dump:
    """A MediaWiki export being read: `site` once read, then `pages()` one at a time."""

    def __init__(self, file: BinaryIO, progress: Callable[[int], None] | None = None) -> None:
        self._events = etree.iterparse(_Counting(file, progress), events=("start", "end"), resolve_entities=False,
                                       load_dtd=False, no_network=True, huge_tree=False, remove_comments=True,
                                       remove_pis=True)
        self.site = self._read_site()

    def _next(self):
        try:
            return next(self._events)
        except etree.XMLSyntaxError as exc:
            reason = re.sub(r",? line \d+, column \d+\Z", "", exc.msg or "")
            raise not_an_export(exc.lineno or exc.position[0], reason) from None

    def _read_site(self) -> Site:
        event, root = self._next()
        if _name(root) != "mediawiki" or not (etree.QName(root).namespace or "").startswith(EXPORT_NAMESPACE):
            raise not_an_export(root.sourceline or 1)
        self._root = root
        version, language = root.get("version", ""), root.get(XML_LANG, "").split("-")[0].lower()
        while True:
            try:
                event, element = self._next()
            except StopIteration:
                return Site("", "", "", version, language)
            if event == "end" and _name(element) == "siteinfo":
                namespaces = {int(item.get("key")): (item.text or "").strip() for item in element.iter()
                              if _name(item) == "namespace" and (item.get("key") or "").lstrip("-").isdigit()}
                site = Site(_child_text(element, "sitename"), _child_text(element, "base"),
                            _child_text(element, "dbname"), version, language, namespaces)
                element.clear()
                return site
            if event == "start" and _name(element) == "page":
                # An export without <siteinfo> (allowed by the schema): names only from MediaWiki's defaults.
                return Site("", "", "", version, language)

    def pages(self) -> Iterator[Page]:
        """Each <page> with all its revisions, in the file's order."""
        while True:
            try:
                event, element = self._next()
            except StopIteration:
                return
            if event != "end" or _name(element) != "page":
                continue
            page = _page(element)
            # Let go of what was read: the page, and the siblings before it.
            element.clear()
            while element.getprevious() is not None:
                del self._root[0]
            if page is not None:
                yield page


def _page(element) -> Page | None:
    title = " ".join(_child_text(element, "title").split())
    namespace = _child_text(element, "ns")
    page_id = _child_text(element, "id")
    if not title or not page_id.isdigit():
        raise not_an_export(element.sourceline or 1, "a <page> without a title or id")
    redirect = next((child.get("title") for child in element if _name(child) == "redirect"), None)
    revisions = [_revision(child) for child in element if _name(child) == "revision"]
    revisions.sort(key=lambda revision: (revision.timestamp, revision.id))
    return Page(int(page_id), title, int(namespace) if namespace.lstrip("-").isdigit() else 0,
                " ".join(redirect.split()) if redirect else None, revisions)


def _revision(element) -> Revision:
    revision_id, stamp = _child_text(element, "id"), _child_text(element, "timestamp")
    try:
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise not_an_export(element.sourceline or 1, f"a revision's timestamp “{stamp[:40]}” is not "
                                                     f"YYYY-MM-DDThh:mm:ssZ") from None
    if not revision_id.isdigit():
        raise not_an_export(element.sourceline or 1, "a <revision> without an id")
    contributor = next((child for child in element if _name(child) == "contributor"), None)
    name, anonymous = "", False
    if contributor is not None:
        name = _child_text(contributor, "username")
        if not name:
            name, anonymous = _child_text(contributor, "ip"), True
    return Revision(int(revision_id), moment, name, anonymous, _child_text(element, "comment"), _main_text(element))


def _main_text(revision) -> str:
    """The revision's main slot: its own <text>, or (0.11, several slots) the <content> whose role is main."""
    for child in revision:
        if _name(child) == "text":
            return child.text or ""
    for child in revision:
        if _name(child) == "content" and _child_text(child, "role") == "main":
            return _child_text(child, "text")
    return ""


def _name(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child_text(element, name: str) -> str:
    for child in element:
        if _name(child) == name:
            return (child.text or "").strip() if name != "text" else child.text or ""
    return ""
