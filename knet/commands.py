"""Building blocks for `knet` CLI commands that feature packages share."""
from __future__ import annotations

import click

INSTANCE_KEY = "knet.instance"


def _remember_instance(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value:
        ctx.meta[INSTANCE_KEY] = value
    return value


#: Every command that works on a node takes --instance DIR (or KNET_INSTANCE).
instance_option = click.option(
    "--instance",
    envvar="KNET_INSTANCE",
    type=click.Path(file_okay=False),
    expose_value=False,
    is_eager=True,
    callback=_remember_instance,
    help="The node's instance directory (default: $KNET_INSTANCE).",
)


def chosen_instance() -> str | None:
    """The instance directory given to the running command."""
    return click.get_current_context().meta.get(INSTANCE_KEY)


@click.group("import")
def import_group() -> None:
    """Bring content in from other systems."""


@click.group("export")
def export_group() -> None:
    """Give content out in open formats."""
