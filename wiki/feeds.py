"""The wiki's public pages for feed readers and open data: the feed of recent changes, newest first."""
from __future__ import annotations

from flask import Blueprint, Flask, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from knet import feeds, published
from knet.db import db
from knet.published import PublicKind
from wiki.content import TYPE
from wiki.models import Page, Tag

bp = Blueprint("wiki_feeds", __name__)


def newest_public(tag: str | None, limit: int | None) -> list[int]:
    """Public pages that are not deleted, most recently changed first (with a tag, those that carry it)."""
    query = select(Page.id).where(Page.visibility == published.PUBLIC, Page.deleted_at.is_(None))
    if tag is not None:
        query = query.where(Page.tags.any(Tag.name == tag.strip().lower()))
    return list(db.session.scalars(query.order_by(Page.updated_at.desc(), Page.id.desc()).limit(limit)))


PUBLIC_PAGES = PublicKind(
    "pages", TYPE, _l("Wiki pages"),
    _l("The public pages of the municipality's wiki: their current text in Markdown and HTML."), newest_public)


@bp.get("/pages/recent.atom")
def recent():
    """The public pages changed most recently, each once, as it reads now."""
    return feeds.response(feeds.Feed(_("Recent changes"), url_for("wiki.recent")),
                          published.newest_documents(PUBLIC_PAGES, limit=feeds.FEED_SIZE))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    published.register(app, PUBLIC_PAGES)
