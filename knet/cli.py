"""The `knet` command: set up, run and upgrade a node."""
from __future__ import annotations

import secrets
import shutil
import signal
import sys
import threading
from pathlib import Path

import click
import flask_migrate
import tomli_w
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from knet import backup_cli, config, demo_network, jobs, opendata_cli, schema
from knet.app import MIGRATIONS, create_app, feature_commands, prepare_demo
from knet.db import db
from knet.commands import chosen_instance, export_group, import_group, instance_option
from knet.errors import KnetError
from knet.search import indexing
from knet.search.commands import index_group


class KnetGroup(click.Group):
    """Turns expected failures into one sentence on standard error and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (KnetError, config.ConfigError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=KnetGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Run and administer a knet node."""


def _load_app():
    return create_app(chosen_instance())


@main.command()
@click.option("--instance", "instance_dir", envvar="KNET_INSTANCE", required=True,
              type=click.Path(file_okay=False), help="Directory to create for the node (or $KNET_INSTANCE).")
@click.option("--name", required=True, help="The municipality's name, as people should see it.")
@click.option("--url", required=True, help="The public address of the node, e.g. https://knet.example.gr.")
@click.option("--database", help="SQLAlchemy database URL (default: SQLite inside the instance directory).")
@click.option("--language", type=click.Choice(config.LANGUAGES), default="el", show_default=True,
              help="Default language of the node's pages.")
@click.pass_context
def init(ctx: click.Context, instance_dir: str, name: str, url: str, database: str | None, language: str) -> None:
    """Create a new node: instance directory, knet.toml with a fresh secret, and the database schema."""
    where = config.resolve_instance(instance_dir)
    if where.config_file.exists():
        raise click.ClickException(f"{where.config_file} already exists; knet init never overwrites an instance.")
    settings = {"name": name, "url": url.rstrip("/"), "secret_key": secrets.token_urlsafe(48),
                "default_language": language}
    if database:
        settings["database"] = database
    created_directory = not where.path.exists()
    where.path.mkdir(parents=True, exist_ok=True)
    where.config_file.write_text(tomli_w.dumps(settings), encoding="utf-8")
    where.config_file.chmod(0o600)
    try:
        app = create_app(where.path)
        with app.app_context():
            try:
                flask_migrate.upgrade(directory=str(MIGRATIONS))
            finally:
                db.engine.dispose()
        indexing.create_empty(app)
    except (SQLAlchemyError, ArgumentError) as exc:
        # Leave nothing behind, so the same command can simply be run again.
        where.config_file.unlink()
        if created_directory:
            shutil.rmtree(where.path, ignore_errors=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(f"Could not create the database at {_shown(settings.get('database'))}: "
                                   f"{reason.rstrip('.')}.") from exc
    click.echo(f"Created the node '{name}' in {where.path}.")
    if ctx.parent is not None and ctx.parent.invoked_subcommand == "init":
        click.echo(f"Next: knet user create-admin --instance {where.path} --username admin")


def _shown(database: str | None) -> str:
    """A database URL fit for a message: without its password."""
    if not database:
        return "the instance directory"
    try:
        return make_url(database).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(database)


@main.command()
@click.option("--instance", "instance_dir", envvar="KNET_INSTANCE", default="instance/demo", show_default=True,
              type=click.Path(file_okay=False),
              help="Directory that holds the three towns' instance directories (created if missing).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65533),
              help="Port of the first town; the other two listen on the next ports.")
@click.option("--no-serve", is_flag=True, help="Prepare the three towns and their sample content, then stop.")
@click.pass_context
def demo(ctx: click.Context, instance_dir: str, port: int, no_serve: bool) -> None:
    """Start a network of three municipalities on 127.0.0.1, peered with each other, with sample Greek and
    English content (created on first use), until Ctrl+C."""
    if ignored := demo_network.without_overrides():
        click.echo(f"Ignoring {', '.join(ignored)}: each town of the demonstration keeps its own settings.")
    network = demo_network.towns(Path(instance_dir), port)
    if not no_serve:
        demo_network.check_ports(network)
    sign_ins = [_prepare_town(ctx, town, number) for number, town in enumerate(network)]
    width = max(len(town.name) for town in network)

    def show(where) -> None:
        for town, (username, password) in zip(network, sign_ins):
            click.echo(f"  {town.name:<{width}}  {where(town)}  sign in as '{username}' with the password "
                       f"'{password}'")

    if no_serve:
        click.echo(f"The three towns are ready; start them with: knet demo --instance {instance_dir} --port {port}")
        show(lambda town: town.instance)
        return

    def announce() -> None:
        click.echo("The demonstration network is running (press Ctrl+C to stop it):")
        show(lambda town: f"{town.url}/")

    demo_network.serve(network, announce)
    click.echo("The three towns have stopped.")


def _prepare_town(ctx: click.Context, town: demo_network.Town, number: int) -> tuple[str, str]:
    """Create the town's node on first use (or check it is the one for this port), bring its schema up to
    date and give it its sample content; return its administrator's sign-in."""
    where = config.resolve_instance(town.instance)
    try:
        if not where.config_file.exists():
            ctx.invoke(init, instance_dir=str(where.path), name=town.name, url=town.url, database=None,
                       language="el")
            town.new = True
        elif (made_for := config.load(where)["url"]) != town.url:
            raise click.ClickException(f"{where.path} holds the node of {made_for}, not of {town.url}: start the "
                                       f"demonstration with the --port it was made with, or another --instance.")
        app = create_app(where.path)
        with app.app_context():
            try:
                flask_migrate.upgrade(directory=str(MIGRATIONS))
                return prepare_demo(app, number)
            finally:
                db.session.remove()
                db.engine.dispose()
    except OSError as exc:
        raise click.ClickException(f"Cannot prepare {town.name} in {where.path}: {exc.strerror or exc}.") from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(f"Cannot prepare {town.name} in {where.path}: {reason.rstrip('.')}.") from None


@main.command()
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks (never in production).")
@click.option("--no-worker", is_flag=True, help="Do not run background jobs in this process (run 'knet worker').")
def run(host: str, port: int, debug: bool, no_worker: bool) -> None:
    """Serve the node with the development server (use gunicorn in production)."""
    app = _load_app()
    _warn_if_schema_not_current(app)
    click.echo(f"Serving {app.config['KNET']['name']} on http://{host}:{port}/ (press Ctrl+C to stop).")
    if not no_worker:
        jobs.start_worker_thread(app)
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


@main.command()
@instance_option
@click.option("--poll", default=jobs.POLL_SECONDS, show_default=True, type=click.FloatRange(0.05, 60),
              help="Seconds between looks at an empty queue (jobs queued by other processes wait up to this).")
def worker(poll: float) -> None:
    """Run background jobs (index updates, later deliveries) until stopped; start several if needed."""
    app = _load_app()
    _warn_if_schema_not_current(app)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: (stop.set(), jobs.wake()))
    click.echo(f"Worker for {app.config['KNET']['name']} started (Ctrl+C or SIGTERM stops it).")
    jobs.work(app, stop, poll_seconds=poll)
    click.echo("Worker stopped.")


def _warn_if_schema_not_current(app) -> None:
    """Log a warning when the database is not at this code's schema (standard error, without a logging set-up)."""
    with app.app_context():
        schema.warn_if_not_current(db.engine, app.instance_path)
        db.session.remove()


@main.group("db")
def db_group() -> None:
    """Database schema commands."""


def _schema_state() -> schema.SchemaState:
    try:
        return schema.schema_state(db.engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(f"Cannot reach the database at {_shown(str(db.engine.url))}: "
                                   f"{reason.rstrip('.')}.") from None
    finally:
        db.engine.dispose()  # the command's only connection (a migration opens its own)


@db_group.command()
@instance_option
@with_appcontext
def check() -> None:
    """Say whether the database schema is at this version's newest migration (exit status 1 if not)."""
    state = _schema_state()
    message = schema.explain(state, current_app.instance_path)
    if state.status != schema.CURRENT:
        raise click.ClickException(message)
    click.echo(message)


@db_group.command()
@instance_option
@with_appcontext
def upgrade() -> None:
    """Apply every pending migration to the database."""
    if (state := _schema_state()).status in (schema.AHEAD, schema.FOREIGN):
        raise click.ClickException(schema.explain(state, current_app.instance_path))
    try:
        flask_migrate.upgrade(directory=str(MIGRATIONS))
    finally:
        db.engine.dispose()
    click.echo(f"The database schema is up to date (revision {schema.head_revision()}).")


@db_group.command()
@instance_option
@click.option("-m", "--message", required=True, help="What the schema change is, in a few words.")
@with_appcontext
def migrate(message: str) -> None:
    """For developers: write a new migration from the difference between the models and the database."""
    flask_migrate.migrate(directory=str(MIGRATIONS), message=message)


main.add_command(index_group)
main.add_command(backup_cli.backup_command)
main.add_command(backup_cli.restore_command)
main.add_command(import_group)
export_group.add_command(opendata_cli.export_opendata)
main.add_command(export_group)
for command in feature_commands():
    main.add_command(command)


def cli(argv: list[str] | None = None, standalone: bool = True):
    """Entry point that gives every command a way to build the app for its instance."""
    return main.main(args=argv, obj=ScriptInfo(create_app=_load_app), standalone_mode=standalone)


def entry() -> None:
    cli(sys.argv[1:])
