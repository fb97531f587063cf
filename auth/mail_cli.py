"""`knet mail …`: check that the node can send e-mail."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext as _
from markupsafe import Markup

from knet.commands import instance_option
from knet.mail import MailError, compose, mailbox, send


@click.group()
def mail() -> None:
    """E-mail from the node (the [mail] table of knet.toml)."""


@mail.command("test")
@click.argument("address")
@instance_option
@with_appcontext
def test(address: str) -> None:
    """Send a short test message to ADDRESS with the [mail] settings."""
    node = current_app.config["KNET"]
    settings = node["mail"]
    if not settings["host"]:
        _stop(2, "This node sends no e-mail: add a [mail] table with a host and a sender to knet.toml "
                 "(see knet.example.toml).")
    recipient = mailbox(address)
    if recipient is None:
        _stop(2, f"{address!r} is not an e-mail address.")
    with force_locale(node["default_language"]):
        subject = _("Test message from %(node)s", node=node["name"])
        sentence = _("If you read this, %(node)s can send e-mail. There is no need to reply.", node=node["name"])
    try:
        send(settings, [compose(settings, recipient, subject, sentence + "\n", Markup("<p>{}</p>").format(sentence),
                                node["default_language"])])
    except MailError as exc:
        _stop(1, str(exc))
    click.echo(f"Sent a test message to {recipient.addr_spec} through {settings['host']}:{settings['port']}.")


def _stop(status: int, sentence: str) -> None:
    click.echo(sentence, err=True)
    sys.exit(status)
