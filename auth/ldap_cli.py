"""`knet ldap …`: check the directory settings step by step, and bring accounts up to date."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from auth.directory import configured_directory, sync as sync_people
from auth.ldap import Directory, DirectoryError
from knet.commands import instance_option
from knet.db import db
from knet.errors import Invalid


@click.group()
def ldap() -> None:
    """The municipality's directory (the [ldap] table of knet.toml)."""


def _directory() -> Directory:
    directory = configured_directory()
    if directory is None:
        raise Invalid("This node has no directory: add an [ldap] table with a url to knet.toml "
                      "(see knet.example.toml).")
    return directory


@ldap.command("test")
@instance_option
@click.option("--username", help="Also look this person up and, with a password, sign them in.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@click.option("--no-password", is_flag=True, help="Look the person up without signing them in.")
@with_appcontext
def test(username: str | None, password_stdin: bool, no_password: bool) -> None:
    """Diagnose the directory settings: connect, TLS, service bind, user search, user bind, groups, roles."""
    directory = _directory()
    password = None
    if username and not no_password:
        password = (sys.stdin.readline().rstrip("\r\n") if password_stdin
                    else click.prompt(f"Password of {username}", hide_input=True))
    failed = None
    for step in directory.diagnose(username, password):
        mark = click.style("ok  ", fg="green") if step.ok else click.style("FAIL", fg="red")
        click.echo(f"{mark} {step.name}: {step.detail}")
        if not step.ok:
            failed = step
    directory.close()
    if failed is not None:
        click.echo(f"The {failed.name} step failed: {failed.detail}", err=True)
        sys.exit(1)
    click.echo("The directory settings work." if username else
               "The directory answers; add --username to check a person's sign-in too.")


@ldap.command("sync")
@instance_option
@with_appcontext
def sync() -> None:
    """Create and update accounts and departments from the directory; deactivate people who left."""
    directory = _directory()
    click.echo("Reading the directory…", err=True)
    try:
        people = list(directory.people())
    except DirectoryError as exc:
        raise Invalid(f"Nothing was changed: {exc} Run 'knet ldap test' to find which step fails.") from None
    with click.progressbar(length=len(people), label="Updating accounts", file=sys.stderr) as bar:
        summary = sync_people(directory, progress=lambda _person: bar.update(1), people=people)
    db.session.commit()
    directory.close()
    click.echo(summary.sentence())
