"""Wiki pages as the rest of the node sees them (the content contract of knet.content)."""
from __future__ import annotations

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from knet.content import ContentType
from knet.db import as_utc, db
from knet.search.index import SearchDocument
from wiki.models import Page

TYPE = "wiki.page"


def page_uri(page_id: int) -> str:
    """The page's permanent address: unlike its slug, it survives renames."""
    return f"{current_app.config['KNET']['url']}/pages/{page_id}"


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
    )


def indexable_ids() -> list[int]:
    return list(db.session.scalars(select(Page.id).where(Page.deleted_at.is_(None)).order_by(Page.id)))


CONTENT_TYPE = ContentType(TYPE, search_document, indexable_ids)
