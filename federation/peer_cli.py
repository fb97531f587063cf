"""`knet peer add|list|suspend|resume|remove`: the municipalities this node federates with."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from federation import peers
from federation.peers import PeeringError
from knet.commands import instance_option
from knet.db import db

STATES = {"pending": "pending (waiting for the peer to add this node)", "active": "active",
          "suspended": "suspended"}


@click.group("peer")
def peer_group() -> None:
    """The municipalities this node federates with (an agreement is active once both have added each other)."""


@peer_group.command("add")
@click.argument("url")
@click.option("--yes", is_flag=True, help="Do not ask to confirm the peer's name and key fingerprint.")
@instance_option
@with_appcontext
def add(url: str, yes: bool) -> None:
    """Add the node at URL as a peer, after showing its name and key fingerprint."""
    found = _or_stop(lambda: peers.fetch_node(url))
    click.echo(f"{found.name} at {found.url}")
    for fingerprint in found.fingerprints:
        click.echo(f"  key fingerprint {fingerprint}")
    if not yes and not click.confirm("Compare the fingerprint with the peer's administrator (knet keys show). "
                                     "Add this peer?", default=False):
        click.echo("Nothing was added.")
        sys.exit(1)
    peer = peers.add(None, found)
    state = peers.handshake(peer)
    db.session.commit()
    if state == "active":
        click.echo(f"{found.name} is a peer: both nodes have added each other, so the agreement is active.")
    else:
        click.echo(f"{found.name} is added, and the agreement is pending until its administrator adds this node "
                   f"with: knet peer add {peers.own_url()}")
        if peer.last_error:
            click.echo(f"The last attempt to reach it failed: {peer.last_error}")


@peer_group.command("list")
@instance_option
@with_appcontext
def list_peers() -> None:
    """Each peer with the state of the agreement, its last contact and its last failure."""
    found = peers.all_peers()
    if not found:
        click.echo("This node has no peers yet; add one with: knet peer add URL")
        return
    for peer in found:
        click.echo(f"{peer.url}  {peer.name}  {STATES[peer.state]}  last contact {_when(peer.last_contact_at)}")
        health = peers.health(peer)
        click.echo(f"    waiting to be sent: {health.waiting} change(s)  dead letters: {health.dead_letters}  "
                   f"replicas: {health.replicas}")
        if peer.failing_since:
            click.echo(f"    deliveries failing since {_when(peer.failing_since)} ({peer.push_failures} tries in a row), "
                       f"next try {_when(peer.next_push_at)}")
        if peer.last_error:
            click.echo(f"    last failure: {peer.last_error}")


@peer_group.command("suspend")
@click.argument("url")
@instance_option
@with_appcontext
def suspend(url: str) -> None:
    """Stop all traffic with a peer for now, keeping the agreement."""
    peer = _or_stop(lambda: peers.require(url))
    peers.set_suspended(None, peer, True)
    db.session.commit()
    click.echo(f"{peer.name} is suspended: nothing is sent to it or accepted from it until you resume it.")


@peer_group.command("resume")
@click.argument("url")
@instance_option
@with_appcontext
def resume(url: str) -> None:
    """Let traffic with a suspended peer go on."""
    peer = _or_stop(lambda: peers.require(url))
    peers.set_suspended(None, peer, False)
    db.session.commit()
    click.echo(f"{peer.name} is {STATES[peer.state]}.")


@peer_group.command("remove")
@click.argument("url")
@instance_option
@with_appcontext
def remove(url: str) -> None:
    """End the agreement with a peer on this side."""
    peer = _or_stop(lambda: peers.require(url))
    name = peer.name
    purged = peers.remove(peer)
    db.session.commit()
    click.echo(f"{name} is no longer a peer of this node; its {purged} replica(s) were removed.")


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "never"


def _or_stop(action):
    try:
        return action()
    except PeeringError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
