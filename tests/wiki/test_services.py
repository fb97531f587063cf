"""wiki/services.py: what people do with pages, checked through the services alone."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from knet.db import db
from knet.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, Unauthorized
from wiki import services
from wiki.models import Page, Redirect, Revision
from wiki.services import EditConflict, PageInput

LIMIT = 512 * 1024



def save(actor, page, body, base=None, **fields):
    """Save a new revision the way an editor does: from the page's current state."""
    data = PageInput(title=fields.pop("title", page.title), body=body, language=page.language,
                     tags=fields.pop("tags", page.tag_names), visibility=fields.pop("visibility", page.visibility),
                     licence=fields.pop("licence", page.licence), **fields)
    services.update_page(actor, page, data, page.revision if base is None else base, LIMIT)
    db.session.commit()
    return page


def link_classes(html: str, href_part: str) -> str:
    """The class attribute of the first link whose href contains href_part."""
    for match in re.finditer(r"<a ([^>]*)>", html):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if href_part in attrs.get("href", ""):
            return attrs.get("class", "")
    raise AssertionError(f"no link to {href_part!r} in {html!r}")


def revision_count() -> int:
    return db.session.scalar(select(func.count(Revision.id)))


# Create and edit -----------------------------------------------------------------------------

def test_create_gives_first_revision_with_rendered_html(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Οδηγός προσλήψεων", "# Βήματα\n\n**Πρώτα** η αίτηση.", tags=["ΠΡΟΣΩΠΙΚΟ"])
    assert page.slug == "οδηγος-προσληψεων"
    assert page.revision == 1
    assert page.current.number == 1
    assert page.current.author.username == "maria"
    assert "<strong>Πρώτα</strong>" in page.current.html
    assert page.tag_names == ["προσωπικο"]


def test_anonymous_cannot_create():
    with pytest.raises(Unauthorized):
        services.create_page(None, PageInput("Τίτλος", "κείμενο"), LIMIT)


def test_edit_adds_revisions_and_keeps_old_text(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Ωράριο", "Δευτέρα ως Παρασκευή.")
    save(maria, page, "Δευτέρα ως Παρασκευή, 8:00-15:00.", summary="ώρες")
    save(maria, page, "Δευτέρα ως Παρασκευή, 7:30-15:30.")
    assert page.revision == 3
    bodies = [r.body for r in page.revisions]
    assert bodies == ["Δευτέρα ως Παρασκευή.", "Δευτέρα ως Παρασκευή, 8:00-15:00.", "Δευτέρα ως Παρασκευή, 7:30-15:30."]
    assert services.get_revision(page, 2).summary == "ώρες"
    assert page.current.body.endswith("7:30-15:30.")


def test_stale_base_revision_is_a_conflict_and_saves_nothing(make_user, make_page):
    maria, nikos = make_user("maria", role="editor"), make_user("nikos", role="editor")
    page = make_page(maria, "Ωράριο", "αρχικό")
    save(nikos, page, "του Νίκου")  # Νίκος saved while Μαρία was still editing revision 1
    with pytest.raises(EditConflict) as caught:
        save(maria, page, "της Μαρίας", base=1)
    db.session.rollback()
    assert caught.value.status == 409
    assert caught.value.extra["current_revision"] == 2
    assert caught.value.base_revision == 1
    page = Page.by_slug("ωραριο")
    assert page.revision == 2 and page.current.body == "του Νίκου"
    assert revision_count() == 2


def test_revert_brings_back_old_text_as_a_new_revision(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Ωράριο", "σωστό")
    save(maria, page, "λάθος")
    services.revert_page(maria, page, 1)
    db.session.commit()
    assert page.revision == 3
    assert page.current.body == "σωστό"
    assert re.search(r"\b1\b", page.current.summary)
    assert [r.body for r in page.revisions] == ["σωστό", "λάθος", "σωστό"]


def test_revert_to_current_or_missing_revision_is_refused(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Ωράριο", "σωστό")
    with pytest.raises(Invalid):
        services.revert_page(maria, page, 1)
    with pytest.raises(NotFound):
        services.revert_page(maria, page, 7)
    db.session.rollback()
    assert revision_count() == 1


# Rename, links and backlinks -----------------------------------------------------------------

def test_rename_leaves_a_redirect_and_links_keep_resolving(make_user, make_page):
    maria = make_user("maria", role="editor")
    target = make_page(maria, "Άδειες", "Κανόνες αδειών.")
    source = make_page(maria, "Οδηγός", "Δες [[Άδειες]] και [[Ανύπαρκτη]].")
    assert "wikilink missing" not in link_classes(source.current.html, "/wiki/")
    assert "missing" in link_classes(source.current.html, "/pages/new")

    services.rename_page(maria, target, "Άδειες υπαλλήλων")
    db.session.commit()

    assert target.slug == "αδειες-υπαλληλων"
    assert target.revision == 2 and target.current.title == "Άδειες υπαλλήλων"
    found, redirected_from = services.get_page("αδειες", maria)
    assert found.id == target.id and redirected_from == "αδειες"
    db.session.refresh(source.current)
    html = source.current.html
    assert quote("αδειες-υπαλληλων") in html
    assert "missing" not in link_classes(html, quote("αδειες-υπαλληλων"))


def test_backlinks_include_links_by_old_and_new_title(make_user, make_page):
    maria = make_user("maria", role="editor")
    target = make_page(maria, "Άδειες", "…")
    make_page(maria, "Οδηγός", "Δες [[Άδειες]].")
    make_page(maria, "Άσχετο", "Τίποτα εδώ.")
    assert [p.title for p in services.backlinks(target, maria)] == ["Οδηγός"]

    services.rename_page(maria, target, "Κανονισμός αδειών")
    db.session.commit()
    make_page(maria, "Εγχειρίδιο", "Δες [[Κανονισμός αδειών|τον κανονισμό]].")
    assert [p.title for p in services.backlinks(target, maria)] == ["Εγχειρίδιο", "Οδηγός"]


def test_rename_back_to_a_former_title(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Άδειες", "…")
    services.rename_page(maria, page, "Κανονισμός")
    services.rename_page(maria, page, "Άδειες")
    db.session.commit()
    assert page.slug == "αδειες"
    assert services.get_page("κανονισμος", maria) == (page, "κανονισμος")
    assert services.get_page("αδειες", maria) == (page, None)


def test_former_title_of_another_page_cannot_be_taken(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Άδειες", "…")
    services.rename_page(maria, page, "Κανονισμός")
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        make_page(maria, "ΑΔΕΙΕΣ", "νέα")
    db.session.rollback()
    assert caught.value.extra["url"] == services.page_path("κανονισμος")
    assert db.session.scalar(select(func.count(Page.id))) == 1


def test_rename_refuses_same_title_and_taken_title(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Άδειες", "…")
    make_page(maria, "Ωράριο", "…")
    with pytest.raises(Invalid):
        services.rename_page(maria, page, "  Άδειες ")
    with pytest.raises(Conflict):
        services.rename_page(maria, page, "ΩΡΑΡΙΟ")
    db.session.rollback()
    page = Page.by_slug("αδειες")
    assert page.title == "Άδειες" and page.revision == 1
    assert db.session.scalar(select(func.count()).select_from(Redirect)) == 0


def test_new_page_turns_missing_links_into_real_ones(make_user, make_page):
    maria = make_user("maria", role="editor")
    source = make_page(maria, "Οδηγός", "Δες [[Προμήθειες]].")
    assert "missing" in link_classes(source.current.html, "/pages/new")
    make_page(maria, "Προμήθειες", "…")
    db.session.refresh(source.current)
    assert "missing" not in link_classes(source.current.html, "/wiki/")


# Delete and restore --------------------------------------------------------------------------

def test_delete_hides_page_and_only_admin_restores(make_user, make_page):
    maria, admin = make_user("maria", role="editor"), make_user("root", role="admin")
    page = make_page(maria, "Παλιό", "…", visibility="public")
    source = make_page(maria, "Οδηγός", "Δες [[Παλιό]].")
    services.delete_page(maria, page)
    db.session.commit()

    for who in (None, maria):
        with pytest.raises(NotFound):
            services.get_page("παλιο", who)
    with pytest.raises(NotFound):
        services.get_page("παλιο", maria, include_deleted=True)
    assert services.get_page("παλιο", admin, include_deleted=True)[0].id == page.id
    assert "Παλιό" not in [p.title for p in services.list_pages(admin, 1, 50)[0]]
    assert [p.title for p in services.deleted_pages(admin)] == ["Παλιό"]
    db.session.refresh(source.current)
    assert "missing" in link_classes(source.current.html, "/pages/new")
    with pytest.raises(Forbidden):
        services.deleted_pages(maria)

    with pytest.raises(Forbidden):
        services.restore_page(maria, page)
    db.session.rollback()
    services.restore_page(admin, page)
    db.session.commit()
    assert services.get_page("παλιο", None)[0].id == page.id
    db.session.refresh(source.current)
    assert "missing" not in link_classes(source.current.html, "/wiki/")


def test_only_author_or_admin_deletes(make_user, make_page):
    maria, nikos = make_user("maria", role="editor"), make_user("nikos", role="editor")
    page = make_page(maria, "Ωράριο", "…")
    with pytest.raises(Forbidden):
        services.delete_page(nikos, page)
    with pytest.raises(Unauthorized):
        services.delete_page(None, page)
    db.session.rollback()
    assert Page.by_slug("ωραριο").deleted_at is None


def test_deleted_page_cannot_be_edited_and_blocks_its_title(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Ωράριο", "…")
    services.delete_page(maria, page)
    db.session.commit()
    with pytest.raises(Conflict):
        save(maria, page, "νέο")
    with pytest.raises(Conflict):
        make_page(maria, "Ωράριο", "ξανά")
    db.session.rollback()
    assert revision_count() == 1


# Recent changes ------------------------------------------------------------------------------

def test_recent_changes_filter_by_tag_and_language(make_user, make_page):
    maria = make_user("maria", role="editor")
    a = make_page(maria, "Προσλήψεις", "…", tags=["Προσωπικό"])
    make_page(maria, "Hiring", "…", language="en", tags=["προσωπικό"])
    make_page(maria, "Προϋπολογισμός", "…", tags=["οικονομικά"])
    save(maria, a, "αλλαγή")

    revisions, total = services.recent_changes(maria, 1, 50, tag="  ΠΡΟΣΩΠΙΚΌ ")
    assert total == 3
    assert [(r.page.title, r.number) for r in revisions] == [("Προσλήψεις", 2), ("Hiring", 1), ("Προσλήψεις", 1)]

    revisions, total = services.recent_changes(maria, 1, 50, language="en")
    assert (total, [r.page.title for r in revisions]) == (1, ["Hiring"])

    revisions, total = services.recent_changes(maria, 1, 50, tag="προσωπικό", language="el")
    assert total == 2 and {r.page.title for r in revisions} == {"Προσλήψεις"}

    assert services.recent_changes(maria, 1, 50, tag="ανύπαρκτο") == ([], 0)


def test_recent_changes_paginate_newest_first_without_gaps(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Σελίδα", "0")
    for n in range(1, 5):
        save(maria, page, str(n))
    seen = []
    for number in (1, 2, 3):
        revisions, total = services.recent_changes(maria, number, 2)
        assert total == 5
        seen += [r.number for r in revisions]
    assert seen == [5, 4, 3, 2, 1]
    assert services.recent_changes(maria, 4, 2) == ([], 5)


# Visibility ------------------------------------------------------------------------------------

@pytest.fixture
def mixed_pages(make_user, make_page):
    maria, nikos = make_user("maria", role="editor"), make_user("nikos", role="editor")
    make_page(maria, "Δημόσια", "[[Ιδιωτική]]", visibility="public", tags=["κοινό"])
    make_page(maria, "Εσωτερική", "[[Δημόσια]]", visibility="internal", tags=["εσωτερικό"])
    make_page(maria, "Δικτύου", "[[Δημόσια]]", visibility="network")
    make_page(maria, "Ιδιωτική", "[[Δημόσια]]", visibility="private", licence="all-rights-reserved",
              tags=["μυστικό"])
    deleted = make_page(maria, "Διαγραμμένη", "[[Δημόσια]]", visibility="public")
    services.delete_page(maria, deleted)
    db.session.commit()
    return maria, nikos


def titles(pages):
    return sorted(p.title for p in pages)


def test_anonymous_sees_only_public(mixed_pages):
    pages, total = services.list_pages(None, 1, 50)
    assert (titles(pages), total) == (["Δημόσια"], 1)
    revisions, total = services.recent_changes(None, 1, 50)
    assert ([r.page.title for r in revisions], total) == (["Δημόσια"], 1)
    for slug in ("εσωτερικη", "δικτυου", "ιδιωτικη", "διαγραμμενη"):
        with pytest.raises(NotFound):
            services.get_page(slug, None)
    public, _ = services.get_page("δημοσια", None)
    assert services.backlinks(public, None) == []


def test_private_page_only_for_its_author(mixed_pages):
    maria, nikos = mixed_pages
    pages, total = services.list_pages(nikos, 1, 50)
    assert (titles(pages), total) == (["Δημόσια", "Δικτύου", "Εσωτερική"], 3)
    revisions, total = services.recent_changes(nikos, 1, 50)
    assert total == 3 and "Ιδιωτική" not in {r.page.title for r in revisions}
    with pytest.raises(NotFound):
        services.get_page("ιδιωτικη", nikos)
    public, _ = services.get_page("δημοσια", nikos)
    assert titles(services.backlinks(public, nikos)) == ["Δικτύου", "Εσωτερική"]
    with pytest.raises(NotFound):
        save(nikos, Page.by_slug("ιδιωτικη"), "του Νίκου")

    pages, total = services.list_pages(maria, 1, 50)
    assert (titles(pages), total) == (["Δημόσια", "Δικτύου", "Εσωτερική", "Ιδιωτική"], 4)
    assert services.recent_changes(maria, 1, 50)[1] == 4
    assert titles(services.backlinks(public, maria)) == ["Δικτύου", "Εσωτερική", "Ιδιωτική"]


def test_counts_match_pagination(mixed_pages):
    maria, _ = mixed_pages
    first, total = services.list_pages(maria, 1, 3)
    second, total_again = services.list_pages(maria, 2, 3)
    assert total == total_again == 4
    assert len(first) == 3 and len(second) == 1
    assert not {p.id for p in first} & {p.id for p in second}


def test_tag_list_never_shows_tags_of_hidden_pages(mixed_pages):
    maria, nikos = mixed_pages
    assert services.all_tags(None) == ["κοινό"]
    assert services.all_tags(nikos) == ["εσωτερικό", "κοινό"]
    assert services.all_tags(maria) == ["εσωτερικό", "κοινό", "μυστικό"]


# Validation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("title", ["Δήμος", "ΔΗΜΟΣ", "Δημος", "δήμος ", "ΔΉΜΟΣ"])
def test_greek_titles_differing_in_case_and_accents_collide(make_user, make_page, title):
    maria = make_user("maria", role="editor")
    first = make_page(maria, "Δήμος", "…")
    with pytest.raises(Conflict) as caught:
        make_page(maria, title, "άλλη")
    db.session.rollback()
    assert caught.value.status == 409
    assert caught.value.extra["url"] == services.page_path(first.slug)
    assert db.session.scalar(select(func.count(Page.id))) == 1


def test_final_sigma_and_accents_in_slugs(make_user, make_page):
    maria = make_user("maria", role="editor")
    assert make_page(maria, "ΔΗΜΟΣ ΑΘΗΝΑΙΩΝ", "…").slug == "δημος-αθηναιων"
    assert make_page(maria, "Προϋπολογισμός 2025", "…").slug == "προυπολογισμος-2025"


def test_tags_are_normalised(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Σελίδα", "…", tags=["  Δήμος   Αθηνών ", "δήμος αθηνών", "ΠΡΟΣΩΠΙΚΟ", "", "   "])
    assert page.tag_names == ["δήμος αθηνών", "προσωπικο"]
    other = make_page(maria, "Άλλη", "…", tags=["Προσωπικο"])
    assert other.tags[0].id == page.tags[1].id  # one tag row, shared


@pytest.mark.parametrize("tags", [["x" * 51], [f"t{n}" for n in range(21)], [3]])
def test_bad_tags_are_refused(make_user, tags):
    maria = make_user("maria", role="editor")
    with pytest.raises(Invalid) as caught:
        services.create_page(maria, PageInput("Σελίδα", "…", tags=tags), LIMIT)
    assert caught.value.extra["field"] == "tags"


def test_public_page_needs_an_open_licence(make_user, make_page):
    maria = make_user("maria", role="editor")
    with pytest.raises(Invalid) as caught:
        services.create_page(maria, PageInput("Σελίδα", "…", visibility="public", licence="all-rights-reserved"),
                             LIMIT)
    assert caught.value.extra["field"] == "licence"
    db.session.rollback()
    page = make_page(maria, "Σελίδα", "…", visibility="internal", licence="all-rights-reserved")
    with pytest.raises(Invalid):
        save(maria, page, "…", visibility="public")
    db.session.rollback()
    assert Page.by_slug("σελιδα").visibility == "internal"


INVALID_FIELDS = [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "!!!"}, "title"),
    ({"language": "fr"}, "language"),
    ({"visibility": "secret"}, "visibility"),
    ({"licence": "GPL"}, "licence"),
    ({"summary": "x" * 501}, "summary"),
    ({"title": "Τίτλος\x00"}, "title"),
    ({"body": "α\x00β"}, "body"),
    ({"body": "\ud800"}, "body"),
    ({"tags": ["α\x00"]}, "tags"),
]


def test_invalid_fields_are_named(make_user, subtests):
    maria = make_user("maria", role="editor")
    for fields, field in INVALID_FIELDS:
        with subtests.test(fields=repr(fields)[:60]):
            with pytest.raises(Invalid) as caught:
                services.create_page(maria, PageInput(**{"title": "Σελίδα", "body": "…", **fields}), LIMIT)
            assert caught.value.extra["field"] == field
            assert caught.value.message.endswith(".")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Page.id))) == 0


def test_line_endings_are_stored_as_newlines(make_user, make_page):
    maria = make_user("maria", role="editor")
    page = make_page(maria, "Σελίδα", "α\r\nβ\rγ\n")
    assert page.current.body == "α\nβ\nγ\n"
    save(maria, page, "α\r\nβ\r\nγ\r\nδ")
    assert page.current.body == "α\nβ\nγ\nδ"


def test_addresses_that_cannot_exist_are_not_found(make_user, make_page):
    maria = make_user("maria", role="editor")
    make_page(maria, "Σελίδα", "…", tags=["ετικέτα"])
    for slug in ("σελιδα\x00", "\ud800"):
        with pytest.raises(NotFound):
            services.get_page(slug, maria)
    with pytest.raises(Invalid):
        services.recent_changes(maria, 1, 10, tag="ετικέτα\x00")
    with pytest.raises(Invalid):
        services.list_pages(maria, 10**12, 10)


def test_title_of_exactly_200_characters_is_fine(make_user, make_page):
    maria = make_user("maria", role="editor")
    assert len(make_page(maria, "α" * 200, "…").title) == 200


def test_body_over_the_limit_is_too_large(make_user):
    maria = make_user("maria", role="editor")
    with pytest.raises(TooLarge):
        services.create_page(maria, PageInput("Σελίδα", "α" * (LIMIT // 2 + 1)), LIMIT)  # 2 bytes each in UTF-8
    services.create_page(maria, PageInput("Σελίδα", "a" * LIMIT), LIMIT)


def test_preview_renders_without_saving(make_user, make_page):
    maria = make_user("maria", role="editor")
    make_page(maria, "Υπάρχει", "…")
    html = services.preview("**έντονα** [[Υπάρχει]] [[Δεν υπάρχει]]")
    assert "<strong>έντονα</strong>" in html
    assert "missing" not in link_classes(html, "/wiki/")
    assert "missing" in link_classes(html, "/pages/new")
    assert revision_count() == 1


def test_a_taken_title_does_not_reveal_someone_elses_private_page(app, make_user, make_page):
    owner, other = make_user("owner"), make_user("other")
    make_page(owner, "Μισθοδοσία Ιουνίου", "Προσωπικές σημειώσεις.", visibility="private")
    with pytest.raises(Conflict) as refused:
        services.create_page(other, PageInput(title="ΜΙΣΘΟΔΟΣΙΑ ιουνιου", body="x"), app.config["KNET"]["max_body_bytes"])
    assert "url" not in refused.value.extra


@pytest.mark.parametrize("language", ["el", "en"])
def test_summaries_the_node_writes_are_in_the_node_language(app, make_user, make_page, compiled_catalogues, language):
    app.config["KNET"]["default_language"] = language
    editor = make_user("eleni", role="editor")
    page = make_page(editor, "Ωράριο", "Πρώτο.")
    save(editor, page, "Δεύτερο.")
    services.revert_page(editor, page, 1)
    services.rename_page(editor, page, "Ωράριο κοινού")
    db.session.commit()
    reverted, renamed = [r.summary for r in page.revisions[-2:]]
    if language == "en":
        assert (reverted, renamed) == ("Reverted to revision 1", "Renamed from “Ωράριο”")
    else:
        assert "1" in reverted and "Reverted" not in reverted
        assert "Ωράριο" in renamed and "Renamed" not in renamed
