"""`knet backup` and `knet restore` (knet.backup, knet.restore): a whole node in one file, and a working node
made from it — every row, file and key as it was, the search index rebuilt — on SQLite and PostgreSQL, across
the two, and while the node keeps writing; a damaged, foreign or too new archive refused with a sentence."""
from __future__ import annotations

import io
import os
import stat
import threading
import time
import tomllib
from collections.abc import Iterator
from datetime import timezone
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from auth import people, services as auth_services
from auth.models import User
from federation import keys, peers
from knet import backup, content, restore
from knet.cli import cli
from knet.db import as_utc, db
from knet.search.index import Viewer, search
from knet.search.indexing import node_index
from learning import attachments, certificates, courses, progress, quizzes, structure, versions
from learning.courses import CourseInput
from learning.models import Attachment
from learning.structure import OptionInput, QuestionInput as QuizQuestionInput
from qa import services as qa
from qa.services import QuestionInput
from tests.conftest import PASSWORD, post_sign_in, running_node
from tests.federation.fake_peer import FakePeer
from tests.learning.test_attachments import pdf
from wiki import services as wiki
from wiki.content import page_uri
from wiki.models import Page, Revision
from wiki.services import PageInput

#: What a node makes again by itself, or keeps in its database file: not compared file by file.
DERIVED = ("search-index", "content-generation", "knet.db", "opendata")


# A node with something of everything -----------------------------------------------------------

def photo_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def fill(app, make_user, peer_url: str | None = None) -> dict:
    """Pages with revisions, links and Greek text; a question with answers, a comment, a vote and an
    accepted answer; a published course with a lesson file and a quiz, an enrolment, an attempt and a
    certificate; people with photos and skills; a peer; the node's RSA key for the fediverse."""
    limit = app.config["KNET"]["max_body_bytes"]
    admin = make_user("diaxeiristis", role="admin")
    maria = make_user("maria")
    tina = make_user("tina", role="trainer")
    lena = make_user("lena", role="reader")
    people.update_profile(maria, maria, people.ProfileInput(about="Προμήθειες και συμβάσεις.", languages=["el", "en"],
                                                            skills=["Προμήθειες", "Excel"]))
    people.set_photo(maria, maria, photo_bytes())
    people.update_profile(tina, tina, people.ProfileInput(skills=["Εκπαίδευση"]))

    waste = wiki.create_page(maria, PageInput(title="Ανακύκλωση στον Δήμο", body="Οι κάδοι αδειάζουν κάθε Τρίτη.",
                                              tags=["περιβάλλον"], visibility="public"), limit)
    db.session.flush()
    wiki.update_page(maria, waste, PageInput(title="Ανακύκλωση στον Δήμο", tags=["περιβάλλον", "κάδοι"],
                                             body="Οι μπλε κάδοι αδειάζουν κάθε Τρίτη και Παρασκευή. "
                                                  "Δείτε και [[Ωράριο αποκομιδής]].", visibility="public",
                                             summary="Δύο ημέρες"), waste.revision, limit)
    wiki.create_page(maria, PageInput(title="Ωράριο αποκομιδής", body="Από τις 6:00. Πίσω στην [[Ανακύκλωση στον "
                                                                      "Δήμο]].", language="el"), limit)
    wiki.create_page(admin, PageInput(title="Private notes", body="Only for me.", language="en",
                                      visibility="private"), limit)

    question = qa.ask(lena, QuestionInput(title="Πώς υπολογίζεται η υπερωρία;", body="Ποιος είναι ο τύπος;",
                                          tags=["μισθοδοσία"]))
    db.session.flush()
    first = qa.answer(maria, question, "Με τον τύπο του νόμου 4354/2015.")
    qa.answer(tina, question, "Ρωτήστε και το τμήμα προσωπικού.")
    db.session.flush()
    qa.comment(lena, "Ευχαριστώ!", answer=first)
    qa.vote(tina, 1, answer=first)
    qa.accept(lena, first)

    course = courses.create_course(tina, CourseInput(title="Δημόσιες συμβάσεις", summary="Τα βασικά."))
    module = structure.add_module(tina, course, "Εισαγωγή")
    lesson = structure.add_lesson(tina, module, "Μάθημα 1", "Το κείμενο του μαθήματος.")
    attachments.add_attachment(tina, lesson, "οδηγός.pdf", pdf("Odigos"))
    quiz = structure.add_quiz(tina, module, "Τεστ", pass_percent=50, max_attempts=3)
    single = structure.add_question(tina, quiz, QuizQuestionInput(
        kind="single", prompt="Ποιο είναι το όριο;", options=[OptionInput("30.000 €", correct=True),
                                                              OptionInput("300.000 €")]))
    structure.add_question(tina, quiz, QuizQuestionInput(kind="numeric", prompt="Πόσο κάνει 5 / 2;", number=2.5,
                                                         tolerance=0.1))
    versions.publish(tina, course, "Πρώτη έκδοση")
    db.session.commit()
    enrolment, _new = progress.enrol(lena, course)
    progress.open_item(lena, course, lesson.key)
    right = next(option["key"] for option in single.options if option["text"] == "30.000 €")
    quizzes.submit(lena, course, quiz.key, {single.key: [right]})
    db.session.commit()
    progress.check_completion(enrolment)
    certificate = certificates.issue(enrolment)
    if peer_url:
        peers.add(admin, peers.fetch_node(peer_url))
    keys.fediverse_key(Path(app.instance_path))
    db.session.commit()
    return {"page": waste.id, "course": course.id, "certificate": certificate.id, "maria": maria.username}


# Comparing two nodes ----------------------------------------------------------------------------

def normal(value):
    if hasattr(value, "tzinfo") and hasattr(value, "astimezone"):
        return as_utc(value).astimezone(timezone.utc)
    return value


def every_row() -> dict[str, list[dict]]:
    """Every row of every table of the current node, by primary key."""
    return {table.name: [{key: normal(value) for key, value in row.items()}
                         for row in db.session.execute(select(table).order_by(*table.primary_key.columns)).mappings()]
            for table in db.metadata.sorted_tables}


def every_document() -> dict[str, list]:
    """What the services make of every object: its search document and its document for peers."""
    found = {}
    for name, kind in content.content_types().items():
        ids = sorted(kind.indexable_ids())
        found[name] = [(kind.search_document(i), kind.document(i) if kind.document else None) for i in ids]
    return found


def kept_files(instance: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(instance.rglob("*")):
        relative = path.relative_to(instance)
        if path.is_file() and not relative.parts[0].startswith(DERIVED) and not path.name.startswith("."):
            found[relative.as_posix()] = path.read_bytes()
    return found


def snapshot_of(app) -> dict:
    with app.app_context():
        state = {"rows": every_row(), "documents": every_document()}
        db.session.remove()
        return state


def same_rows(before: dict, after: dict) -> None:
    """The restored tables hold exactly the backed-up rows (the restore's index rebuild queues index jobs
    of its own, after the backed-up ones)."""
    highest = max((job["id"] for job in before["jobs"]), default=0)
    after = {**after, "jobs": [job for job in after["jobs"] if job["id"] <= highest]}
    for name in before:
        assert after[name] == before[name], f"the table {name} differs"
    assert after.keys() == before.keys()


def knet(*argv: str):
    return cli(list(argv), standalone=False)


@pytest.fixture
def fresh_database(postgres, tmp_path) -> Iterator:
    """fresh_database(name): the URL of a new empty database for a restore (a SQLite file on SQLite)."""
    made = []

    def make(name: str) -> str:
        if postgres is None:
            return f"sqlite:///{tmp_path / f'{name}.db'}"
        made.append(f"knet_backup_{os.getpid()}_{name}")
        return postgres.create_database(made[-1])

    yield make
    for name in made:
        postgres.drop_database(name)


# Round trip -------------------------------------------------------------------------------------

def test_a_restored_node_has_every_row_file_and_key_and_finds_its_pages(app, instance, make_user, tmp_path,
                                                                        postgres, fresh_database, capsys):
    with FakePeer(tmp_path / "peer", name="Δήμος Γειτονικός") as peer:
        made = fill(app, make_user, peer.url)
    before = snapshot_of(app)
    assert before["rows"]["federation_peers"] and before["rows"]["profile_photos"]
    assert before["rows"]["learning_quiz_attempts"] and before["rows"]["learning_certificates"]
    files = kept_files(instance)
    assert any(name.startswith("media/") for name in files) and "federation-keys/fediverse-rsa.pem" in files

    out = tmp_path / "backups" / "knet-2026-03-31.tar.gz"
    out.parent.mkdir()
    knet("backup", "--instance", str(instance), str(out))
    said, progress_shown = capsys.readouterr()
    assert "Backed up 59 tables" in said and "readable only by its owner" in said
    assert "wiki_revisions (4 rows)" in progress_shown
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, "the archive holds private keys"
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name], "no draft is left beside it"

    # On SQLite the node's database comes back where it was, inside its (new) instance directory; a node on
    # PostgreSQL is given an empty database on the server.
    restored = tmp_path / "restored"
    url = fresh_database("restored") if postgres else None
    knet("restore", "--instance", str(restored), str(out), *(["--database", url] if url else []))
    said = capsys.readouterr().out
    assert f"Restored {restored} from {out}" in said
    assert "documents in the rebuilt search index" in said

    with running_node(restored) as copy:
        assert copy.config["SQLALCHEMY_DATABASE_URI"] == url or f"sqlite:///{restored / 'knet.db'}"
        after = {"rows": every_row(), "documents": every_document()}
        same_rows(before["rows"], after["rows"])
        assert after["documents"] == before["documents"]
        came_back = kept_files(restored)
        if url:  # knet.toml names the database given, and is otherwise as it was, line for line
            config, original = came_back.pop("knet.toml").decode(), files.pop("knet.toml").decode()
            assert tomllib.loads(config) == {**tomllib.loads(original), "database": url}
            assert [line for line in config.splitlines() if not line.startswith("database")] == \
                [line for line in original.splitlines() if not line.startswith("database")]
        assert came_back == files, "every file comes back byte for byte"
        assert [(k.id, keys.public_pem(k.public_key)) for k in keys.load(restored).keys] == \
            [(k.id, keys.public_pem(k.public_key)) for k in keys.load(instance).keys]
        assert stat.S_IMODE((restored / "knet.toml").stat().st_mode) == 0o600

        hits = search(node_index(), "ανακυκλωση", viewer=Viewer(), per_page=10).hits
        assert [hit.uri for hit in hits] == [page_uri(made["page"])], "the index was rebuilt from the database"

        client = copy.test_client()
        assert post_sign_in(client, "lena", PASSWORD).status_code == 302, "passwords come back too"
        page = client.get(wiki.page_path(db.session.get(Page, made["page"]).slug))
        assert "Οι μπλε κάδοι αδειάζουν κάθε Τρίτη και Παρασκευή" in page.get_data(as_text=True)
        attachment = db.session.execute(select(Attachment)).scalar_one()
        with client.get(f"/learning/attachments/{attachment.id}/{attachment.filename}") as download:
            assert download.status_code == 200 and download.data == pdf("Odigos")
        [photo] = before["rows"]["profile_photos"]
        assert client.get(f"/people/{made['maria']}/photo").data == photo["data"]

        # The restored node goes on: new rows get new ids (PostgreSQL's sequences were moved on).
        author = User.by_username("maria")
        newer = wiki.create_page(author, PageInput(title="Μετά την επαναφορά", body="Νέα σελίδα."),
                                 copy.config["KNET"]["max_body_bytes"])
        db.session.commit()
        assert newer.id > made["page"]


def test_a_backup_is_one_consistent_moment_while_the_node_keeps_writing(app, instance, make_user, tmp_path,
                                                                        fresh_database):
    """Another thread keeps saving pages (each a page row and a revision row) while the tables are read, one
    after the other; the restored node has whole pages only, and every page saved before the backup began."""
    limit = app.config["KNET"]["max_body_bytes"]
    author_id = make_user("maria").id
    saved: list[str] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        with app.app_context():
            author = db.session.get(User, author_id)
            try:
                number = 0
                while not stop.is_set():
                    number += 1
                    wiki.create_page(author, PageInput(title=f"Απόφαση {number}", body=f"Κείμενο {number}."), limit)
                    db.session.commit()
                    saved.append(f"Απόφαση {number}")
            except BaseException as exc:  # seen by the test, not lost in the thread
                failures.append(exc)
            finally:
                db.session.remove()

    def after_each_table(name: str, rows: int, number: int, total: int) -> None:
        # Let the writer commit pages between the reads of any two tables (of pages, then of revisions…).
        wanted = len(saved) + 2
        deadline = time.monotonic() + 10
        while len(saved) < wanted and not failures and time.monotonic() < deadline:
            time.sleep(0.002)
        assert len(saved) >= wanted, failures or "the writer is stuck"

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(saved) < 5:
            time.sleep(0.01)
        before = list(saved)
        out = tmp_path / "busy.tar.gz"
        backup.create(out, on_table=after_each_table)
        during = len(saved) - len(before)
    finally:
        stop.set()
        writer.join()
    assert not failures
    assert during >= 2 * 59, "pages were saved between the reads of every two tables"

    restored = tmp_path / "restored"
    restore.restore(out, restored, fresh_database("busy"))
    with running_node(restored):
        titles = set(db.session.scalars(select(Page.title)))
        assert set(before) <= titles, "every page saved before the backup began is in it"
        assert len(titles) < len(saved), "pages saved after the snapshot are not"
        pages = db.session.scalar(select(func.count()).select_from(Page))
        with_revisions = db.session.scalar(select(func.count(func.distinct(Revision.page_id))))
        assert pages == with_revisions == len(titles), "no page without its revision, no revision without its page"


@pytest.mark.parametrize("direction", ["sqlite to postgresql", "postgresql to sqlite"])
def test_a_backup_moves_a_node_between_sqlite_and_postgresql(direction, postgres, database_kind, tmp_path,
                                                             node_template, capsys):
    """An officer moves from SQLite to PostgreSQL (or back) with a backup and a restore with --database."""
    if postgres is None:
        pytest.skip("runs with --database postgresql, which starts the PostgreSQL server it needs")
    source, target = tmp_path / "source", tmp_path / "target"
    names = [f"knet_move_{os.getpid()}_{n}" for n in ("from", "to")]
    settings = ["--database", postgres.create_database(names[0])] if direction.startswith("postgresql") else []
    knet("init", "--instance", str(source), "--name", "Δήμος Δοκιμών", "--url", "http://127.0.0.1:5000", *settings)
    to = postgres.create_database(names[1]) if direction.endswith("postgresql") else f"sqlite:///{tmp_path}/to.db"
    try:
        with running_node(source) as app:
            def make_user(username, role="editor"):  # (the make_user fixture makes users for `app` only)
                user = auth_services.create_local_user(username, PASSWORD, role=role)
                db.session.commit()
                return user
            made = fill(app, make_user)
            before = {"rows": every_row(), "documents": every_document()}
            db.session.remove()
        knet("backup", "--instance", str(source), str(tmp_path / "move.tar.gz"))
        knet("restore", "--instance", str(target), "--database", to, str(tmp_path / "move.tar.gz"))
        capsys.readouterr()
        with running_node(target) as copy:
            assert copy.config["SQLALCHEMY_DATABASE_URI"] == to
            same_rows(before["rows"], every_row())
            assert every_document() == before["documents"]
            assert search(node_index(), "ανακυκλωση", viewer=Viewer(), per_page=10).hits[0].uri == \
                page_uri(made["page"])
            db.session.remove()
    finally:
        for name in names:
            postgres.drop_database(name)
