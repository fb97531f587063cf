"""Wiki pages, their revisions, tags, links between pages and redirects left by renames."""
from __future__ import annotations

from datetime import datetime

from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint, and_, select
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from auth.models import User
from knet.db import db, utcnow

page_tags = Table(
    "wiki_page_tags",
    db.metadata,
    Column("page_id", ForeignKey("wiki_pages.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("wiki_tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(db.Model):
    __tablename__ = "wiki_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class Revision(db.Model):
    """One saved state of a page: never changed after it is written, except its cached HTML."""

    __tablename__ = "wiki_revisions"
    __table_args__ = (UniqueConstraint("page_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("wiki_pages.id", ondelete="CASCADE"), index=True)
    #: 1 for the first save of a page, then one more for each save.
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: Sanitised HTML rendered once at save time (and again when a linked page appears or goes).
    html: Mapped[str] = mapped_column(Text)
    #: The author's edit summary.
    summary: Mapped[str] = mapped_column(String(500), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: For a revision imported from another wiki: its author as that wiki named them (a user name or, for
    #: an anonymous edit, an IP address), kept whether or not they have an account here.
    author_name: Mapped[str] = mapped_column(String(255), default="", server_default="")
    #: For an imported revision: the wiki it came from and its number there, so that importing again
    #: skips it (see wiki.importer).
    import_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    author: Mapped[User | None] = relationship(lazy="joined")
    page: Mapped[Page] = relationship(back_populates="revisions")


class Page(db.Model):
    __tablename__ = "wiki_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The readable address of the page, derived from its title (see wiki.slugs).
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    visibility: Mapped[str] = mapped_column(String(10), index=True)
    licence: Mapped[str] = mapped_column(String(24))
    #: Number of the current revision.
    revision: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: Set when the page is deleted; a moderator can restore it.
    deleted_at: Mapped[datetime | None]
    #: Whether staff of peer municipalities, signed in here through their home node, may edit its text (a
    #: `network` or `public` page only).
    network_editors: Mapped[bool] = mapped_column(default=False)
    #: For a fork of another node's page: that page's URI, and its version when it was forked.
    fork_source: Mapped[str | None] = mapped_column(String(500))
    fork_version: Mapped[int | None]
    #: For a page imported from another wiki: that wiki and the page's number there (see wiki.importer).
    import_key: Mapped[str | None] = mapped_column(String(300), unique=True)

    author: Mapped[User | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=page_tags, lazy="selectin", order_by=Tag.name)
    revisions: Mapped[list[Revision]] = relationship(back_populates="page", order_by=Revision.number,
                                                     cascade="all, delete-orphan")
    current: Mapped[Revision] = relationship(
        primaryjoin=lambda: and_(foreign(Revision.page_id) == Page.id, Revision.number == Page.revision),
        viewonly=True, lazy="joined", uselist=False,
    )

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    @classmethod
    def by_slug(cls, slug: str) -> Page | None:
        return db.session.scalar(select(cls).where(cls.slug == slug))


class Link(db.Model):
    """A [[wiki link]] from a page to a title's slug, whether or not that page exists yet."""

    __tablename__ = "wiki_links"

    source_id: Mapped[int] = mapped_column(ForeignKey("wiki_pages.id", ondelete="CASCADE"), primary_key=True)
    target_slug: Mapped[str] = mapped_column(String(220), primary_key=True, index=True)


class Redirect(db.Model):
    """An old slug left behind by a rename, pointing to the page's current one."""

    __tablename__ = "wiki_redirects"

    slug: Mapped[str] = mapped_column(String(220), primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("wiki_pages.id", ondelete="CASCADE"), index=True)

    page: Mapped[Page] = relationship()


class MediaWikiImport(db.Model):
    """A MediaWiki export uploaded by an administrator, imported by a background job (see wiki.importer)."""

    __tablename__ = "wiki_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The uploaded file's name, as the administrator's computer called it.
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    visibility: Mapped[str] = mapped_column(String(10))
    #: Only see what would be imported; change nothing.
    dry_run: Mapped[bool] = mapped_column(default=False)
    #: waiting → running → done, or failed (with `error`).
    state: Mapped[str] = mapped_column(String(10), default="waiting")
    #: What the import did (wiki.importer.Report as a dict), once done.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    actor: Mapped[User | None] = relationship()
