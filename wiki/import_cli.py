"""`knet import mediawiki FILE.xml`: bring a MediaWiki's pages, with their history, into the wiki."""
from __future__ import annotations

import os

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from auth.models import User
from knet.commands import instance_option
from knet.config import LICENCES, VISIBILITIES
from knet.db import db
from knet.errors import KnetError, NotFound
from wiki import importer
from wiki.importer import Report


def _actor(username: str | None) -> User:
    """The account named, or the node's first administrator."""
    if username:
        account = User.by_username(username)
        if account is None:
            raise NotFound(f"There is no account called '{username}'.")
        return account
    account = db.session.scalars(select(User).where(User.granted_roles.contains("admin"), User.active)
                                 .order_by(User.id)).first()
    if account is None:
        raise NotFound("This node has no administrator yet: create one with knet user create-admin, or name an "
                       "account with --as.")
    return account


@click.command("mediawiki")
@instance_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--as", "username", help="The administrator account importing (default: the first administrator).")
@click.option("--visibility", type=click.Choice(VISIBILITIES), default="internal", show_default=True,
              help="Who may read the imported pages.")
@click.option("--licence", type=click.Choice(LICENCES), default="CC-BY-4.0", show_default=True,
              help="The licence of the imported pages (public pages need an open one).")
@click.option("--dry-run", is_flag=True, help="Only report what would be imported; change nothing.")
@with_appcontext
def mediawiki(file: str, username: str | None, visibility: str, licence: str, dry_run: bool) -> None:
    """Import the main-namespace pages of a MediaWiki XML export (schema 0.10 or 0.11) with their whole
    history; running it again with the same export changes nothing."""
    actor = _actor(username)
    try:
        errors = click.get_text_stream("stderr")
        # A bar on a terminal; in a script's log, nothing (a failure is then its one line).
        with open(file, "rb") as stream, click.progressbar(length=os.path.getsize(file), label="Reading",
                                                           file=errors, hidden=not errors.isatty()) as bar:
            report = importer.import_dump(actor, stream, visibility=visibility, licence=licence,
                                          progress=lambda count: bar.update(count - bar.pos))
    except KnetError:
        db.session.rollback()
        raise
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for line in summary(report, dry_run):
        click.echo(line)


def summary(report: Report, dry_run: bool) -> list[str]:
    """The report as lines of text."""
    lines = [("Dry run, nothing was changed. " if dry_run else "") + f"From {report.site or 'the export'}: "
             f"{report.pages_created} page(s) created, {report.pages_updated} updated, {report.pages_unchanged} "
             f"unchanged; {report.revisions} revision(s), {report.redirects} redirect(s)."]
    if report.skipped_namespaces:
        detail = ", ".join(f"{name or 'main'} {count}" for name, count in sorted(report.skipped_namespaces.items()))
        lines.append(f"Skipped {report.skipped} page(s) of other namespaces: {detail}.")
    if report.collisions:
        lines.append(f"Not imported, a page here has the title already: {'; '.join(report.collisions)}.")
    for title, reason in report.refused.items():
        lines.append(f"Not imported, {title}: {reason}")
    if report.unresolved_redirects:
        lines.append(f"Redirects to pages that are neither in the export nor here: "
                     f"{'; '.join(report.unresolved_redirects)}.")
    for title, problems in report.problems.items():
        detail = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in problems.items())
        lines.append(f"Not converted in {title}: {detail}.")
    return lines
