"""wiki/import_routes.py: the admin page that imports a MediaWiki export through a background job."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from knet import jobs
from knet.db import db
from tests.forms import csrf_token
from tests.wiki.test_mediawiki import export, small_export
from wiki.models import MediaWikiImport, Page

URL = "/admin/mediawiki-import"


@pytest.fixture
def admin_client(make_user, browse):
    return browse(make_user("admin", role="admin"))


def upload(client, data: bytes, name: str = "export.xml", **fields):
    token = csrf_token(client.get(URL).get_data(as_text=True))
    form = {"csrf_token": token, "visibility": "internal", "file": (io.BytesIO(data), name), **fields}
    return client.post(URL, data=form, content_type="multipart/form-data")


def imports() -> int:
    return db.session.scalar(select(func.count(MediaWikiImport.id)))


def pages() -> int:
    return db.session.scalar(select(func.count(Page.id)))


def test_only_administrators_see_the_page(app, make_user, browse):
    assert browse(None).get(URL).status_code == 302
    assert browse(make_user("maria", role="editor")).get(URL).status_code == 403
    assert browse(make_user("moderator", role="moderator")).get(URL).status_code == 403


def test_an_upload_is_imported_by_the_job_and_reported(app, corpus, admin_client):
    response = upload(admin_client, export(corpus, "pywikibot_pair-0.10.xml").read_bytes(), "pair.xml",
                      visibility="network")
    assert response.status_code == 302
    status_url = response.headers["Location"]
    waiting = admin_client.get(status_url).get_data(as_text=True)
    assert 'data-state="waiting"' in waiting and "import-status.js" in waiting
    jobs.run_pending()
    done = admin_client.get(status_url).get_data(as_text=True)
    assert 'data-state="done"' in done and "import-status.js" not in done
    assert re.search(r'id="pages-created">1<', done) and re.search(r'id="revisions">2<', done)
    assert re.search(r'id="skipped">1 \(Talk: 1\)<', done)
    assert '<a href="/wiki/cullu-agdam">Çullu, Agdam</a>' in done and "geodis" in done
    cullu = db.session.scalar(select(Page).where(Page.slug == "cullu-agdam"))
    assert cullu.visibility == "network" and cullu.revision == 2
    history = admin_client.get("/wiki/cullu-agdam/history").get_data(as_text=True)
    assert history.count("Carlossuarez46") == 2
    # The file is gone once imported.
    assert not list((Path(app.instance_path) / "imports").glob("*.xml"))


def test_a_dry_run_reports_and_changes_nothing(app, corpus, admin_client):
    response = upload(admin_client, export(corpus, "wikidump_simplewiki-0.10.xml").read_bytes(), dry_run="y")
    jobs.run_pending()
    done = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="pages-created">6<', done) and pages() == 0
    assert '<a href="/wiki/april">' not in done and "<li>April</li>" in done


@pytest.mark.parametrize("name", ["mediawiki_BadXML.xml", "mediawiki_MissingMediaWikiTag.xml"])
def test_a_negative_corpus_file_is_refused_at_once(app, corpus, admin_client, name):
    response = upload(admin_client, export(corpus, f"negative/{name}").read_bytes(), name)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert imports() == 0


def test_a_file_that_is_not_xml_is_refused(app, admin_client):
    response = upload(admin_client, b"\x89PNG\r\n\x1a\n" + bytes(100), "photo.xml")
    assert response.status_code == 400 and 'id="file-error"' in response.get_data(as_text=True)
    assert imports() == 0


def test_an_oversize_file_is_refused(app, admin_client):
    app.config["MEDIAWIKI_IMPORT_MAX_BYTES"] = 4096
    response = upload(admin_client, small_export(revisions=1) + b" " * 200_000)
    assert response.status_code == 413
    response = upload(admin_client, small_export(revisions=1) + b" " * 5000)
    assert response.status_code == 413 and 'id="file-error"' in response.get_data(as_text=True)
    assert imports() == 0


def test_an_export_broken_further_on_fails_in_the_job_and_imports_nothing(app, admin_client):
    broken = small_export(revisions=3).replace(b"</mediawiki>", b"<page><title>x</title></mediawiki>")
    response = upload(admin_client, broken)
    assert response.status_code == 302
    jobs.run_pending()
    failed = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-state="failed"' in failed and 'role="alert"' in failed
    assert pages() == 0
    record = db.session.scalar(select(MediaWikiImport))
    assert record.state == "failed" and record.error


def test_the_upload_needs_its_csrf_token(app, admin_client):
    response = admin_client.post(URL, data={"file": (io.BytesIO(small_export()), "x.xml"), "visibility": "internal"},
                                 content_type="multipart/form-data")
    assert response.status_code == 400 and imports() == 0
