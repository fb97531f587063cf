"""`knet index …`: rebuild the node's search index from the database, and check it against the database."""
from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from knet import content
from knet.commands import instance_option
from knet.db import db
from knet.search import rebuild as rebuilding
from knet.search.indexing import INDEX_DIRECTORY, index_path

EXAMPLES = 20


@click.group("index")
def index_group() -> None:
    """The node's search index."""


def _base() -> Path:
    return Path(current_app.instance_path) / INDEX_DIRECTORY


@index_group.command("rebuild")
@instance_option
@click.option("--processes", type=click.IntRange(1, 64), default=os.cpu_count() or 1, show_default=True,
              help="Processes analysing documents; each may use about 400 MB while it works (use 1 on a small machine).")
@with_appcontext
def rebuild(processes: int) -> None:
    """Build a new index from the database beside the live one and swap it in (searches keep working)."""
    bar = partial(click.progressbar, label="Indexing", file=sys.stderr, show_pos=True,
                  show_percent=True, show_eta=True)
    result = rebuilding.rebuild(_base(), content.content_types().values(), progress=lambda length: bar(length=length),
                                processes=processes)
    db.session.commit()
    notes = []
    if result.removed_leftovers:
        notes.append(f"removed {result.removed_leftovers} leftover(s) of an unfinished rebuild")
    if result.requeued:
        notes.append(f"queued {result.requeued} recent change(s) again for the worker")
    click.echo(f"Indexed {result.documents} document(s) in {result.seconds:.1f} s"
               + "".join(f"; {note}" for note in notes) + ".")


def _examples(title: str, uris: list[str]) -> None:
    click.echo(f"{title}: {len(uris)}")
    for uri in uris[:EXAMPLES]:
        click.echo(f"  {uri}")
    if len(uris) > EXAMPLES:
        click.echo(f"  … and {len(uris) - EXAMPLES} more")


@index_group.command("check")
@instance_option
@with_appcontext
def check() -> None:
    """Compare the index with the database: missing, stale and extra entries (exit status 1 on drift)."""
    drift = rebuilding.check(index_path(current_app), content.content_types().values())
    db.session.rollback()
    if not drift.index_exists:
        click.echo("There is no search index yet.")
    if drift.outdated:
        click.echo("The index was written with other analysis rules than this version of knet uses.")
    click.echo(f"Database: {drift.database} document(s); index: {drift.indexed} document(s).")
    _examples("Missing from the index", drift.missing)
    _examples("Stale in the index", drift.stale)
    _examples("Extra in the index", drift.extra)
    if drift.pending:
        click.echo(f"Not compared: {drift.pending} object(s) whose index jobs are still queued for the worker.")
    if drift.outdated:
        raise click.ClickException("The index needs rebuilding for this version of knet; run 'knet index rebuild'.")
    if not drift.in_step:
        raise click.ClickException(
            f"The index has drifted from the database ({len(drift.missing)} missing, {len(drift.stale)} stale, "
            f"{len(drift.extra)} extra); run 'knet index rebuild'.")
    click.echo("The index is in step with the database.")
