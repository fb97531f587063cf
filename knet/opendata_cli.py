"""`knet export opendata DIR`: the node's public content as open data, with its DCAT-AP catalogue."""
from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import click
from flask.cli import with_appcontext

from knet import opendata
from knet.commands import instance_option


@click.command("opendata")
@instance_option
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace what DIRECTORY holds (by default it must be empty or new).")
@with_appcontext
def export_opendata(directory: Path, force: bool) -> None:
    """Write the public wiki pages, questions and courses as JSON Lines and CSV, with a DCAT-AP catalogue
    (catalog.jsonld) that an open-data portal can harvest, into DIRECTORY."""
    bar = partial(click.progressbar, label="Exporting", file=sys.stderr, show_pos=True, show_percent=True)
    datasets = opendata.write(directory, force=force, progress=lambda length: bar(length=length))
    counts = ", ".join(f"{dataset.records} {dataset.kind.key}" for dataset in datasets)
    click.echo(f"Wrote {counts} and {opendata.CATALOGUE} to {directory.absolute()}.")
