"""`knet user …`: local accounts and API tokens."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from auth import services
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
