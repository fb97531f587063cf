"""wiki/importer.py and wiki/mediawiki.py: every MediaWiki export of the corpus imported, with its history,
authors and dates; the refused ones refused whole; importing again changing nothing; and `knet import mediawiki`."""
from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from knet import content, jobs
from knet.db import as_utc, db
from knet.errors import Forbidden, Invalid
from knet.jobs import Job
from knet.search.index import Viewer, search
from knet.search.indexing import node_index
from wiki import importer, services
from wiki.content import TYPE, page_uri
from wiki.models import Page, Redirect, Revision

KNET = str(Path(sys.executable).parent / "knet")
EXPORTS = ("mediawiki_ImportAnonUserTest-0.11.xml", "mediawiki_InterleavedMulti.import-1-0.11.xml",
           "pywikibot_dummy-template-0.10.xml", "pywikibot_pair-0.10.xml",
           "wikidump_enwiki-articles-partial-0.10.xml", "wikidump_simplewiki-0.10.xml")
NEGATIVE = ("mediawiki_BadXML.xml", "mediawiki_MissingMediaWikiTag.xml")


def export(corpus: Path, name: str) -> Path:
    return corpus / "mediawiki" / name


def run_import(actor, path: Path | bytes, **options) -> importer.Report:
    """Import as the admin page's job and the command do: one transaction, committed at the end."""
    with (io.BytesIO(path) if isinstance(path, bytes) else path.open("rb")) as file:
        report = importer.import_dump(actor, file, **options)
    db.session.commit()
    return report


def page(title: str) -> Page:
    found = db.session.scalar(select(Page).where(Page.title == title))
    assert found is not None, f"no page {title!r}"
    return found


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count(Page.id))), db.session.scalar(select(func.count(Revision.id))),
            db.session.scalar(select(func.count(Job.id))))


@pytest.fixture
def admin(make_user):
    return make_user("admin", role="admin")


def test_a_page_comes_with_its_whole_history_authors_and_dates(app, corpus, admin):
    report = run_import(admin, export(corpus, "pywikibot_pair-0.10.xml"))
    assert (report.pages_created, report.revisions, report.skipped_namespaces) == (1, 2, {"Talk": 1})
    cullu = page("Çullu, Agdam")
    assert cullu.slug == "cullu-agdam" and cullu.visibility == "internal" and cullu.author == admin
    first, second = cullu.revisions
    assert [r.author_name for r in cullu.revisions] == ["Carlossuarez46", "Carlossuarez46"]
    assert first.author is None and first.summary.startswith("moved [[Çullu, Agdam]] to [[Çullu, Quzanlı]]")
    assert as_utc(first.created_at) == datetime(2008, 9, 9, 22, 40, 15, tzinfo=timezone.utc)
    assert as_utc(second.created_at) == as_utc(cullu.updated_at) == datetime(2008, 9, 9, 22, 41, 28, tzinfo=timezone.utc)
    assert as_utc(cullu.created_at) == as_utc(first.created_at)
    # The first revision was a redirect, the second a list of links, bold and a template kept visible.
    assert first.body == "→ [[Çullu, Quzanlı]]\n"
    assert second.body.startswith("**Çullu, Agdam** may refer to:\n\n- [[Çullu, Quzanlı]]\n- [[Çullu (Chullu Vtoroye), Agdam]]")
    assert "`{{geodis}}`" in second.body and "Long comment" not in second.body
    assert '<strong>Çullu, Agdam</strong>' in second.html and 'class="wikilink missing"' in second.html
    assert report.problems == {"Çullu, Agdam": {"templates": ["geodis"]}}


def test_a_contributor_with_an_account_here_becomes_the_author(app, corpus, admin, make_user):
    heffalump = make_user("heffalump", role="reader")
    report = run_import(admin, export(corpus, "mediawiki_InterleavedMulti.import-1-0.11.xml"))
    assert (report.pages_created, report.revisions) == (1, 4)
    imported = page("{{page1_title}}")
    # The main slot of each revision; the other slot (role importexporttest, "X") is not the page's text.
    assert [r.body for r in imported.revisions] == ["A\n", "A\n", "B\n", "C\n"]
    assert {r.author for r in imported.revisions} == {heffalump}
    assert {r.author_name for r in imported.revisions} == {"Heffalump"}
    assert [as_utc(r.created_at).hour for r in imported.revisions] == [1, 2, 3, 4]


def test_an_anonymous_contribution_keeps_its_address_and_categories_become_tags(app, corpus, admin):
    report = run_import(admin, export(corpus, "mediawiki_ImportAnonUserTest-0.11.xml"))
    assert report.site == "dewiki.home.arpa" and report.pages_created == 1
    test = page("Test")
    [revision] = test.revisions
    assert revision.author is None and revision.author_name == "192.0.2.14"
    assert revision.body == "test\n" and test.tag_names == ["test"]
    # German is not a language of the node: the pages take the node's own.
    assert test.language == "el"


def test_templates_and_other_namespaces_are_reported(app, corpus, admin):
    report = run_import(admin, export(corpus, "pywikibot_dummy-template-0.10.xml"))
    assert report.pages_created == 1 and report.skipped_namespaces == {"Talk": 2}
    assert report.problems == {"Fake page with msg": {"templates": ["foo"]}}
    assert page("Fake page with msg").current.body == "`{{ MsG:foo }}`\n"


def test_articles_redirects_and_namespaces_of_a_real_dump(app, corpus, admin):
    report = run_import(admin, export(corpus, "wikidump_enwiki-articles-partial-0.10.xml"))
    assert report.pages_created == 4
    assert {title for title, _ in report.imported} == {"Konica Minolta Cup", "Archer (typeface)", "Stockton Airport",
                                                      "Ricky Minard"}
    assert report.skipped_namespaces == {"Category": 2, "Wikipedia": 2}
    # Their targets are in neither the export nor the node.
    assert report.unresolved_redirects == ["Suzzana Owiyo", "Penny-and-dime scam", "Mr. & Mrs."]
    minard = page("Ricky Minard")
    assert "living people" in minard.tag_names and "1982 births" in minard.tag_names
    assert "\n## Professional career\n" in minard.current.body
    assert {"Infobox basketball biography", "cite web"} <= set(report.problems["Ricky Minard"]["templates"])
    assert minard.revision == 1
    assert minard.current.author_name == "SimonLagann"


def test_headings_links_and_files_of_longer_articles(app, corpus, admin):
    report = run_import(admin, export(corpus, "wikidump_simplewiki-0.10.xml"))
    assert report.pages_created == 6 and report.skipped_namespaces == {"Wikipedia": 1}
    april = page("April")
    assert "\n## The Month\n" in april.current.body
    assert "[[Asteraceae|Daisy]]" in april.current.body and "[[month]]" in april.current.body
    assert '<h2 id="the-month">The Month</h2>' in april.current.html
    assert '<a class="wikilink missing" href="/pages/new?title=month" rel="noopener noreferrer nofollow">month</a>' in april.current.html
    assert "Colorful spring garden.jpg" in report.problems["April"]["files"]
    assert report.problems["April"]["templates"] == ["monththisyear", "Months"]


def test_importing_again_changes_nothing(app, corpus, admin):
    first = run_import(admin, export(corpus, "wikidump_simplewiki-0.10.xml"))
    before = counts()
    again = run_import(admin, export(corpus, "wikidump_simplewiki-0.10.xml"))
    assert (again.pages_created, again.pages_updated, again.pages_unchanged, again.revisions) == (0, 0, 6, 0)
    assert counts() == before and first.pages_created == 6


def test_a_newer_export_of_the_same_wiki_adds_only_new_revisions(app, admin):
    run_import(admin, small_export(revisions=1))
    report = run_import(admin, small_export(revisions=3))
    assert (report.pages_created, report.pages_updated, report.revisions) == (0, 1, 2)
    assert [r.body for r in page("Κανονισμός").revisions] == ["Έκδοση 1\n", "Έκδοση 2\n", "Έκδοση 3\n"]


def test_a_title_taken_here_is_skipped_and_reported(app, corpus, admin, make_page):
    ours = make_page(admin, "April", "Our own page about April.")
    report = run_import(admin, export(corpus, "wikidump_simplewiki-0.10.xml"))
    assert report.collisions == ["April"] and report.pages_created == 5
    assert ours.revision == 1 and ours.current.body == "Our own page about April."
    assert "April" not in {title for title, _ in report.imported}


def test_a_redirect_page_becomes_a_redirect(app, corpus, admin):
    run_import(admin, export(corpus, "wikidump_simplewiki-0.10.xml"))
    report = run_import(admin, small_export(redirect_to="April"))
    assert report.redirects == 1 and report.pages_created == 0
    april, followed = services.get_page("fourth-month", admin)
    assert april.title == "April" and followed == "fourth-month"
    assert db.session.get(Redirect, "fourth-month").page_id == april.id
    # A page imported later links to both, as to any page here.
    run_import(admin, small_export(text="[[April]] or [[Fourth month|the fourth]]"))
    html = page("Κανονισμός").current.html
    assert '<a class="wikilink" href="/wiki/april" rel="noopener noreferrer nofollow">April</a>' in html
    assert '<a class="wikilink" href="/wiki/april" rel="noopener noreferrer nofollow">the fourth</a>' in html
    again = run_import(admin, small_export(redirect_to="April"))
    assert again.redirects == 0 and again.collisions == []


def test_a_link_to_a_page_further_on_in_the_export_leads_to_it_once_imported(app, admin):
    first = ("<page><title>Άδειες</title><ns>0</ns><id>1</id><revision><id>11</id><timestamp>2021-01-01T10:00:00Z"
             "</timestamp><contributor><username>Νίκος</username><id>5</id></contributor><text>Δείτε [[Δικαιολογητικά]]."
             "</text></revision></page>")
    second = ("<page><title>Δικαιολογητικά</title><ns>0</ns><id>2</id><revision><id>21</id><timestamp>"
              "2021-01-02T10:00:00Z</timestamp><contributor><username>Νίκος</username><id>5</id></contributor>"
              "<text>Ταυτότητα.</text></revision></page>")
    export = small_export().replace("<page><title>Κανονισμός".encode(), (first + second).encode()
                                    + "<page><title>Κανονισμός".encode())
    assert run_import(admin, export).pages_created == 3
    html = page("Άδειες").current.html
    assert f'<a class="wikilink" href="/wiki/{quote(page("Δικαιολογητικά").slug)}"' in html
    assert "missing" not in html


@pytest.mark.parametrize("name", NEGATIVE)
def test_what_is_not_an_export_is_refused_naming_the_line(app, corpus, admin, name):
    before = counts()
    with export(corpus, f"negative/{name}").open("rb") as file, pytest.raises(Invalid) as refused:
        importer.import_dump(admin, file)
    db.session.rollback()
    assert refused.value.extra == {"field": "file"}
    assert ("3" if name == "mediawiki_BadXML.xml" else "1") in refused.value.message
    assert counts() == before


def test_an_export_broken_after_some_pages_imports_nothing(app, admin):
    broken = small_export(revisions=2).replace(b"</mediawiki>", b"<page><title>Half</title>")
    before = counts()
    with pytest.raises(Invalid) as refused:
        importer.import_dump(admin, io.BytesIO(broken))
    db.session.rollback()
    assert counts() == before and refused.value.extra == {"field": "file"}


def test_only_an_administrator_imports(app, corpus, make_user):
    editor = make_user("editor")
    with export(corpus, "pywikibot_pair-0.10.xml").open("rb") as file, pytest.raises(Forbidden):
        importer.import_dump(editor, file)
    assert db.session.scalar(select(func.count(Page.id))) == 0


def test_entities_are_not_expanded(app, admin):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE mediawiki [<!ENTITY a "AAAAAAAAAAAAAAAA">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c SYSTEM "file:///etc/passwd">]>'
            + small_export(text="&b; &c;").split(b"?>", 1)[1])
    run_import(admin, bomb)
    assert "AAAA" not in page("Κανονισμός").current.body and "root:" not in page("Κανονισμός").current.body


def test_imported_pages_reach_search_and_peers_like_any_other(app, corpus, admin):
    run_import(admin, export(corpus, "pywikibot_pair-0.10.xml"), visibility="public")
    cullu = page("Çullu, Agdam")
    kinds = set(db.session.scalars(select(Job.kind).where(Job.payload["id"].as_integer() == cullu.id)))
    # Indexed, recorded for the peers, and (being public) published to the node's fediverse followers.
    assert kinds == {"search.index", "federation.record", "fediverse.publish"}
    document = content.content_type(TYPE).document(cullu.id)
    assert document["type"] == "Article" and document["knet:visibility"] == "public"
    assert "Çullu, Quzanlı" in document["content"]
    jobs.run_pending()
    assert [hit.uri for hit in search(node_index(), "Quzanlı", viewer=Viewer()).hits] == [page_uri(cullu.id)]


# The command ---------------------------------------------------------------------------------------------

def knet(instance, *args) -> subprocess.CompletedProcess:
    return subprocess.run([KNET, "import", "mediawiki", "--instance", str(instance), *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_command_imports_every_export_and_refuses_the_negative_ones(app, instance, corpus, admin):
    for name in EXPORTS:
        result = knet(instance, str(export(corpus, name)), "--as", "admin")
        assert result.returncode == 0, (name, result.stderr)
        assert "Traceback" not in result.stderr
    result = knet(instance, str(export(corpus, "pywikibot_pair-0.10.xml")))
    assert result.returncode == 0 and "0 page(s) created, 0 updated, 1 unchanged" in result.stdout
    assert "Skipped 1 page(s) of other namespaces: Talk 1." in result.stdout
    for name in NEGATIVE:
        result = knet(instance, str(export(corpus, f"negative/{name}")))
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "line" in result.stderr
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Page.id))) == 1 + 1 + 1 + 1 + 4 + 6


def test_the_command_dry_run_changes_nothing(app, instance, corpus, admin):
    result = knet(instance, str(export(corpus, "wikidump_simplewiki-0.10.xml")), "--dry-run", "--visibility", "public")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Dry run, nothing was changed.") and "6 page(s) created" in result.stdout
    assert "Not converted in April: templates: monththisyear, Months; files: Colorful spring garden.jpg" in result.stdout
    assert db.session.scalar(select(func.count(Page.id))) == 0


def test_the_command_names_an_unknown_account(app, instance, corpus):
    result = knet(instance, str(export(corpus, "pywikibot_pair-0.10.xml")), "--as", "nobody")
    assert result.returncode == 1 and "nobody" in result.stderr and "Traceback" not in result.stderr


# A small export of our own, for what the corpus does not have -------------------------------------------

def small_export(revisions: int = 1, redirect_to: str | None = None, text: str | None = None) -> bytes:
    """An export of a Greek wiki (schema 0.11): one page with `revisions` revisions, or a redirect page."""
    if redirect_to:
        pages = (f"<page><title>Fourth month</title><ns>0</ns><id>77</id><redirect title=\"{redirect_to}\"/>"
                 f"<revision><id>770</id><timestamp>2021-01-01T00:00:00Z</timestamp><contributor><username>Νίκος"
                 f"</username><id>5</id></contributor><text>#REDIRECT [[{redirect_to}]]</text></revision></page>")
    else:
        pages = "<page><title>Κανονισμός</title><ns>0</ns><id>9</id>" + "".join(
            f"<revision><id>{90 + number}</id><timestamp>2021-01-0{number}T10:00:00Z</timestamp><contributor>"
            f"<username>Νίκος</username><id>5</id></contributor><comment>Αλλαγή {number}</comment>"
            f"<text xml:space=\"preserve\">{text or f'Έκδοση {number}'}</text></revision>"
            for number in range(1, revisions + 1)) + "</page>"
    return ('<?xml version="1.0" encoding="utf-8"?><mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" '
            'version="0.11" xml:lang="el"><siteinfo><sitename>Δημοτικό wiki</sitename>'
            '<base>https://wiki.example.gr/wiki/Αρχική</base><namespaces><namespace key="0"/>'
            '<namespace key="14">Κατηγορία</namespace></namespaces></siteinfo>'
            + pages + "</mediawiki>").encode("utf-8")
