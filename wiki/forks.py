"""Forks: a public page of another municipality, with an open licence, copied into this node as a page of
its own that remembers its source and the source's version, so that later changes at the source can be
compared with it."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from auth.access import require_role
from auth.models import User
from knet import content
from knet.config import LANGUAGES
from knet.errors import Conflict, Forbidden, NotFound
from wiki import services
from wiki.models import Page

#: Licences that allow a fork (CC BY asks for attribution, which the fork's page shows).
OPEN_LICENCES = ("CC-BY-4.0", "CC0-1.0")


def may_fork(document: dict) -> bool:
    """Whether a copy of another node's page may be forked here: a public wiki page with an open licence."""
    return (document.get("type") == "Article" and not document.get("knet:kind")
            and document.get("knet:visibility") == "public" and document.get("knet:licence") in OPEN_LICENCES)


def fork(actor: User | None, uri: str) -> Page:
    """A new page of this node from this node's copy of another node's page (internal until its editor
    chooses otherwise: a fork is shared only on purpose)."""
    require_role(actor, "editor")
    source = content.copy_of(uri)
    if source is None:
        raise NotFound(_l("This node has no copy of that page (any more)."))
    if not may_fork(source.document):
        raise Forbidden(_l("Only public pages with an open licence (CC BY 4.0 or CC0) can be forked."))
    document = source.document
    title = str(document.get("name") or "").strip()[:200]
    data = services.PageInput(title=title, body=markdown_of(document), language=_language(document),
                              tags=[tag["name"] for tag in document.get("tag", []) if isinstance(tag, dict)][:20],
                              visibility="internal", licence=document["knet:licence"],
                              summary=str(_l("Forked from “%(title)s” of %(home)s", title=title,
                                             home=source.home_name))[:500])
    limit = current_app.config["KNET"]["max_body_bytes"]
    try:
        page = services.create_page(actor, data, limit)
    except Conflict:  # this node already has a page of that title: the fork says whose it is
        data.title = f"{title} ({source.home_name})"[:200]
        page = services.create_page(actor, data, limit)
    page.fork_source, page.fork_version = source.uri, source.version
    return page


def source_of(page: Page) -> content.Copy | None:
    """The copy of the page's source this node has now, for a fork (None if it is gone)."""
    return content.copy_of(page.fork_source) if page.fork_source else None


def markdown_of(document: dict) -> str:
    """A document's text as markdown (its source, or its HTML's text when it carries no source)."""
    source = document.get("source")
    if isinstance(source, dict) and source.get("mediaType") == "text/markdown" and isinstance(source.get("content"), str):
        return source["content"]
    return Markup(str(document.get("content") or "")).striptags()


def _language(document: dict) -> str:
    language = str(document.get("knet:language") or "")
    return language if language in LANGUAGES else current_app.config["KNET"]["default_language"]
