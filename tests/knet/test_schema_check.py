"""`knet db check`: is the database at this version's schema? One sentence and an exit status say."""
from __future__ import annotations

import secrets
import signal
import subprocess
from pathlib import Path

import flask_migrate
import pytest
import tomli_w
from sqlalchemy import text

from knet import schema
from knet.app import create_app
from knet.cli import cli
from knet.db import db
from tests.test_cli import KNET, assert_one_sentence_failure, knet, knet_all

HEAD = schema.head_revision()


def bare_node(path: Path, database_url: str | None) -> Path:
    """An instance directory whose database has no schema yet (as before `knet db upgrade`)."""
    path.mkdir()
    settings = {"name": "Δήμος Ελέγχου", "url": "http://127.0.0.1:5002", "secret_key": secrets.token_urlsafe(32)}
    if database_url:
        settings["database"] = database_url
    (path / "knet.toml").write_text(tomli_w.dumps(settings), encoding="utf-8")
    return path


def run_sql(path: Path, *statements: str, revision: str | None = None) -> None:
    """Upgrade the node's database to ``revision`` (if given), then run the statements."""
    app = create_app(path)
    with app.app_context():
        if revision:
            flask_migrate.upgrade(directory=str(schema.MIGRATIONS), revision=revision)
        for statement in statements:
            db.session.execute(text(statement))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def node(tmp_path, database_url) -> Path:
    return bare_node(tmp_path / "node", database_url)


def test_a_node_made_by_knet_init_is_up_to_date(instance):
    result = knet("db", "check", "--instance", str(instance))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"The database schema is up to date (revision {HEAD}).\n"


def test_a_database_behind_the_code_names_both_revisions_and_the_command(node, capsys):
    run_sql(node, revision="0003")
    sentence = assert_one_sentence_failure(knet("db", "check", "--instance", str(node)))
    assert f"at revision 0003, older than this version of knet expects ({HEAD})" in sentence
    assert f"run 'knet db upgrade --instance {node}'" in sentence
    cli(["db", "upgrade", "--instance", str(node)], standalone=False)
    assert capsys.readouterr().out.endswith(f"The database schema is up to date (revision {HEAD}).\n")
    check_again = knet("db", "check", "--instance", str(node))
    assert check_again.returncode == 0, check_again.stderr


def test_a_database_a_newer_knet_upgraded_is_not_touched(node):
    run_sql(node, "UPDATE alembic_version SET version_num = '0099'", revision="head")
    check, upgrade = knet_all([["db", "check", "--instance", str(node)], ["db", "upgrade", "--instance", str(node)]])
    for result in (check, upgrade):
        sentence = assert_one_sentence_failure(result)
        assert f"at revision 0099, which this version of knet does not know (its newest is {HEAD})" in sentence
    app = create_app(node)
    with app.app_context():
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == "0099"
        db.session.remove()
        db.engine.dispose()


def test_an_empty_database_and_someone_elses_database_are_told_apart(tmp_path, node, database_url, postgres):
    other_url = postgres.create_database(f"knet_other_{secrets.token_hex(4)}") if postgres else None
    other = bare_node(tmp_path / "other", other_url)
    run_sql(other, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    empty, foreign, refused = knet_all([["db", "check", "--instance", str(node)],
                                        ["db", "check", "--instance", str(other)],
                                        ["db", "upgrade", "--instance", str(other)]])
    assert "The database is empty (no knet schema): run 'knet db upgrade" in assert_one_sentence_failure(empty)
    assert "no knet schema version" in assert_one_sentence_failure(foreign)
    assert "no knet schema version" in assert_one_sentence_failure(refused)
    if postgres:
        postgres.drop_database(other_url.rsplit("/", 1)[1])


def test_a_database_that_cannot_be_reached_is_one_sentence_without_its_password(tmp_path):
    node = bare_node(tmp_path / "node", "postgresql+psycopg://knet:s3cret@127.0.0.1:1/knet")
    sentence = assert_one_sentence_failure(knet("db", "check", "--instance", str(node)))
    assert sentence.startswith("Error: Cannot reach the database at postgresql+psycopg://knet:***@127.0.0.1:1/knet")
    assert "s3cret" not in sentence


def test_the_worker_warns_as_it_starts_when_the_schema_is_behind(node):
    run_sql(node, revision="0003")
    worker = subprocess.Popen([str(KNET), "worker", "--instance", str(node)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        warning = worker.stderr.readline()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    # A log line: "[time] WARNING in schema [request id]: sentence".
    assert "WARNING" in warning
    assert "The database schema is at revision 0003, older than this version of knet expects" in warning
