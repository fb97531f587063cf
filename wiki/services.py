"""What people do with wiki pages. Services take the acting person and flush; callers commit."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import quote, urlencode

from flask import current_app
from flask_babel import LazyString, force_locale, lazy_gettext as _l
from sqlalchemy import delete, func, select

from auth.access import can_see, require_role, visible_clause
from auth.models import User
from knet import content, markup
from knet.config import LANGUAGES, LICENCES, MAX_PAGE_NUMBER, VISIBILITIES
from knet.db import db, utcnow
from knet.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, Unauthorized
from wiki.content import TYPE, page_uri
from wiki.models import Link, Page, Redirect, Revision, Tag, page_tags
from wiki.slugs import MAX_LENGTH as MAX_TITLE, slugify

logger = logging.getLogger(__name__)

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_SUMMARY = 500
OPEN_LICENCES = ("CC-BY-4.0", "CC0-1.0")
#: The visibilities of pages that may be opened to the editors of peer municipalities.
NETWORK_EDITABLE = ("network", "public")


@dataclass
class PageInput:
    """What a person submits for a page; every field is checked by `validate`."""

    title: str
    body: str
    language: str = "el"
    tags: list[str] | tuple[str, ...] = ()
    visibility: str = "internal"
    licence: str = "CC-BY-4.0"
    summary: str = ""
    #: Staff of peer municipalities (visitors) may edit the text too; only for network and public pages.
    network_editors: bool = False


class EditConflict(Conflict):
    """Someone saved the page after the revision the editor started from."""

    def __init__(self, page: Page, base_revision: int) -> None:
        super().__init__(
            _l("The page was changed by someone else (now revision %(current)d) after you started editing "
               "revision %(base)d. Your text was not saved.", current=page.revision, base=base_revision),
            current_revision=page.revision,
        )
        self.page = page
        self.base_revision = base_revision


def page_path(slug: str) -> str:
    """The address of a page on this node (the wiki.view route)."""
    return "/wiki/" + quote(slug)


def new_page_path(title: str) -> str:
    """The address that offers to create a page with this title (the wiki.create route)."""
    return "/pages/new?" + urlencode({"title": title})


#: Characters no database column can hold: NUL (PostgreSQL refuses it) and halves of surrogate pairs
#: (not encodable as UTF-8), which JSON escapes such as "\u0000" and "\ud800" can carry.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_FIELD_NAMES = {"title": _l("title"), "body": _l("text"), "summary": _l("edit summary"), "tags": _l("tags"),
                "tag": _l("tag")}
_NO_SUCH_PAGE = _l("There is no page at this address, or you may not see it.")


def _require_storable(value: str, field: str) -> None:
    if UNSTORABLE.search(value):
        raise Invalid(_l("The %(field)s contains a character that cannot be stored (NUL or an unpaired surrogate).",
                         field=_FIELD_NAMES[field]),
                      field=field)


def validate(data: PageInput, max_body_bytes: int) -> PageInput:
    """Check and normalise a page's fields, or raise Invalid/TooLarge with a sentence naming the field."""
    for field in ("title", "body", "summary"):
        _require_storable(getattr(data, field) or "", field)
    title = " ".join((data.title or "").split())
    if not title:
        raise Invalid(_l("The title is empty."), field="title")
    if len(title) > MAX_TITLE:
        raise Invalid(_l("The title is longer than %(max)d characters.", max=MAX_TITLE), field="title")
    if not slugify(title):
        raise Invalid(_l("The title needs at least one letter or digit."), field="title")
    # Browsers send a textarea's lines ending in CR LF; store one kind of line ending, or every diff
    # between a revision saved from a form and one saved through the API would change every line.
    body = data.body.replace("\r\n", "\n").replace("\r", "\n")
    if len(body.encode("utf-8")) > max_body_bytes:
        raise TooLarge(_l("The text is larger than this node's limit of %(kib)d KiB.", kib=max_body_bytes // 1024),
                       field="body")
    if data.language not in LANGUAGES:
        raise Invalid(_l("The language must be one of %(choices)s.", choices=", ".join(LANGUAGES)), field="language")
    if data.visibility not in VISIBILITIES:
        raise Invalid(_l("The visibility must be one of %(choices)s.", choices=", ".join(VISIBILITIES)),
                      field="visibility")
    if data.licence not in LICENCES:
        raise Invalid(_l("The licence must be one of %(choices)s.", choices=", ".join(LICENCES)), field="licence")
    if data.visibility == "public" and data.licence not in OPEN_LICENCES:
        raise Invalid(_l("Public pages need an open licence (CC BY 4.0 or CC0)."), field="licence")
    if data.network_editors and data.visibility not in NETWORK_EDITABLE:
        raise Invalid(_l("Only a page that staff of other municipalities can read (network or public) can be "
                         "opened to their edits."), field="network_editors")
    tags = normalise_tags(data.tags)
    if len(data.summary) > MAX_SUMMARY:
        raise Invalid(_l("The edit summary is longer than %(max)d characters.", max=MAX_SUMMARY), field="summary")
    return PageInput(title, body, data.language, tags, data.visibility, data.licence, data.summary.strip(),
                     data.network_editors)


def normalise_tags(tags) -> list[str]:
    names: dict[str, None] = {}
    for raw in tags:
        if not isinstance(raw, str):
            raise Invalid(_l("Each tag must be text."), field="tags")
        _require_storable(raw, "tags")
        name = " ".join(raw.split()).lower()
        if len(name) > MAX_TAG_LENGTH:
            raise Invalid(_l("A tag is longer than %(max)d characters: “%(start)s…”.", max=MAX_TAG_LENGTH, start=name[:20]),
                          field="tags")
        if name:
            names.setdefault(name, None)
    if len(names) > MAX_TAGS:
        raise Invalid(_l("A page can have at most %(max)d tags.", max=MAX_TAGS), field="tags")
    return list(names)


# Reading ---------------------------------------------------------------------------------------

def get_page(slug: str, actor: User | None, *, include_deleted: bool = False) -> tuple[Page, str | None]:
    """The page at a slug (following a rename's redirect) and the old slug if one was followed."""
    if UNSTORABLE.search(slug):
        raise NotFound(_NO_SUCH_PAGE)
    page, redirected_from = Page.by_slug(slug), None
    if page is None:
        redirect = db.session.get(Redirect, slug)
        if redirect is not None:
            page, redirected_from = redirect.page, slug
    if page is None or not can_see(actor, page.visibility, page.author_id):
        raise NotFound(_NO_SUCH_PAGE)
    if page.deleted_at is not None and not (include_deleted and actor is not None and actor.has_role("moderator")):
        raise NotFound(_l("This page has been deleted."))
    return page, redirected_from


def slug_of(actor: User | None, page_id: int) -> str:
    """The current slug of a page found by its permanent id, if this person may see the page (a slug
    is made from the title, so it must not reach anyone who may not read the page)."""
    page = db.session.get(Page, page_id)
    if page is None or page.deleted_at is not None or not can_see(actor, page.visibility, page.author_id):
        raise NotFound(_NO_SUCH_PAGE)
    return page.slug


def get_revision(page: Page, number: int) -> Revision:
    revision = db.session.scalar(select(Revision).where(Revision.page_id == page.id, Revision.number == number))
    if revision is None:
        raise NotFound(_l("Page “%(title)s” has no revision %(number)d.", title=page.title, number=number))
    return revision


def _offset(page: int, per_page: int) -> int:
    # A huge page number would overflow the database's integers (a 500) instead of finding nothing.
    if not 1 <= page <= MAX_PAGE_NUMBER:
        raise Invalid(_l("The page number must be between 1 and %(max)d.", max=MAX_PAGE_NUMBER), field="page")
    return (page - 1) * per_page


def _listed(actor: User | None):
    return (Page.deleted_at.is_(None), visible_clause(actor, Page.visibility, Page.author_id))


def list_pages(actor: User | None, page: int, per_page: int) -> tuple[list[Page], int]:
    """The pages this person may see, newest change first, and how many there are."""
    conditions = _listed(actor)
    total = db.session.scalar(select(func.count(Page.id)).where(*conditions))
    rows = db.session.scalars(select(Page).where(*conditions).order_by(Page.updated_at.desc(), Page.id.desc())
                              .limit(per_page).offset(_offset(page, per_page)))
    return list(rows), total


def recent_changes(actor: User | None, page: int, per_page: int, *, tag: str | None = None,
                   language: str | None = None) -> tuple[list[Revision], int]:
    """Revisions of visible pages, newest first, optionally of one tag or language."""
    query = select(Revision).join(Revision.page).where(*_listed(actor))
    if tag:
        _require_storable(tag, "tag")
        query = query.where(Page.tags.any(Tag.name == tag.strip().lower()))
    if language:
        query = query.where(Page.language == language)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Revision.created_at.desc(), Revision.id.desc())
                              .limit(per_page).offset(_offset(page, per_page)))
    return list(rows), total


def backlinks(page: Page, actor: User | None) -> list[Page]:
    """Visible pages whose text links to this page, under its title now or under an old one."""
    slugs = [page.slug, *db.session.scalars(select(Redirect.slug).where(Redirect.page_id == page.id))]
    query = (select(Page).join(Link, Link.source_id == Page.id)
             .where(Link.target_slug.in_(slugs), Page.id != page.id, *_listed(actor)).order_by(Page.title))
    return list(db.session.scalars(query).unique())


def deleted_pages(actor: User) -> list[Page]:
    """Deleted pages, for a moderator to restore."""
    require_role(actor, "moderator")
    return list(db.session.scalars(select(Page).where(Page.deleted_at.is_not(None)).order_by(Page.deleted_at.desc())))


def all_tags(actor: User | None) -> list[str]:
    """The tags of the pages this person may see (None: an anonymous visitor)."""
    query = (select(Tag.name).join(page_tags).join(Page, Page.id == page_tags.c.page_id)
             .where(*_listed(actor)).distinct().order_by(Tag.name))
    return list(db.session.scalars(query))


# Writing ---------------------------------------------------------------------------------------

def create_page(actor: User | None, data: PageInput, max_body_bytes: int) -> Page:
    """Create a page with its first revision."""
    require_role(actor, "editor")
    data = validate(data, max_body_bytes)
    slug = slugify(data.title)
    _require_free(actor, slug)
    page = Page(slug=slug, title=data.title, language=data.language, visibility=data.visibility,
                licence=data.licence, network_editors=data.network_editors, author=actor, revision=0)
    page.tags = _tags(data.tags)
    db.session.add(page)
    _add_revision(page, actor, data.title, data.body, data.summary)
    rerender_linking_pages([slug])
    logger.info("%s created page %s", actor.username, slug)
    return page


def update_page(actor: User | None, page: Page, data: PageInput, base_revision: int, max_body_bytes: int) -> Page:
    """Save a new revision, refusing a stale base revision; a new title renames the page. A visitor (staff of
    a peer, on a page open to them) changes its title, text and tags; who may read and edit it stays."""
    _require_editor(actor, page, visitors=True)
    if actor.is_visitor:
        data = replace(data, visibility=page.visibility, licence=page.licence, network_editors=page.network_editors)
    data = validate(data, max_body_bytes)
    if base_revision != page.revision:
        raise EditConflict(page, base_revision)
    old_slug = page.slug
    if data.title != page.title:
        _move(actor, page, data.title)
    page.language, page.visibility, page.licence = data.language, data.visibility, data.licence
    page.network_editors = data.network_editors
    page.tags = _tags(data.tags)
    _add_revision(page, actor, data.title, data.body, data.summary)
    if page.slug != old_slug:
        rerender_linking_pages([old_slug, page.slug])
    logger.info("%s saved page %s (revision %d)", actor.username, page.slug, page.revision)
    return page


def rename_page(actor: User | None, page: Page, new_title: str, summary: str = "") -> Page:
    """Give a page a new title; its old address redirects to the new one."""
    _require_editor(actor, page)
    title = " ".join(new_title.split())
    validate(PageInput(title, "", page.language, (), page.visibility, page.licence, summary), 1)
    if title == page.title:
        raise Invalid(_l("The new title is the same as the old one."), field="title")
    old_slug, old_title = page.slug, page.title
    _move(actor, page, title)
    summary = summary or _in_node_language(_l("Renamed from “%(title)s”", title=old_title))
    _add_revision(page, actor, title, page.current.body, summary)
    rerender_linking_pages([old_slug, page.slug])
    logger.info("%s renamed page %s to %s", actor.username, old_slug, page.slug)
    return page


def revert_page(actor: User | None, page: Page, number: int) -> Page:
    """Bring back the text of an earlier revision as a new revision."""
    _require_editor(actor, page)
    old = get_revision(page, number)
    if number == page.revision:
        raise Invalid(_l("Revision %(number)d is already the current one.", number=number), field="revision")
    _add_revision(page, actor, page.title, old.body,
                  _in_node_language(_l("Reverted to revision %(number)d", number=number)))
    return page


def delete_page(actor: User | None, page: Page) -> None:
    """Hide a page from everyone; a moderator can restore it."""
    _require_editor(actor, page)
    if not (actor.has_role("moderator") or actor.id == page.author_id):
        raise Forbidden(_l("Only the page's author or a moderator may delete it."))
    page.deleted_at = utcnow()
    db.session.flush()
    _record_change(page)
    rerender_linking_pages([page.slug])
    logger.info("%s deleted page %s", actor.username, page.slug)


def restore_page(actor: User | None, page: Page) -> None:
    """Bring a deleted page back."""
    require_role(actor, "moderator")
    if page.deleted_at is None:
        raise Invalid(_l("This page is not deleted."))
    page.deleted_at = None
    db.session.flush()
    _record_change(page)
    rerender_linking_pages([page.slug])
    logger.info("%s restored page %s", actor.username, page.slug)


@dataclass(frozen=True)
class PastRevision:
    """A revision written on another wiki, kept with its own date and author (an account here, or a name)."""

    body: str
    summary: str
    at: datetime
    author: User | None
    author_name: str
    #: What identifies it at its source, so that it is imported once (see wiki.importer).
    import_key: str


def import_history(actor: User | None, page: Page | None, data: PageInput, history: list[PastRevision],
                   max_body_bytes: int, import_key: str | None = None, links_later: list[str] | None = None) -> Page:
    """Create a page (`page` None) with revisions written on another wiki, or add more of them to a page
    imported before; each keeps its date and author. Nothing is written unless every revision is valid.
    With `links_later`, a new page's address is added to it instead of re-rendering the pages that link
    to it now: an import of many pages does that once at its end (rerender_linking_pages)."""
    require_role(actor, "admin")
    data = validate(data, max_body_bytes)
    history = [replace(past, body=validate(replace(data, body=past.body, summary=past.summary[:MAX_SUMMARY]),
                                           max_body_bytes).body) for past in history]
    if not history:
        raise Invalid(_l("There is no revision to import."))
    if page is None:
        slug = slugify(data.title)
        _require_free(actor, slug)
        page = Page(slug=slug, title=data.title, language=data.language, visibility=data.visibility,
                    licence=data.licence, author=actor, revision=0, created_at=history[0].at, import_key=import_key)
        page.tags = _tags(data.tags)
        db.session.add(page)
        created = True
    else:
        _require_editor(actor, page)
        created = False
    for past in history:
        _add_revision(page, past.author, page.title, past.body, past.summary[:MAX_SUMMARY], at=past.at,
                      author_name=past.author_name, import_key=past.import_key, record=False)
    _record_change(page)
    if created and links_later is not None:
        links_later.append(page.slug)
    elif created:
        rerender_linking_pages([page.slug])
    logger.info("%s imported %d revision(s) of page %s", actor.username, len(history), page.slug)
    return page


def add_redirect(actor: User | None, slug: str, page: Page) -> None:
    """Let an address that is no page's lead to this page (a redirect page of an imported wiki)."""
    require_role(actor, "admin")
    _require_free(actor, slug)
    db.session.add(Redirect(slug=slug, page_id=page.id))
    rerender_linking_pages([slug])


def preview(body: str) -> str:
    """The sanitised HTML a body would have if saved now."""
    return markup.render(body, _resolver(markup.wiki_link_titles(body)))


# Internals -------------------------------------------------------------------------------------

def _record_change(page: Page) -> None:
    """Tell the rest of the node (the search index now, peers later) that this page changed."""
    content.changed(TYPE, page.id, page_uri(page.id))


def _in_node_language(message: LazyString) -> str:
    """An edit summary the node writes itself, in the node's language (it is stored, not shown once)."""
    with force_locale(current_app.config["KNET"]["default_language"]):
        return str(message)


def check_may_edit(actor: User | None, page: Page) -> None:
    """Refuse, with the reason, someone who may not change this page (before showing them a form)."""
    _require_editor(actor, page, visitors=True)


def _require_editor(actor: User | None, page: Page, visitors: bool = False) -> None:
    """An editor of this node; or, with ``visitors``, a visitor on a page open to the network's editors."""
    if actor is None:
        raise Unauthorized(_l("Sign in to write in the wiki."))
    if not can_see(actor, page.visibility, page.author_id):
        raise NotFound(_NO_SUCH_PAGE)
    if not (visitors and actor.is_visitor and page.network_editors and page.visibility in NETWORK_EDITABLE):
        require_role(actor, "editor")
    if page.deleted_at is not None:
        raise Conflict(_l("This page is deleted; a moderator can restore it first."))


def _require_free(actor: User, slug: str, keep: Page | None = None) -> None:
    """Refuse a title whose slug is taken; name the page taking it only to someone who may see it."""
    existing = Page.by_slug(slug)
    if existing is not None and existing is not keep:
        url = page_path(existing.slug) if can_see(actor, existing.visibility, existing.author_id) else None
        if existing.deleted_at is not None:
            raise Conflict(_l("A deleted page has this title; a moderator can restore it."), url=url)
        raise Conflict(_l("A page with this title already exists."), url=url)
    redirect = db.session.get(Redirect, slug)
    if redirect is not None and redirect.page is not keep:
        target = redirect.page
        url = page_path(target.slug) if can_see(actor, target.visibility, target.author_id) else None
        raise Conflict(_l("This title is the former title of another page."), url=url)


def _move(actor: User, page: Page, title: str) -> None:
    slug = slugify(title)
    if slug != page.slug:
        _require_free(actor, slug, keep=page)
        db.session.execute(delete(Redirect).where(Redirect.slug == slug))
        db.session.add(Redirect(slug=page.slug, page_id=page.id))
        page.slug = slug
    page.title = title


def _tags(names: list[str]) -> list[Tag]:
    if not names:
        return []
    existing = {tag.name: tag for tag in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    return [existing.get(name) or Tag(name=name) for name in names]


def _add_revision(page: Page, actor: User | None, title: str, body: str, summary: str, *, at: datetime | None = None,
                  author_name: str = "", import_key: str | None = None, record: bool = True) -> Revision:
    """Save a revision by `actor` now, or (imports) at `at` by someone named `author_name` elsewhere; `record`
    False leaves telling the node of the change to the caller (once for many revisions)."""
    titles = markup.wiki_link_titles(body)
    page.revision += 1
    revision = Revision(page=page, number=page.revision, title=title, body=body, summary=summary,
                        author=actor, html=markup.render(body, _resolver(titles, page)), author_name=author_name,
                        import_key=import_key, created_at=at or utcnow())
    db.session.add(revision)
    page.updated_at = at or utcnow()
    db.session.flush()
    db.session.execute(delete(Link).where(Link.source_id == page.id))
    for target in {slugify(t) for t in titles} - {""}:
        db.session.add(Link(source_id=page.id, target_slug=target))
    db.session.flush()
    db.session.expire(page, ["current"])
    if record:
        _record_change(page)
    return revision


def _resolver(titles: list[str], this_page: Page | None = None) -> markup.LinkResolver:
    """Resolve the link targets of one text with two queries, not one per link."""
    slugs = {slugify(title) for title in titles} - {""}
    live = set(db.session.scalars(select(Page.slug).where(Page.slug.in_(slugs), Page.deleted_at.is_(None))))
    if this_page is not None and this_page.slug in slugs:
        live.add(this_page.slug)
    moved = dict(db.session.execute(
        select(Redirect.slug, Page.slug).join(Page, Redirect.page_id == Page.id)
        .where(Redirect.slug.in_(slugs - live), Page.deleted_at.is_(None))).all())

    def resolve(title: str) -> markup.WikiTarget:
        slug = slugify(title)
        if slug in live:
            return markup.WikiTarget(page_path(slug), True)
        if slug in moved:
            return markup.WikiTarget(page_path(moved[slug]), True)
        return markup.WikiTarget(new_page_path(title), False)

    return resolve


def rerender_linking_pages(slugs: list[str]) -> None:
    """Pages appeared, moved or went: links to them in other pages' current text change colour (each
    linking page is rendered once, however many of the pages it links to)."""
    db.session.flush()
    # A few hundred at a time (a database takes so many values in one IN (…)), flushed as they go: an
    # import's thousands of pages are never all held in memory at once.
    linking: set[int] = set()
    for start in range(0, len(slugs), 500):
        linking.update(db.session.scalars(select(Link.source_id).where(Link.target_slug.in_(slugs[start:start + 500]))))
    ordered = sorted(linking)
    for start in range(0, len(ordered), 100):
        for page in db.session.scalars(select(Page).where(Page.id.in_(ordered[start:start + 100]))):
            current = page.current
            current.html = markup.render(current.body, _resolver(markup.wiki_link_titles(current.body), page))
        db.session.flush()
