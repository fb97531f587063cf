"""`knet index rebuild` and `knet index check`: a new index swapped in atomically, drift reported."""
from __future__ import annotations

import fcntl
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import click
import pytest

from knet import jobs
from knet.cli import cli
from knet.db import db
from knet.search.index import VERSION_FILE, SearchDocument, Viewer, search
from knet.search.indexing import INDEX_DIRECTORY, index_path, node_index, rebuilding
from knet.search.rebuild import leftovers
from wiki import services
from wiki.content import page_uri

ROOT = Path(__file__).resolve().parents[3]
MEMBER = Viewer("somebody")

#: Runs `knet index rebuild` in a child process whose search documents each take 50 ms, so that the
#: test can kill it for certain while it is building.
SLOW_REBUILD = """
import sys, time
from knet import content
register = content.register
def slow_register(app, content_type):
    def slow(object_id):
        time.sleep(0.05)
        return content_type.search_document(object_id)
    register(app, content.ContentType(content_type.name, slow, content_type.indexable_ids))
content.register = slow_register
from knet.cli import cli
cli(["index", "rebuild", "--instance", sys.argv[1]])
"""


def found(app, query: str, viewer: Viewer = MEMBER) -> set[str]:
    return {hit.uri for hit in search(node_index(), query, viewer=viewer, per_page=100).hits}


def knet(instance: Path, *argv: str):
    return cli([*argv, "--instance", str(instance)], standalone=False)


def test_rebuild_indexes_every_page_the_database_has(app, instance, make_user, make_page, capsys):
    author = make_user("eleni", role="admin")
    public = make_page(author, "Προμήθειες δημοτικές", visibility="public")
    internal = make_page(author, "Εσωτερικές προμήθειες", visibility="internal")
    private = make_page(author, "Σημειώσεις για προμήθειες", visibility="private")
    gone = make_page(author, "Παλιές προμήθειες", visibility="public")
    services.delete_page(author, gone)
    db.session.commit()
    assert found(app, "προμηθειες") == set(), "no worker has run: the index is empty"

    knet(instance, "index", "rebuild")
    out, err = capsys.readouterr()
    assert out.startswith("Indexed 4 document(s) in ")  # three pages and their author's profile
    assert "Indexing" in err, "the progress bar goes to standard error"
    assert node_index().path != instance / INDEX_DIRECTORY, "the running app followed the swap"
    assert found(app, "προμηθειες") == {page_uri(public.id), page_uri(internal.id)}
    everything = {page_uri(p.id) for p in (public, internal, private)}
    assert found(app, "προμηθειες", Viewer(str(author.id))) == everything
    assert found(app, "προμηθειες", Viewer()) == {page_uri(public.id)}

    shutil.rmtree(index_path(app))
    knet(instance, "index", "rebuild", "--processes", "1")  # as on a small machine
    assert node_index().doc_count() == 4
    assert found(app, "δημοτικες") == {page_uri(public.id)}
    assert sorted(p.name for p in instance.iterdir() if p.name.startswith(INDEX_DIRECTORY)) == [
        index_path(app).name, f"{INDEX_DIRECTORY}.live", f"{INDEX_DIRECTORY}.lock"], "nothing left behind"


def test_check_reports_missing_stale_and_extra_entries(app, instance, make_user, make_page, capsys):
    author = make_user("eleni", role="admin")
    pages = [make_page(author, f"Σελίδα {n}", visibility="public") for n in range(3)]
    jobs.run_pending()
    knet(instance, "index", "check")
    assert "The index is in step with the database." in capsys.readouterr().out

    ghost = "http://127.0.0.1:5000/pages/999"
    with node_index().writer() as writer:
        writer.delete(page_uri(pages[0].id))
        writer.upsert(SearchDocument(uri=page_uri(pages[1].id), type="page", title="Άλλος τίτλος",
                                     visibility="public", updated=datetime(2020, 1, 1, tzinfo=timezone.utc)))
        writer.upsert(SearchDocument(uri=ghost, type="page", title="Φάντασμα", visibility="public"))
    with pytest.raises(click.ClickException) as drift:
        knet(instance, "index", "check")
    assert drift.value.exit_code == 1
    assert "drifted from the database (1 missing, 1 stale, 1 extra)" in drift.value.message
    out = capsys.readouterr().out
    assert f"Missing from the index: 1\n  {page_uri(pages[0].id)}\n" in out
    assert f"Stale in the index: 1\n  {page_uri(pages[1].id)}\n" in out
    assert f"Extra in the index: 1\n  {ghost}\n" in out

    knet(instance, "index", "rebuild")
    jobs.run_pending()  # the changes of the last minutes, queued again by the rebuild
    capsys.readouterr()
    knet(instance, "index", "check")
    assert "The index is in step with the database." in capsys.readouterr().out


def test_check_does_not_count_changes_the_worker_has_yet_to_index(app, instance, make_user, make_page, capsys):
    author = make_user("eleni", role="admin")
    make_page(author, "Ωράριο", visibility="public")
    knet(instance, "index", "check")
    out = capsys.readouterr().out
    assert "Not compared: 2 object(s) whose index jobs are still queued" in out  # the page and its author
    assert "in step" in out


def test_a_killed_rebuild_leaves_the_old_index_serving_and_the_next_cleans_up(app, instance, make_user, make_page,
                                                                              capsys):
    author = make_user("eleni", role="admin")
    pages = [make_page(author, f"Πρακτικό συνεδρίασης {n}", visibility="public") for n in range(40)]
    jobs.run_pending()
    live = index_path(app)
    assert found(app, "πρακτικο") == {page_uri(page.id) for page in pages}

    child = subprocess.Popen([sys.executable, "-c", SLOW_REBUILD, str(instance)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not any((path / "_MAIN_0.toc").exists() for path in leftovers(instance / INDEX_DIRECTORY)):
            assert child.poll() is None, "the rebuild ended before it could be killed"
            assert time.monotonic() < deadline, "the rebuild never started building"
            time.sleep(0.01)
        time.sleep(0.3)  # well into the 2 s of building
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert index_path(app) == live, "the old index is still the live one"
    half_built = leftovers(instance / INDEX_DIRECTORY)
    assert len(half_built) == 1
    assert found(app, "πρακτικο") == {page_uri(page.id) for page in pages}

    knet(instance, "index", "rebuild")
    assert "removed 1 leftover(s) of an unfinished rebuild" in capsys.readouterr().out
    assert leftovers(instance / INDEX_DIRECTORY) == []
    assert not half_built[0].exists() and not live.exists()
    assert found(app, "πρακτικο") == {page_uri(page.id) for page in pages}


def test_only_one_rebuild_runs_at_a_time(app, instance):
    with open(instance / f"{INDEX_DIRECTORY}.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        with pytest.raises(click.ClickException, match="Another 'knet index rebuild' is running"):
            knet(instance, "index", "rebuild")


def test_an_index_written_with_other_analysis_rules_is_rebuilt_while_it_serves(app, instance, make_user, make_page,
                                                                              capsys):
    """After an upgrade that changes how words become terms, the old index keeps answering, `knet
    index check` says it needs rebuilding, and the worker rebuilds it."""
    author = make_user("eleni", role="admin")
    page = make_page(author, "Έλαβε την άδεια", visibility="public")
    jobs.run_pending()
    (index_path(app) / VERSION_FILE).write_text("1:snowballstemmer\n", encoding="utf-8")
    app.extensions.pop("knet.search_index")  # as a process started after the upgrade

    assert found(app, "άδεια") == {page_uri(page.id)}, "the old index still answers"
    assert rebuilding(), "a rebuild was queued"
    with pytest.raises(click.ClickException) as outdated:
        knet(instance, "index", "check")
    assert "needs rebuilding for this version of knet" in outdated.value.message
    assert "other analysis rules" in capsys.readouterr().out

    jobs.run_pending()
    assert not rebuilding()
    assert not node_index().outdated
    assert found(app, "λαμβάνω άδειες") == {page_uri(page.id)}, "the verb's lemma finds it in the new index"
    knet(instance, "index", "check")
    assert "The index is in step with the database." in capsys.readouterr().out


def test_rebuild_refuses_fewer_than_one_process(instance):
    with pytest.raises(click.UsageError) as refused:
        knet(instance, "index", "rebuild", "--processes", "0")
    assert refused.value.exit_code == 2 and "0 is not in the range" in refused.value.format_message()
