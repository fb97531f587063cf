"""`knet backup` and `knet restore` (knet.backup, knet.restore): a whole node in one file, and a working node
made from it — every row, file and key as it was, the search index rebuilt — on SQLite and PostgreSQL, across
the two, and while the node keeps writing; a damaged, foreign or too new archive refused with a sentence."""
from __future__ import annotations

import hashlib
import io
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
from collections.abc import Iterator
from datetime import timedelta, timezone
from pathlib import Path

import click
import pytest
import tomli_w
from PIL import Image
from sqlalchemy import create_engine, func, inspect, select, text

from auth import people, services as auth_services
from auth.models import User
from federation import keys, peers
from knet import backup, content, restore
from knet.cli import cli
from knet.db import as_utc, db, utcnow
from knet.jobs import Job
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

ROOT = Path(__file__).resolve().parents[2]
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
    """The restored tables hold exactly the backed-up rows."""
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


# Refusals: one sentence, exit status 1, nothing left behind ----------------------------------------

def refused(*argv: str) -> str:
    with pytest.raises(click.ClickException) as failure:
        knet(*argv)
    assert failure.value.exit_code == 1
    return failure.value.format_message()


def rewritten(source: Path, target: Path, change, *, matching_manifest: bool = True) -> Path:
    """A copy of a backup whose members ``change(name, data)`` edits (returning None leaves one out); its
    manifest is made to match the edits unless ``matching_manifest`` is False (as a tampered one would not)."""
    with tarfile.open(source, "r:gz") as archive:
        members = [(member, archive.extractfile(member).read() if member.isfile() else None)
                   for member in archive.getmembers()]
    edited = []
    for member, data in members:
        data = change(member.name, data) if data is not None else data
        if member.isfile() and data is None:
            continue
        edited.append((member, data))
    if matching_manifest:
        manifest_at = next(i for i, (member, _) in enumerate(edited) if member.name == backup.MANIFEST)
        manifest = json.loads(edited[manifest_at][1])
        manifest["tables"] = {name: entry for name, entry in manifest["tables"].items()
                              if any(member.name == f"database/{name}.jsonl" for member, _ in edited)}
        for member, data in edited:
            name = member.name.split("/", 1)[-1]
            if member.name.startswith("database/"):
                entry = manifest["tables"][name.removesuffix(".jsonl")]
                entry["rows"] = data.count(b"\n")
            elif member.name.startswith("files/") and member.isfile():
                entry = manifest["files"][name]
            else:
                continue
            entry["bytes"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
        header = json.loads(edited[0][1])
        manifest.update({key: header[key] for key in ("format", "revision")})
        edited[manifest_at] = (edited[manifest_at][0], json.dumps(manifest).encode())
    with tarfile.open(target, "w:gz") as archive:
        for member, data in edited:
            if data is not None:
                member.size = len(data)
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    return target


@pytest.fixture
def small_backup(app, instance, make_user, make_page, tmp_path) -> Path:
    make_page(make_user("maria"), "Ανακύκλωση", "Οι κάδοι αδειάζουν κάθε Τρίτη.", visibility="public")
    knet("backup", "--instance", str(instance), str(tmp_path / "small.tar.gz"))
    return tmp_path / "small.tar.gz"


@pytest.mark.sqlite_only  # where a file may be written does not depend on the database
def test_backup_never_overwrites_a_file_nor_leaves_a_half_one(app, instance, tmp_path):
    out = tmp_path / "knet.tar.gz"
    out.write_bytes(b"last week's backup")
    assert refused("backup", "--instance", str(instance), str(out)) == \
        f"{out} already exists; knet backup never overwrites a file: choose another name."
    assert out.read_bytes() == b"last week's backup"

    missing = tmp_path / "no-such-directory" / "knet.tar.gz"
    assert refused("backup", "--instance", str(instance), str(missing)) == \
        f"Cannot write a backup in {missing.parent}: there is no such directory."
    if os.geteuid() == 0:  # root may write anywhere but in such places as /sys
        closed = Path("/sys/kernel")
    else:
        closed = tmp_path / "closed"
        closed.mkdir(mode=0o500)
    assert refused("backup", "--instance", str(instance), str(closed / "knet.tar.gz")) == \
        f"Cannot write a backup in {closed}: Permission denied."
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["knet.tar.gz", "instance", "closed"][:2 + (
        os.geteuid() != 0)]), "no draft is left anywhere"


@pytest.mark.sqlite_only  # the archive is checked before any database is touched
def test_a_damaged_truncated_foreign_or_too_new_archive_is_refused_and_leaves_nothing(small_backup, tmp_path):
    good = small_backup.read_bytes()
    target = tmp_path / "restored"

    def refusal(archive: Path) -> str:
        message = refused("restore", "--instance", str(target), str(archive))
        assert not target.exists(), "nothing is left behind"
        return message

    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good[:len(good) // 2])
    assert refusal(cut).startswith(f"{cut} is damaged or incomplete (")
    assert refusal(cut).endswith("); nothing was restored.")

    flipped = tmp_path / "flipped.tar.gz"
    middle = len(good) // 2
    flipped.write_bytes(good[:middle] + bytes([good[middle] ^ 0xFF]) + good[middle + 1:])
    assert f"{flipped} is damaged or incomplete (" in refusal(flipped)

    def tamper(name: str, data: bytes) -> bytes:
        return data.replace("Τρίτη".encode(), "Τετάρτη".encode()) if name == "database/wiki_revisions.jsonl" else data

    tampered = rewritten(small_backup, tmp_path / "tampered.tar.gz", tamper, matching_manifest=False)
    assert refusal(tampered) == (f"{tampered} is damaged or incomplete (database/wiki_revisions.jsonl does not "
                                 f"match its checksum); nothing was restored.")
    short = rewritten(small_backup, tmp_path / "short.tar.gz",
                      lambda name, data: None if name == "files/knet.toml" else data, matching_manifest=False)
    assert refusal(short) == f"{short} is damaged or incomplete (files/knet.toml is missing); nothing was restored."

    escaping = rewritten(small_backup, tmp_path / "escaping.tar.gz", lambda name, data: data)
    with tarfile.open(escaping, "r:gz") as archive:
        members = [(m, archive.extractfile(m).read() if m.isfile() else None) for m in archive.getmembers()]
    with tarfile.open(escaping, "w:gz") as archive:
        for member, data in members:
            if member.name == "files/knet.toml":
                member.name = "files/../../escaped.txt"
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    assert refusal(escaping) == (f"{escaping} is damaged or incomplete (files/../../escaped.txt is not a path inside "
                                 f"an instance directory); nothing was restored.")
    assert not (tmp_path / "escaped.txt").exists()

    text = tmp_path / "notes.txt"
    text.write_text("Σημειώσεις της συνάντησης.", encoding="utf-8")
    assert refusal(text) == f"{text} is not a knet backup (not a tar archive)."
    other = tmp_path / "photos.tar.gz"
    with tarfile.open(other, "w:gz") as archive:
        archive.add(text, arcname="notes.txt")
    assert refusal(other) == f"{other} is not a knet backup (it does not start with knet-backup.json)."

    def newer(name: str, data: bytes) -> bytes:
        return data.replace(b'"revision": "', b'"revision": "9') if name == backup.HEADER else data

    future = rewritten(small_backup, tmp_path / "future.tar.gz", newer)
    message = refusal(future)
    assert message.startswith(f"{future} was made by a newer knet (")
    assert message.endswith(f"schema up to {backup.head_revision()}): restore it with that version or a newer one.")

    target.mkdir()  # an empty directory (a mounted disk, say) may take the node; it is emptied again
    refused("restore", "--instance", str(target), str(cut))
    assert target.is_dir() and not any(target.iterdir())


def test_restore_never_writes_over_a_node(app, instance, small_backup, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "notes.txt").write_text("Κάτι δικό μου.", encoding="utf-8")
    assert refused("restore", "--instance", str(tmp_path / "elsewhere"), str(small_backup)) == (
        f"{tmp_path / 'elsewhere'} already exists and is not empty; knet restore makes a new node only in a new "
        f"or empty directory.")
    assert [p.name for p in (tmp_path / "elsewhere").iterdir()] == ["notes.txt"]

    # The backup's own knet.toml names the live node's database on PostgreSQL; --database names it here on both.
    live = app.config["SQLALCHEMY_DATABASE_URI"]
    pages = db.session.scalar(select(func.count()).select_from(Page))
    message = refused("restore", "--instance", str(tmp_path / "new"), "--database", live, str(small_backup))
    assert message.startswith(f"The database {backup.described(live)} already holds ")
    assert message.endswith("knet restore needs an empty one (give another with --database).")
    assert not (tmp_path / "new").exists()
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Page)) == pages


def test_jobs_the_backed_up_nodes_workers_were_running_are_due_at_once_in_the_restored_node(
        app, instance, tmp_path, fresh_database, postgres):
    """A backup taken while a worker ran a job holds the job as claimed by that worker, which is not
    the restored node's: the restored node's workers take it at once rather than when the claim ends."""
    running = Job(kind="federation.deliver", payload={}, run_after=utcnow() + timedelta(minutes=10),
                  claimed_by="town-hall-server:4242")
    waiting = Job(kind="federation.deliver", payload={}, run_after=utcnow() + timedelta(minutes=10))  # a retry
    db.session.add_all([running, waiting])
    db.session.commit()
    ids = running.id, waiting.id
    out = tmp_path / "while-working.tar.gz"
    knet("backup", "--instance", str(instance), str(out))
    url = fresh_database("restored") if postgres else None
    knet("restore", "--instance", str(tmp_path / "restored"), str(out), *(["--database", url] if url else []))
    with running_node(tmp_path / "restored"):
        due = {job.id: (as_utc(job.run_after) <= utcnow(), job.claimed_by) for job in db.session.scalars(select(Job))}
    assert due[ids[0]] == (True, None), "the claimed job is due now"
    assert due[ids[1]] == (False, None), "a job waiting to be tried again still waits"


def test_a_restore_that_fails_while_loading_rows_empties_the_database_again(small_backup, tmp_path, fresh_database):
    def twice(name: str, data: bytes) -> bytes:  # the same person twice: the database refuses the second
        return data + data if name == "database/users.jsonl" else data

    broken = rewritten(small_backup, tmp_path / "broken.tar.gz", twice)
    url = fresh_database("broken")
    message = refused("restore", "--instance", str(tmp_path / "new"), "--database", url, str(broken))
    assert message.startswith(f"Could not restore into {backup.described(url)}: ")
    assert message.endswith("; nothing was restored.")
    assert not (tmp_path / "new").exists()
    engine = create_engine(url)
    try:
        assert inspect(engine).get_table_names() == [], "the database is empty again, ready for another try"
    finally:
        engine.dispose()


def test_a_backup_of_an_older_schema_is_restored_and_upgraded(small_backup, tmp_path, fresh_database):
    """A backup made before SCORM lessons (schema 0014) restores into this knet, whose schema is newer."""
    def before_scorm(name: str, data: bytes) -> bytes | None:
        if name in ("database/learning_scorm_packages.jsonl", "database/learning_scorm_states.jsonl"):
            return None
        if name == "database/learning_items.jsonl":
            rows = [json.loads(line) for line in data.splitlines()]
            return b"".join(json.dumps({k: v for k, v in row.items() if k != "scorm_package_id"}).encode() + b"\n"
                            for row in rows)
        if name == backup.HEADER:
            return data.replace(f'"revision": "{backup.head_revision()}"'.encode(), b'"revision": "0014"')
        return data

    old = rewritten(small_backup, tmp_path / "old.tar.gz", before_scorm)
    knet("restore", "--instance", str(tmp_path / "new"), "--database", fresh_database("old"), str(old))
    with running_node(tmp_path / "new"):
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == backup.head_revision()
        assert db.session.scalars(select(Page.title)).all() == ["Ανακύκλωση"]
        assert search(node_index(), "καδοι", viewer=Viewer(), per_page=10).total == 1
        db.session.remove()


def test_backup_refuses_a_database_whose_schema_is_not_this_knets(app, instance, tmp_path):
    db.session.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    db.session.commit()
    assert refused("backup", "--instance", str(instance), str(tmp_path / "knet.tar.gz")) == (
        f"The database's schema is at revision 0014, but this knet's is {backup.head_revision()}: run 'knet db "
        f"upgrade' first (with the knet that serves this node).")
    assert not (tmp_path / "knet.tar.gz").exists()


@pytest.mark.sqlite_only  # about where a SQLite file is looked for
def test_a_sqlite_file_named_inside_the_old_instance_directory_is_looked_for_inside_the_new_one(
        small_backup, instance, tmp_path):
    def named(name: str, data: bytes) -> bytes:
        if name != "files/knet.toml":
            return data
        settings = {**tomllib.loads(data.decode()), "database": f"sqlite:///{instance / 'knet.db'}"}
        return tomli_w.dumps(settings).encode()

    explicit = rewritten(small_backup, tmp_path / "explicit.tar.gz", named)
    moved = tmp_path / "moved"
    knet("restore", "--instance", str(moved), str(explicit))
    assert tomllib.loads((moved / "knet.toml").read_text())["database"] == f"sqlite:///{moved / 'knet.db'}"
    with running_node(moved):
        assert db.session.scalars(select(Page.title)).all() == ["Ανακύκλωση"]
        db.session.remove()


@pytest.mark.sqlite_only  # about the disk the backup is written to
def test_a_backup_that_cannot_be_written_whole_leaves_nothing_named_like_a_backup(app, instance, tmp_path):
    """The disk fills up (here: a limit on the size of any file the command writes) halfway through."""
    (instance / "media" / "ab").mkdir(parents=True)
    (instance / "media" / "ab" / "lesson-video").write_bytes(os.urandom(2 * 1024 * 1024))
    out = tmp_path / "backups" / "knet.tar.gz"
    out.parent.mkdir()

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))

    finished = subprocess.run([sys.executable, "-c", "from knet.cli import entry; entry()", "backup", "--instance",
                               str(instance), str(out)], capture_output=True, text=True, preexec_fn=small_disk,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert finished.returncode == 1
    assert finished.stderr.splitlines()[-1] == \
        f"Error: Could not write the backup {out}: File too large; nothing was kept.", finished.stderr
    assert "Traceback" not in finished.stderr
    assert list(out.parent.iterdir()) == [], "no draft, no half backup"
