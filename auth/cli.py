"""`knet user …`: local accounts and API tokens."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from auth import account_purge, erasure, services
from auth.models import ROLES, TOKEN_SCOPES, User
from knet.commands import instance_option
from knet.db import db
from knet.errors import NotFound


@click.group()
def user() -> None:
    """Local accounts and personal API tokens."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _create(username: str, email: str | None, role: str, password_stdin: bool) -> None:
    password = _read_password(password_stdin)
    services.create_local_user(username, password, role=role, email=email)
    db.session.commit()
    click.echo(f"Created the {role} account '{username}'.")


@user.command("create-admin")
@instance_option
@click.option("--username", required=True, help="Sign-in name of the administrator.")
@click.option("--email", help="E-mail address.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@with_appcontext
def create_admin(username: str, email: str | None, password_stdin: bool) -> None:
    """Create a local administrator account."""
    _create(username, email, "admin", password_stdin)


@user.command("create")
@instance_option
@click.option("--username", required=True, help="Sign-in name.")
@click.option("--email", help="E-mail address.")
@click.option("--role", type=click.Choice(ROLES), default="reader", show_default=True, help="What the person may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@with_appcontext
def create(username: str, email: str | None, role: str, password_stdin: bool) -> None:
    """Create a local account (for nodes without a directory, or for testing)."""
    _create(username, email, role, password_stdin)


def _existing(username: str) -> User:
    account = User.by_username(username)
    if account is None:
        raise NotFound(f"There is no account called '{username}'.")
    return account


@user.command("token")
@instance_option
@click.option("--username", required=True, help="Whose token to create.")
@click.option("--scope", type=click.Choice(TOKEN_SCOPES), default="read", show_default=True,
              help="read: only look; write: also create and change content.")
@with_appcontext
def token(username: str, scope: str) -> None:
    """Create a personal API token and print it (it is shown only this once)."""
    raw = services.issue_token(_existing(username), scope)
    db.session.commit()
    click.echo(f"A {scope} token for {username}; keep it secret, it is not shown again:", err=True)
    click.echo(raw)


@user.command("revoke-token")
@instance_option
@click.option("--username", required=True, help="Whose tokens to revoke.")
@click.option("--token", "prefix", help="The token, or its first 12 characters; without it, all tokens are revoked.")
@with_appcontext
def revoke_token(username: str, prefix: str | None) -> None:
    """Revoke one personal API token, or all of a person's tokens."""
    count = services.revoke_tokens(_existing(username), prefix)
    db.session.commit()
    click.echo(f"Revoked {count} token(s) of {username}.")


@user.command("export-data")
@instance_option
@click.option("--username", required=True, help="Whose personal data to export.")
@click.argument("out", required=False, type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@with_appcontext
def export_data(username: str, out: str | None) -> None:
    """Write everything this node keeps about a person to a ZIP file (the right of access); '-' writes it
    to standard output. The export is recorded in the audit log."""
    person = _existing(username)
    archive = erasure.export_person(None, person)
    target = out or erasure.export_filename(person)
    if target == "-":
        sys.stdout.buffer.write(archive)
        sys.stdout.buffer.flush()
    else:
        try:
            with open(target, "wb") as file:
                file.write(archive)
        except OSError as exc:
            raise click.ClickException(f"Cannot write {target}: {exc.strerror}.") from None
    db.session.commit()
    if target != "-":
        click.echo(f"Wrote the personal data of {username} to {target} ({len(archive)} bytes).")


@user.command("erase")
@instance_option
@click.option("--username", required=True, help="Whom to erase.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def erase(username: str, yes: bool) -> None:
    """Erase a person (the right to erasure): their personal data goes, what they wrote stays, shown as by
    former staff, here and at peers; the account never signs in again."""
    person = _existing(username)
    if person.is_erased:
        click.echo(f"'{username}' was already erased; nothing to do.")
        return
    if not yes:
        click.confirm(f"Erase {username} for good? What they wrote stays, as by former staff", abort=True)
    peers = account_purge.peers_to_tell(person)
    erasure.erase_person(None, person)
    new_name = person.username
    db.session.commit()
    click.echo(f"Erased {username}: the account is now '{new_name}', which cannot sign in; what they wrote "
               "stays, shown as by former staff.")
    if peers:
        click.echo(f"The {len(peers)} peer(s) where they signed in will be told to erase their visitor account "
                   f"too: {', '.join(node.name for node in peers)}.")
