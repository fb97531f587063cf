"""`knet backup OUT` and `knet restore BACKUP`: a whole node in one file, and a working node made from it."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from knet import backup, restore
from knet.commands import instance_option
from knet.db import db


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _progress(verb: str):
    def show(name: str, rows: int, number: int, total: int) -> None:
        if rows:  # (a node has dozens of tables, many of them empty)
            click.echo(f"{verb} table {number}/{total}: {name} ({_rows(rows)})", err=True)
    return show


@click.command("backup")
@instance_option
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out: Path) -> None:
    """Write a complete backup of the node (database, files, keys, configuration) to OUT, a new .tar.gz file,
    while the node keeps running. The file holds the node's secrets: only you can read it; keep it safe."""
    try:
        summary = backup.create(out, on_table=_progress("Backed up"))
    finally:  # the command may run inside another program (a test, a scheduler): leave no connection open
        db.session.remove()
        db.engine.dispose()
    click.echo(f"Backed up {len(summary.tables)} tables ({summary.rows:,} rows) and {summary.files} files "
               f"({_megabytes(summary.file_bytes)}) to {summary.path} ({_megabytes(summary.archive_bytes)}) in "
               f"{summary.seconds:.1f} s.")
    click.echo("The backup holds the node's private keys and knet.toml: it is readable only by its owner; "
               "keep it somewhere safe.")
    if summary.missing:
        click.echo(f"Warning: the database names {len(summary.missing)} file(s) that the instance directory does "
                   f"not have, such as {summary.missing[0]}; the node lacks them too.", err=True)


@click.command("restore")
@click.option("--instance", "instance_dir", envvar="KNET_INSTANCE", required=True,
              type=click.Path(file_okay=False), help="Directory to create for the node (new, or empty).")
@click.option("--database", help="URL of an empty database for the node, replacing the one in the backup's "
                                 "knet.toml (default: that one, or SQLite inside the instance directory).")
@click.argument("archive", metavar="BACKUP", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(instance_dir: str, database: str | None, archive: Path) -> None:
    """Make a working node in a new instance directory from BACKUP (made by 'knet backup'): its database
    (at this knet's schema), files, keys and configuration, and a search index rebuilt from it."""
    summary = restore.restore(archive, instance_dir, database, on_table=_progress("Restored"))
    click.echo(f"Restored {summary.instance} from {archive} in {summary.seconds:.1f} s:")
    for name, rows in summary.tables.items():
        if rows:
            click.echo(f"  {name:<32} {_rows(rows):>14}")
    click.echo(f"  {summary.rows:,} rows in {len(summary.tables)} tables into {summary.database}; "
               f"{summary.files} files ({_megabytes(summary.file_bytes)}); "
               f"{summary.indexed} documents in the rebuilt search index ({summary.index_seconds:.1f} s).")
    click.echo(f"Start it with: knet run --instance {summary.instance}")
