"""`knet audit export`: the audit log as CSV or JSON, for an auditor or a log archive."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from auth import audit_export
from knet.commands import instance_option


@click.group("audit")
def audit_group() -> None:
    """The audit log: sign-ins, role changes, accounts, tokens, peers."""


@audit_group.command("export")
@instance_option
@click.option("--format", "fmt", type=click.Choice(audit_export.FORMATS), default="csv", show_default=True,
              help="csv for a spreadsheet, json for a program.")
@click.option("--since", help="The first day to include, YYYY-MM-DD (UTC).")
@click.option("--until", help="The last day to include, YYYY-MM-DD (UTC).")
@click.argument("out", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export(fmt: str, since: str | None, until: str | None, out: Path | None) -> None:
    """Write the audit log, oldest entry first, to OUT (or standard output)."""
    entries = audit_export.events(audit_export.day(since, "since"), audit_export.day(until, "until"))
    written = 0

    def counting():
        nonlocal written
        for entry in entries:
            written += 1
            yield entry

    counted = counting()
    if out is None:
        for piece in audit_export.export(fmt, counted):
            sys.stdout.write(piece)
        return
    try:
        with out.open("x", encoding="utf-8", newline="") as file:
            for piece in audit_export.export(fmt, counted):
                file.write(piece)
    except FileExistsError:
        raise click.ClickException(f"{out} already exists; give the name of a new file.") from None
    except OSError as exc:
        raise click.ClickException(f"Cannot write {out}: {exc.strerror or exc}.") from None
    click.echo(f"Wrote {written} entries of the audit log to {out}.", err=True)
