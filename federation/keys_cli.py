"""`knet keys …`: the node's federation keys, as an administrator checks them with a peer and rotates them."""
from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from federation import keys
from knet.commands import instance_option

#: How long peers keep accepting the old key after a rotation, unless told otherwise.
DEFAULT_OVERLAP_DAYS = 7


@click.group("keys")
def keys_group() -> None:
    """The node's federation keys (peers check its requests' signatures with them)."""


@keys_group.command("show")
@instance_option
@with_appcontext
def show() -> None:
    """The keys peers accept now, with their fingerprints (compare them with the peer's administrator), and
    the RSA key the fediverse checks the node's signatures with."""
    ring = _ring()
    for key in ring.valid():
        state = "current" if key.retired_at is None else f"retiring, accepted until {key.retired_at:%Y-%m-%d %H:%M} UTC"
        click.echo(f"{key.id}  {keys.fingerprint(key.public_key)}  created {key.created:%Y-%m-%d}  {state}")
    try:
        fediverse = keys.fediverse_key(Path(current_app.instance_path)).public_key()
    except keys.KeyRingError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"fediverse  {keys.fingerprint(fediverse)}  RSA {fediverse.key_size} bits  for followers outside "
               f"the network")


@keys_group.command("rotate")
@click.option("--overlap-days", type=click.IntRange(0, 365), default=DEFAULT_OVERLAP_DAYS, show_default=True,
              help="How long peers keep accepting the old key.")
@instance_option
@with_appcontext
def rotate(overlap_days: int) -> None:
    """Make a new key the one the node signs with; the old one stays valid for the overlap."""
    old = _ring().current
    ring = keys.rotate(Path(current_app.instance_path), timedelta(days=overlap_days))
    new = ring.current
    click.echo(f"The node now signs with key {new.id} ({keys.fingerprint(new.public_key)}).")
    click.echo(f"Key {old.id} stays valid until {_retired(ring, old.id):%Y-%m-%d %H:%M} UTC; peers read the new key "
               f"from {current_app.config['KNET']['url']}/federation/actor.")


def _ring() -> keys.KeyRing:
    try:
        return keys.load(Path(current_app.instance_path))
    except keys.KeyRingError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


def _retired(ring: keys.KeyRing, key_id: str):
    return next(key.retired_at for key in ring.keys if key.id == key_id)
