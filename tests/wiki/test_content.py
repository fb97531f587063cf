"""Wiki pages reach the search index through content events and the worker, never directly."""
from pathlib import Path
from urllib.parse import quote

from knet import jobs
from knet.db import db
from knet.render_cache import GENERATION_FILE
from knet.search.index import Viewer, search
from knet.search.indexing import node_index
from wiki import services
from wiki.content import page_uri


def found(query: str, viewer: Viewer = Viewer()) -> list[str]:
    return [hit.uri for hit in search(node_index(), query, viewer=viewer).hits]


def test_a_saved_page_is_searchable_after_the_worker_ran(app, make_user, make_page):
    author = make_user("eleni", role="editor")
    jobs.run_pending()  # the author's profile
    page = make_page(author, "Προμήθειες του Δήμου", "Η διαδικασία απευθείας ανάθεσης.", visibility="public")
    assert found("προμηθειες") == [], "only the worker writes the index"
    assert jobs.run_pending() >= 1  # (the index's job, and federation's record of the change)
    assert found("ΠΡΟΜΗΘΕΙΕΣ") == [page_uri(page.id)]
    assert found("αναθεση") == [page_uri(page.id)]


def test_edits_renames_and_deletes_follow(app, make_user, make_page, client):
    author = make_user("eleni", role="admin")
    page = make_page(author, "Ωράριο", "Ανοιχτά το πρωί.", visibility="public")
    uri = page_uri(page.id)
    services.rename_page(author, page, "Ωράριο κοινού")
    db.session.commit()
    jobs.run_pending()
    assert found("κοινου") == [uri], "the permanent address survives the rename"
    assert client.get(f"/pages/{page.id}").headers["Location"].endswith("/wiki/" + quote(page.slug))

    services.delete_page(author, page)
    db.session.commit()
    jobs.run_pending()
    assert found("ωραριο") == []

    services.restore_page(author, page)
    db.session.commit()
    jobs.run_pending()
    assert found("ωραριο") == [uri]


def test_visibility_travels_into_the_index(app, make_user, make_page):
    author, colleague = make_user("eleni"), make_user("nikos")
    internal = make_page(author, "Εσωτερικός κανονισμός", "Για το προσωπικό.", visibility="internal")
    private = make_page(author, "Σημειώσεις κανονισμού", "Προσωπικές.", visibility="private")
    jobs.run_pending()
    assert found("κανονισμος") == []
    assert found("κανονισμος", Viewer(str(colleague.id))) == [page_uri(internal.id)]
    assert sorted(found("κανονισμος", Viewer(str(author.id)))) == sorted([page_uri(internal.id), page_uri(private.id)])


def test_index_jobs_do_not_empty_the_page_cache(app, make_user, make_page, client):
    author = make_user("eleni")
    jobs.run_pending()  # the author's profile
    page = make_page(author, "Ωράριο", "Ανοιχτά.", visibility="public")
    generation = Path(app.instance_path) / GENERATION_FILE
    before = generation.read_bytes()
    assert jobs.run_pending() >= 1  # (the index's job, and federation's record of the change for peers)
    assert generation.read_bytes() == before, "the worker's bookkeeping changed no page"
    services.rename_page(author, page, "Ωράριο κοινού")
    db.session.commit()
    assert generation.read_bytes() != before


def test_the_body_is_indexed_as_text_not_markdown(app, make_user, make_page):
    author = make_user("eleni")
    make_page(author, "Πίνακας", "| Στήλη | Τιμή |\n|---|---|\n| **έντονο** | 1 |", visibility="public")
    jobs.run_pending()
    hit = search(node_index(), "εντονο", viewer=Viewer()).hits[0]
    assert "**" not in hit.snippet and "|" not in hit.snippet
