"""Bringing a MediaWiki in: every page of its main namespace with its whole history, through the wiki's
services (so search, content events and federation see imported pages like any other).

Importing is idempotent: each page and revision remembers where it came from (the wiki's address and
its number there), so the same export imported again changes nothing, and a newer export of the same
wiki adds only the revisions that are new. The caller commits once at the end (or rolls back, for a
dry run or a failure), so an export is imported whole or not at all.
"""
from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from auth.access import require_role
from auth.models import User
from knet import jobs
from knet.config import LANGUAGES, VISIBILITIES
from knet.db import db, utcnow
from knet.errors import Conflict, Invalid, KnetError, NotFound, TooLarge
from knet.files import write_atomically
from wiki import mediawiki, services, wikitext
from wiki.models import MediaWikiImport, Page, Redirect, Revision
from wiki.services import MAX_TAG_LENGTH, MAX_TAGS, PageInput, PastRevision
from wiki.slugs import slugify

logger = logging.getLogger(__name__)

IMPORT_JOB = "wiki.mediawiki_import"
#: The largest export the admin page takes (the command line takes any size); the app's
#: MEDIAWIKI_IMPORT_MAX_BYTES setting may lower it.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
#: How many imported pages a report names (it counts them all).
MAX_LISTED = 500
WAITING, RUNNING, DONE, FAILED = "waiting", "running", "done", "failed"


@dataclass
class Report:
    """What an import did, or (dry run) would do."""

    site: str = ""
    dry_run: bool = False
    pages_created: int = 0
    pages_updated: int = 0
    pages_unchanged: int = 0
    revisions: int = 0
    redirects: int = 0
    #: [title, slug] of pages created or given new revisions (the first MAX_LISTED).
    imported: list[list[str]] = field(default_factory=list)
    #: Namespace name ("Talk", "Category"…) -> pages of it not imported.
    skipped_namespaces: dict[str, int] = field(default_factory=dict)
    #: Titles not imported because a page here has the title already (or had it, before a rename).
    collisions: list[str] = field(default_factory=list)
    #: Title -> why the page could not be imported (a title knet cannot take, a text over the limit…).
    refused: dict[str, str] = field(default_factory=dict)
    #: Titles of redirect pages whose target is neither in the export nor here.
    unresolved_redirects: list[str] = field(default_factory=list)
    #: Title -> kind of problem (wiki.wikitext: templates, files…) -> names, for the current revision.
    problems: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return sum(self.skipped_namespaces.values())

    def as_dict(self) -> dict:
        return asdict(self)


def import_dump(actor: User | None, file: BinaryIO, *, visibility: str = "internal", licence: str = "CC-BY-4.0",
                progress: Callable[[int], None] | None = None) -> Report:
    """Import a MediaWiki XML export read from `file`, as `actor` (an administrator); flushes, never commits."""
    require_role(actor, "admin")
    if visibility not in VISIBILITIES:
        raise Invalid(_l("The visibility must be one of %(choices)s.", choices=", ".join(VISIBILITIES)),
                      field="visibility")
    dump = mediawiki.Dump(file, progress)
    site = dump.site
    settings = current_app.config["KNET"]
    language = site.language if site.language in LANGUAGES else settings["default_language"]
    run = _Run(actor, site, wikitext.namespace_names(site.namespaces), language, visibility, licence,
               settings["max_body_bytes"], Report(site=site.name or site.base))
    redirects: list[tuple[str, str]] = []
    for page in dump.pages():
        if page.namespace != 0:
            name = site.namespaces.get(page.namespace) or str(page.namespace)
            run.report.skipped_namespaces[name] = run.report.skipped_namespaces.get(name, 0) + 1
            continue
        if not page.revisions:
            continue
        target = page.redirect or wikitext.redirect_target(page.revisions[-1].text)
        if target:
            redirects.append((page.title, target))
        else:
            run.page(page)
    # Links to the new pages change colour once, not once per page.
    services.rerender_linking_pages(run.created)
    # Redirects last: their targets may come after them in the file.
    for title, target in redirects:
        run.redirect(title, target)
    logger.info("%s imported %s: %d page(s) created, %d updated, %d revision(s)", actor.username, run.report.site,
                run.report.pages_created, run.report.pages_updated, run.report.revisions)
    return run.report


@dataclass
class _Run:
    actor: User
    site: mediawiki.Site
    namespaces: dict[str, int]
    language: str
    visibility: str
    licence: str
    max_body_bytes: int
    report: Report
    authors: dict[str, User | None] = field(default_factory=dict)
    #: The addresses of the pages this import created, whose links it re-renders at its end.
    created: list[str] = field(default_factory=list)

    def page(self, page: mediawiki.Page) -> None:
        key = f"{self.site.key} page {page.id}"
        existing = db.session.scalar(select(Page).where(Page.import_key == key))
        keys = {revision.id: f"{self.site.key} revision {revision.id}" for revision in page.revisions}
        known = set(db.session.scalars(select(Revision.import_key).where(Revision.import_key.in_(keys.values()))))
        new = [revision for revision in page.revisions if keys[revision.id] not in known]
        if existing is not None and (not new or existing.deleted_at is not None):
            self.report.pages_unchanged += 1
            return
        conversions = [wikitext.convert(revision.text, self.namespaces, page.title) for revision in new]
        history = [PastRevision(conversion.markdown, " ".join(revision.comment.split()), revision.timestamp,
                                self.author(revision), revision.contributor, keys[revision.id])
                   for revision, conversion in zip(new, conversions)]
        last = conversions[-1]
        data = PageInput(page.title, "", self.language, _tags(last.categories), self.visibility, self.licence)
        try:
            saved = services.import_history(self.actor, existing, data, history, self.max_body_bytes, import_key=key,
                                            links_later=self.created)
        except Conflict:
            self.report.collisions.append(page.title)
            return
        except (Invalid, TooLarge) as exc:
            self.report.refused[page.title] = exc.message
            return
        if existing is None:
            self.report.pages_created += 1
        else:
            self.report.pages_updated += 1
        self.report.revisions += len(history)
        if len(self.report.imported) < MAX_LISTED:
            self.report.imported.append([saved.title, saved.slug])
        if last.problems:
            self.report.problems[saved.title] = last.problems

    def redirect(self, title: str, target: str) -> None:
        slug, target_slug = slugify(title), slugify(target.partition("#")[0])
        page = Page.by_slug(target_slug)
        if page is None and (moved := db.session.get(Redirect, target_slug)) is not None:
            page = moved.page
        existing = db.session.get(Redirect, slug)
        if existing is not None and page is not None and existing.page_id == page.id:
            return
        if page is None or page.deleted_at is not None or not slug:
            self.report.unresolved_redirects.append(title)
            return
        try:
            services.add_redirect(self.actor, slug, page)
        except Conflict:
            self.report.collisions.append(title)
            return
        self.report.redirects += 1

    def author(self, revision: mediawiki.Revision) -> User | None:
        """The account here with the contributor's user name (in any case), if there is one."""
        name = revision.contributor
        if revision.anonymous or not name:
            return None
        if name not in self.authors:
            self.authors[name] = db.session.scalars(
                select(User).where(func.lower(User.username) == name.lower(), User.home_issuer.is_(None))).first()
        return self.authors[name]


def _tags(categories: list[str]) -> list[str]:
    """Categories as tags, as many as a page may have and as long as a tag may be."""
    names = [" ".join(name.split()).lower() for name in categories]
    return [name for name in dict.fromkeys(names) if name and len(name) <= MAX_TAG_LENGTH][:MAX_TAGS]


# Imports uploaded on the admin page, run by a background job --------------------------------------

def max_upload_bytes() -> int:
    return current_app.config.get("MEDIAWIKI_IMPORT_MAX_BYTES", MAX_UPLOAD_BYTES)


def too_large(limit: int) -> TooLarge:
    return TooLarge(_l("The file is larger than %(mb)s MB, the largest export this page takes; import it with the "
                       "command knet import mediawiki.", mb=f"{limit / (1024 * 1024):g}"), field="file")


def upload_path(import_id: int) -> Path:
    return Path(current_app.instance_path) / "imports" / f"mediawiki-{import_id}.xml"


def _progress_path(import_id: int) -> Path:
    return upload_path(import_id).with_suffix(".progress")


def queue_upload(actor: User | None, filename: str, stream: BinaryIO, *, visibility: str,
                 dry_run: bool) -> MediaWikiImport:
    """Keep an uploaded export and queue its import; refuse at once a file that is too large or does not
    start as a MediaWiki export (a file broken further on fails in the job, which says where)."""
    require_role(actor, "admin")
    if visibility not in VISIBILITIES:
        raise Invalid(_l("The visibility must be one of %(choices)s.", choices=", ".join(VISIBILITIES)),
                      field="visibility")
    limit = max_upload_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise Invalid(_l("The file is not XML; choose a MediaWiki XML export (Special:Export, or a dump)."),
                      field="file")
    mediawiki.Dump(io.BytesIO(data))
    record = MediaWikiImport(actor=actor, filename=filename[:200], size=len(data), visibility=visibility,
                             dry_run=dry_run, state=WAITING)
    db.session.add(record)
    db.session.flush()
    path = upload_path(record.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)
    jobs.enqueue(IMPORT_JOB, import_id=record.id)
    logger.info("%s queued the import of %s (%d bytes)", actor.username, record.filename, record.size)
    return record


def get_import(actor: User | None, import_id: int) -> MediaWikiImport:
    require_role(actor, "admin")
    record = db.session.get(MediaWikiImport, import_id) if 0 < import_id < 2**31 else None
    if record is None:
        raise NotFound(_l("There is no such import."))
    return record


def bytes_read(record: MediaWikiImport) -> int:
    """How much of the file a running import has read (written by the job as it reads)."""
    try:
        return int(_progress_path(record.id).read_text(encoding="ascii") or 0)
    except (OSError, ValueError):
        return 0


def run_import_job(import_id: int) -> None:
    """Job handler: import an uploaded export, keep the report (or the reason it failed), drop the file."""
    record = db.session.get(MediaWikiImport, import_id)
    if record is None or record.state in (DONE, FAILED):
        return
    record.state = RUNNING
    db.session.commit()
    path, step = upload_path(import_id), max(record.size // 50, mediawiki.CHUNK)
    marks = {"next": 0}

    def progress(count: int) -> None:
        if count >= marks["next"]:
            marks["next"] = count + step
            write_atomically(_progress_path(import_id), str(count).encode("ascii"))

    try:
        with path.open("rb") as file:
            report = import_dump(record.actor, file, visibility=record.visibility, progress=progress)
        report.dry_run = record.dry_run
    except KnetError as exc:
        db.session.rollback()
        record = db.session.get(MediaWikiImport, import_id)
        record.state, record.error = FAILED, str(exc.message)
    else:
        if record.dry_run:
            db.session.rollback()
            record = db.session.get(MediaWikiImport, import_id)
        record.state, record.report = DONE, report.as_dict()
    record.finished_at = utcnow()
    db.session.commit()
    path.unlink(missing_ok=True)
    _progress_path(import_id).unlink(missing_ok=True)
