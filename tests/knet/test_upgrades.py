"""A node of the first release, with the data it had then, upgrades to this version and keeps it all.

The database is made at migration 0001 and filled with SQL through the tables as they were at that
revision (today's models do not fit them), as a node of that version had them; at 0004 it gains a
question with an answer. Then `knet db upgrade` brings it to the newest schema, and this version's
API and pages must show the same pages, history, people and questions, and find them once the index
is rebuilt.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

import flask_migrate
from sqlalchemy import MetaData, text
from werkzeug.security import generate_password_hash

from knet import schema
from knet.app import create_app
from knet.db import db
from knet.search.indexing import close_index
from qa.tags import tag_key
from tests.conftest import IsolatedClient
from tests.forms import csrf_token
from tests.knet.test_schema_check import HEAD, bare_node
from tests.test_cli import assert_one_sentence_failure, knet, knet_all
from wiki.slugs import slugify

PASSWORD = "the old node's password"
TOKEN = "knet_" + secrets.token_urlsafe(32)
WRITE_TOKEN = "knet_" + secrets.token_urlsafe(32)
THEN = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
PIPES, RULES = "Βλάβες ύδρευσης", "Εσωτερικός κανονισμός"
PIPES_SLUG, RULES_SLUG = slugify(PIPES), slugify(RULES)
FIRST_BODY = "Για βλάβες στο δίκτυο ύδρευσης καλέστε το 1234."
SECOND_BODY = "Για βλάβες στο δίκτυο ύδρευσης καλέστε το 1234, όλο το εικοσιτετράωρο."
QUESTION = "Ποιος επισκευάζει τις βλάβες ύδρευσης τη νύχτα;"
ANSWER = "Η βάρδια της ΔΕΥΑ, στο 1234."


def at_revision(node: Path, revision: str, fill) -> None:
    """Bring the node's database to ``revision`` (as the knet of that time did), then fill it."""
    app = create_app(node)
    with app.app_context():
        flask_migrate.upgrade(directory=str(schema.MIGRATIONS), revision=revision)
        if db.engine.dialect.name == "sqlite":  # off while migrating (see env.py), on again for the app
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            db.session.rollback()
        with db.engine.begin() as connection:
            tables = MetaData()
            tables.reflect(connection)
            fill(connection, tables.tables)
            if connection.dialect.name == "postgresql":
                # The rows above name their ids (rows refer to each other); the knet of that time took
                # them from each table's sequence, so the sequences stand where it left them.
                for name, table in tables.tables.items():
                    if "id" in table.c and table.c.id.autoincrement:
                        connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                                   f"GREATEST((SELECT max(id) FROM {name}), 1))")
        db.session.remove()
        db.engine.dispose()


def first_release(connection, tables) -> None:
    """What a node of 0001 held: people with roles and tokens, two pages with history, a tag, a link
    between them and the old name of a renamed page."""
    hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    connection.execute(tables["users"].insert(), [
        dict(id=1, username="admin", display_name="Διαχειριστής", email=None, password_hash=hashed, role="admin",
             active=True, created_at=THEN),
        dict(id=2, username="maria", display_name="Μαρία Παπαδοπούλου", email="maria@example.gr",
             password_hash=hashed, role="editor", active=True, created_at=THEN),
        dict(id=3, username="nikos", display_name="Νίκος Γεωργίου", email=None, password_hash=hashed,
             role="reader", active=True, created_at=THEN),
    ])
    connection.execute(tables["api_tokens"].insert(), [
        dict(id=number, user_id=2, prefix=raw[:12], digest=hashlib.sha256(raw.encode()).hexdigest(), scope=scope,
             created_at=THEN, revoked_at=None)
        for number, (raw, scope) in enumerate(((TOKEN, "read"), (WRITE_TOKEN, "write")), start=1)])
    connection.execute(tables["wiki_pages"].insert(), [
        dict(id=1, slug=PIPES_SLUG, title=PIPES, language="el", visibility="public", licence="CC-BY-4.0",
             revision=2, author_id=2, created_at=THEN, updated_at=THEN + timedelta(days=1), deleted_at=None),
        dict(id=2, slug=RULES_SLUG, title=RULES, language="el", visibility="internal", licence="all-rights-reserved",
             revision=1, author_id=1, created_at=THEN, updated_at=THEN, deleted_at=None),
    ])
    connection.execute(tables["wiki_revisions"].insert(), [
        dict(id=1, page_id=1, number=1, title="Βλάβες", body=FIRST_BODY, html=f"<p>{FIRST_BODY}</p>",
             summary="Πρώτη γραφή", author_id=2, created_at=THEN),
        dict(id=2, page_id=1, number=2, title=PIPES, body=SECOND_BODY, html=f"<p>{SECOND_BODY}</p>",
             summary="Όλο το εικοσιτετράωρο", author_id=2, created_at=THEN + timedelta(days=1)),
        dict(id=3, page_id=2, number=1, title=RULES, body=f"Δείτε και [[{PIPES}]].",
             html=f'<p>Δείτε και <a href="/wiki/{PIPES_SLUG}">{PIPES}</a>.</p>', summary="", author_id=1,
             created_at=THEN),
    ])
    connection.execute(tables["wiki_tags"].insert(), [dict(id=1, name="ύδρευση")])
    connection.execute(tables["wiki_page_tags"].insert(), [dict(page_id=1, tag_id=1)])
    connection.execute(tables["wiki_links"].insert(), [dict(source_id=2, target_slug=PIPES_SLUG)])
    connection.execute(tables["wiki_redirects"].insert(), [dict(slug=slugify("Βλάβες"), page_id=1)])


def questions_release(connection, tables) -> None:
    """What 0004 added: a question with a tag, its answer, and the history of both."""
    connection.execute(tables["qa_tags"].insert(), [dict(id=1, name="Ύδρευση", key=tag_key("Ύδρευση"))])
    connection.execute(tables["qa_questions"].insert(), [
        dict(id=1, title=QUESTION, body="Έχουμε διαρροή μετά τις 22:00.", html="<p>Έχουμε διαρροή μετά τις 22:00.</p>",
             language="el", visibility="internal", author_id=3, community_id=None, revision=1, score=0,
             answer_count=1, created_at=THEN, active_at=THEN + timedelta(hours=2))])
    connection.execute(tables["qa_question_tags"].insert(), [dict(question_id=1, tag_id=1)])
    connection.execute(tables["qa_answers"].insert(), [
        dict(id=1, question_id=1, body=ANSWER, html=f"<p>{ANSWER}</p>", author_id=2, revision=1, score=0,
             created_at=THEN + timedelta(hours=2), updated_at=THEN + timedelta(hours=2))])
    connection.execute(tables["qa_revisions"].insert(), [
        dict(id=1, question_id=1, answer_id=None, number=1, title=QUESTION, body="Έχουμε διαρροή μετά τις 22:00.",
             summary="", author_id=3, created_at=THEN),
        dict(id=2, question_id=None, answer_id=1, number=1, title="", body=ANSWER, summary="", author_id=2,
             created_at=THEN + timedelta(hours=2))])


def test_a_node_of_the_first_release_upgrades_with_everything_it_had(tmp_path, database_url):
    node = bare_node(tmp_path / "node", database_url)
    at_revision(node, "0001", first_release)
    at_revision(node, "0004", questions_release)

    behind = assert_one_sentence_failure(knet("db", "check", "--instance", str(node)))
    assert f"at revision 0004, older than this version of knet expects ({HEAD})" in behind
    upgrade = knet("db", "upgrade", "--instance", str(node))
    assert upgrade.returncode == 0, upgrade.stderr
    assert upgrade.stdout == f"The database schema is up to date (revision {HEAD}).\n"
    check, rebuild = knet_all([["db", "check", "--instance", str(node)],
                               ["index", "rebuild", "--instance", str(node), "--processes", "1"]])
    assert check.stdout == f"The database schema is up to date (revision {HEAD}).\n"
    assert rebuild.stdout.startswith("Indexed 7 document(s)")  # 2 pages, a question, its answer, 3 people

    app = create_app(node, overrides={"TESTING": True})
    app.test_client_class = IsolatedClient
    try:
        as_maria = {"Authorization": f"Bearer {TOKEN}"}
        client = app.test_client()
        page = client.get(f"/api/v1/pages/{PIPES_SLUG}", headers=as_maria).json
        assert (page["title"], page["body"], page["revision"], page["tags"], page["author"]) == \
               (PIPES, SECOND_BODY, 2, ["ύδρευση"], "maria")
        history = client.get(f"/api/v1/pages/{PIPES_SLUG}/revisions", headers=as_maria).json
        assert [(r["revision"], r["title"], r["summary"]) for r in history["items"]] == \
               [(2, PIPES, "Όλο το εικοσιτετράωρο"), (1, "Βλάβες", "Πρώτη γραφή")]
        assert client.get(f"/api/v1/pages/{slugify('Βλάβες')}", headers=as_maria).json["slug"] == PIPES_SLUG
        assert client.get(f"/api/v1/pages/{RULES_SLUG}", headers=as_maria).json["visibility"] == "internal"
        assert client.get(f"/api/v1/pages/{RULES_SLUG}").status_code == 404  # internal: not for visitors
        assert PIPES in client.get(page["url"]).get_data(as_text=True)

        # Maria is still an editor: her old write token changes the page, as a third revision.
        edited = client.put(f"/api/v1/pages/{PIPES_SLUG}", headers={"Authorization": f"Bearer {WRITE_TOKEN}"},
                            json={"base_revision": 2, "body": SECOND_BODY + " Ή στο 1235."})
        assert (edited.status_code, edited.json["revision"]) == (200, 3), edited.json

        question = client.get("/api/v1/questions/1", headers=as_maria).json
        assert (question["title"], question["tags"], question["author"]) == (QUESTION, ["Ύδρευση"], "nikos")
        assert [(a["body"], a["author"]) for a in question["answers"]] == [(ANSWER, "maria")]

        found = client.get("/api/v1/search", query_string={"q": "βλάβες"}, headers=as_maria).json
        assert {hit["title"] for hit in found["results"]} == {PIPES, QUESTION, RULES}  # the rules link to the page
        assert [hit["title"] for hit in client.get("/api/v1/search", query_string={"q": "κανονισμός"},
                                                   headers=as_maria).json["results"]] == [RULES]

        for username in ("admin", "maria", "nikos"):  # their passwords still sign them in
            browser = app.test_client()
            token = csrf_token(browser.get("/login").get_data(as_text=True))
            signed_in = browser.post("/login", data={"username": username, "password": PASSWORD,
                                                     "csrf_token": token})
            assert signed_in.status_code == 302, (username, signed_in.get_data(as_text=True))
    finally:
        with app.app_context():
            close_index(app)
            db.session.remove()
            db.engine.dispose()
