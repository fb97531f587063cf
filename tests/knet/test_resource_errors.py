"""When the disk under a node fills up, people get a clear 503 in their language, nothing half-written is kept,
the search index's job waits to be tried again, and once space is freed the node works again by itself.

The node's SQLite database, its search index and its files sit on a small tmpfs mounted for the test (the suite
runs as root, here and in CI); a test that cannot mount one fails with a sentence rather than skipping."""
from __future__ import annotations

import errno
import gc
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from auth import services as auth_services
from knet import jobs
from knet.app import create_app
from knet.cli import cli
from knet.db import db
from knet.errors import DISK_FULL, resource_failure
from knet.search.indexing import close_index
from tests.conftest import IsolatedClient
from tests.forms import csrf_token
from tests.test_cli import knet

PASSWORD = "correct horse battery"


@contextmanager
def tmpfs(mount: Path, size: str = "24m") -> Iterator[Path]:
    """A small tmpfs mounted on `mount` (its files copied in first), unmounted afterwards."""
    mount.mkdir(exist_ok=True)
    before = mount.with_name(mount.name + ".before")
    shutil.copytree(mount, before)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.fail(f"This test needs to mount a small tmpfs (as root) to fill a disk, and mount said: {done.stderr}")
    try:
        shutil.copytree(before, mount, dirs_exist_ok=True)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 24 MB tmpfs, unmounted afterwards."""
    with tmpfs(tmp_path / "disk") as mount:
        yield mount


def fill(directory: Path) -> Path:
    """Write zeros into one file until the file system has no byte left."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 512, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(descriptor)
    return filler


def make_node(instance: Path, tmp_path: Path, monkeypatch, disk_for_the_index: bool = False):
    """A node made by `knet init` at `instance` (SQLite, whatever database the suite runs on: a full disk under
    SQLite is the case a small municipality meets), an editor and a write token; with disk_for_the_index, its
    search index on a small disk of its own."""
    # prometheus_client's memory-mapped counts on a full disk end the process with SIGBUS: they belong on a
    # RAM disk (/run), which this test's own directory stands for (see the crash helper's report).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    cli(["init", "--instance", str(instance), "--name", "Δήμος Δοκιμών", "--url", "http://127.0.0.1:5000"],
        standalone=False)
    with ExitStack() as stack:
        if disk_for_the_index:
            stack.enter_context(tmpfs(instance / "search-index", "4m"))
        yield from _running(instance)


def _running(instance: Path):
    app = create_app(instance, overrides={"TESTING": True})
    app.test_client_class = IsolatedClient
    with app.app_context():
        editor = auth_services.create_local_user("maria", PASSWORD, role="editor")
        token = auth_services.issue_token(editor, "write")
        db.session.commit()
        yield app, {"Authorization": f"Bearer {token}"}
        close_index(app)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def node_on_small_disk(small_disk, tmp_path, monkeypatch):
    yield from make_node(small_disk / "instance", tmp_path, monkeypatch)


@pytest.fixture
def node_with_index_on_small_disk(tmp_path, monkeypatch):
    yield from make_node(tmp_path / "instance", tmp_path, monkeypatch, disk_for_the_index=True)


def _pending_jobs(app) -> list[jobs.Job]:
    with app.app_context():
        found = db.session.scalars(select(jobs.Job).where(jobs.Job.kind.like("search.%"))).all()
        db.session.expunge_all()
        return found


def test_a_full_disk_refuses_changes_clearly_and_the_node_recovers_when_space_returns(node_on_small_disk,
                                                                                        small_disk):
    app, token = node_on_small_disk
    client = app.test_client()
    client.set_cookie("knet_lang", "el")
    form = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"username": "maria", "password": PASSWORD,
                                       "csrf_token": csrf_token(form)}).status_code == 302
    # A page saved while there is room: its index job waits for a worker.
    saved = client.post("/api/v1/pages", json={"title": "Πριν γεμίσει", "body": "Λέξηπριν."}, headers=token)
    assert saved.status_code == 201

    filler = fill(small_disk)
    new = client.get("/pages/new")
    assert new.status_code == 200  # reading still works
    refused = client.post("/pages/new", data={
        "csrf_token": csrf_token(new.get_data(as_text=True)), "title": "Όταν γέμισε", "language": "el",
        "body": "Κείμενο " * 20000, "tags": "", "visibility": "internal", "licence": "CC-BY-4.0", "summary": "",
        "save": "Save"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 503, page[:3000]
    assert "γεμάτος" in page or "disk is full" in page  # the Greek sentence once the lead translates it
    assert "<html" in page and "Retry-After" in refused.headers
    api = client.post("/api/v1/pages", json={"title": "Όταν γέμισε", "body": "Κείμενο " * 20000}, headers=token)
    assert api.status_code == 503, api.get_data(as_text=True)[:2000]
    assert api.json["detail"] == str(DISK_FULL) and api.json["status"] == 503

    # The index job fails for lack of space: it stays pending, to be tried again, and is not dead.
    with app.app_context():
        try:
            jobs.run_pending()
        except Exception as exc:  # recording the failure may itself need space: the job row keeps its state
            assert resource_failure(exc) is DISK_FULL, exc
            db.session.rollback()
    states = {job.state for job in _pending_jobs(app)}
    assert states == {jobs.PENDING}, [(job.state, job.last_error) for job in _pending_jobs(app)]

    filler.unlink()
    titles = [item["title"] for item in client.get("/api/v1/pages", headers=token).json["items"]]
    assert "Όταν γέμισε" not in titles and "Πριν γεμίσει" in titles  # nothing half-written was kept
    again = client.post("/api/v1/pages", json={"title": "Μετά", "body": "Λέξημετά."}, headers=token)
    assert again.status_code == 201, again.get_data(as_text=True)[:2000]
    with app.app_context():
        db.session.execute(jobs.Job.__table__.update().values(run_after=jobs.utcnow()))  # no wait for the retry
        db.session.commit()
        jobs.run_pending()
    assert {job.state for job in _pending_jobs(app)} <= {jobs.DONE}
    found = client.get("/api/v1/search", query_string={"q": "Λέξηπριν"}, headers=token).json["results"]
    assert [hit["title"] for hit in found] == ["Πριν γεμίσει"]
    checked = knet("index", "check", "--instance", str(small_disk / "instance"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


# Whoosh keeps the postings file of a write that failed for lack of space open even after the writer is cancelled
# (knet/search/index.py Writer.__exit__ cancels it); the file is closed when the writer is collected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_full_disk_under_the_search_index_leaves_its_job_pending_and_the_index_whole(
        node_with_index_on_small_disk, tmp_path, caplog):
    app, token = node_with_index_on_small_disk
    client = app.test_client()
    index = tmp_path / "instance" / "search-index"
    filler = fill(index)
    saved = client.post("/api/v1/pages", json={"title": "Χωρίς χώρο", "body": "Λέξηχώρου " * 3000}, headers=token)
    assert saved.status_code == 201  # the database has room: the page is saved, its indexing waits

    with app.app_context():
        jobs.run_pending()
    tried = _pending_jobs(app)
    # Every index job (the page's, and the editor's from the fixture) is put off, not failed: a full disk is not the
    # job's fault, so a long outage cannot use up its attempts and leave it dead.
    assert {(job.state, job.attempts) for job in tried} == {(jobs.PENDING, 0)}, [(j.state, j.last_error) for j in tried]
    assert all("No space left" in job.last_error for job in tried)

    filler.unlink()
    with app.app_context():
        db.session.execute(jobs.Job.__table__.update().values(run_after=jobs.utcnow()))  # no wait for the retry
        db.session.commit()
        jobs.run_pending()
    assert {job.state for job in _pending_jobs(app)} == {jobs.DONE}
    found = client.get("/api/v1/search", query_string={"q": "Λέξηχώρου"}, headers=token).json["results"]
    assert [hit["title"] for hit in found] == ["Χωρίς χώρο"]
    checked = knet("index", "check", "--instance", str(tmp_path / "instance"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The jobs' log records hold the failed write's exception, and through it the files it left open: let
    # them go, and close those files here, under this test's mark, rather than in the next test.
    caplog.clear()
    gc.collect()


def test_an_error_of_the_disk_is_told_apart_from_other_errors():
    assert resource_failure(OSError(errno.ENOSPC, "No space left on device")) is DISK_FULL
    assert resource_failure(OSError(errno.ENOENT, "No such file")) is None
    assert resource_failure(ValueError("bad")) is None
