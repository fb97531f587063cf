"""Wiki pages as the rest of the node sees them (the content contract of knet.content)."""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from knet import content
from knet.content import SHAREABLE, ContentType
from knet.db import as_utc, db
from knet.search.index import SearchDocument
from wiki.models import Page

TYPE = "wiki.page"


def page_uri(page_id: int) -> str:
    """The page's permanent address: unlike its slug, it survives renames."""
    return f"{current_app.config['KNET']['url']}/pages/{page_id}"


def _page_url(slug: str) -> str:
    # wiki.services.page_path, which this module cannot import: wiki.services imports it.
    return f"{current_app.config['KNET']['url']}/wiki/{quote(slug)}"


def search_document(page_id: int) -> SearchDocument | None:
    page = db.session.get(Page, page_id)
    if page is None or page.deleted_at is not None:
        return None
    return SearchDocument(
        uri=page_uri(page.id),
        type="page",
        title=page.title,
        body=Markup(page.current.html).striptags(),
        language=page.language,
        visibility=page.visibility,
        home=current_app.config["KNET"]["url"],
        author=str(page.author_id or ""),
        tags=tuple(page.tag_names),
        updated=as_utc(page.updated_at),
        licence=page.licence,
    )


def document(page_id: int) -> dict | None:
    """The page as peers receive it: its current revision only (its history stays home).

    The revision's summary is left out: it says what an edit changed ("fixed a typo"), not what the page
    is about, and readers of `summary` show it as the page's summary (some as a content warning)."""
    page = db.session.get(Page, page_id)
    if page is None or page.deleted_at is not None or page.visibility not in SHAREABLE:
        return None
    current = page.current
    return content.document(
        id=page_uri(page.id), type="Article", name=page.title,
        url=_page_url(page.slug), content=current.html, source=current.body,
        tags=page.tag_names, author=page.author.name if page.author else "", published=page.created_at,
        updated=page.updated_at, language=page.language, licence=page.licence, visibility=page.visibility,
        **{"knet:slug": page.slug})


def indexable_ids() -> list[int]:
    return list(db.session.scalars(select(Page.id).where(Page.deleted_at.is_(None)).order_by(Page.id)))


CONTENT_TYPE = ContentType(TYPE, search_document, indexable_ids, document)
