"""The wiki's HTML pages, driven like a browser: forms read from the page and posted with their CSRF token."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import func, select, text

from knet.db import db
from tests.conftest import PASSWORD
from wiki import services
from wiki.models import Link, Page, Redirect, Revision, Tag
from wiki.services import PageInput



class Form:
    def __init__(self, attrs: dict) -> None:
        self.action = attrs.get("action", "")
        self.method = (attrs.get("method") or "get").lower()
        self.id = attrs.get("id")
        self.fields: dict[str, str] = {}
        self.submits: dict[str, str] = {}
        self.textareas: set[str] = set()

    def data(self, button: str | None = None, **changes) -> dict[str, str]:
        """What a browser sends: textarea lines end in CR LF, and the pressed button is included."""
        values = {**self.fields, **changes}
        for name in self.textareas & set(values):
            values[name] = values[name].replace("\r\n", "\n").replace("\n", "\r\n")
        if button:
            values[button] = self.submits[button]
        return values


class PageReader(HTMLParser):
    """Forms (with the values a browser would send), links and elements of one HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[dict] = []
        self.elements: list[tuple[str, dict]] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self.textareas: dict[str, str] = {}
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attr_list):
        attrs = {key: value if value is not None else "" for key, value in attr_list}
        self.elements.append((tag, attrs))
        if tag == "form":
            self._form = Form(attrs)
            self.forms.append(self._form)
        elif tag == "a":
            self.links.append(attrs)
        form = self._owner(attrs)
        if form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind == "submit":
                form.submits[name] = attrs.get("value", "")
            elif kind in ("radio", "checkbox"):
                if "checked" in attrs:
                    form.fields[name] = attrs.get("value", "on")
            else:
                form.fields[name] = attrs.get("value", "")
        elif tag == "button" and name:
            form.submits[name] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            form.fields[name] = ""
            form.textareas.add(name)
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = attrs.get("value", "")
                form.fields.setdefault(self._select, self._first_option)
            if "selected" in attrs:
                form.fields[self._select] = attrs.get("value", "")

    def _owner(self, attrs: dict) -> Form | None:
        if attrs.get("form"):
            return next((f for f in self.forms if f.id == attrs["form"]), None)
        return self._form

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            if self._textarea and self._form is not None:
                # Browsers drop one newline right after <textarea>, and send lines ending in CR LF.
                value = self._form.fields[self._textarea].replace("\r\n", "\n")
                value = value[1:] if value.startswith("\n") else value
                self._form.fields[self._textarea] = self.textareas[self._textarea] = value
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form.fields[self._textarea] += data

    def form(self, action: str) -> Form:
        matches = [f for f in self.forms if urlsplit(f.action).path == action]
        assert matches, f"no form posts to {action}; forms: {[f.action for f in self.forms]}"
        return matches[0]

    def with_class(self, tag: str, cls: str) -> list[dict]:
        return [attrs for name, attrs in self.elements if name == tag and cls in attrs.get("class", "").split()]


def read(response) -> PageReader:
    return PageReader(response.get_data(as_text=True))


def submit(client, page_path: str, action: str, button: str | None = None, **changes):
    """Open a page, fill in its form that posts to `action`, and send it as a browser would."""
    response = client.get(page_path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return client.post(action, data=read(response).form(action).data(button, **changes))


def db_state() -> tuple:
    """What a refused request must leave as it was, read through a connection of its own."""
    with db.engine.connect() as conn:
        counts = tuple(conn.scalar(select(func.count()).select_from(table))
                       for table in (Page.__table__, Revision.__table__, Link.__table__, Redirect.__table__,
                                     Tag.__table__))
        pages = conn.execute(select(Page.slug, Page.title, Page.revision, Page.deleted_at).order_by(Page.id)).all()
        users = conn.execute(text("SELECT id, username, granted_roles FROM users ORDER BY id")).all()
    return counts, pages, users


def wiki(slug: str, suffix: str = "") -> str:
    return f"/wiki/{quote(slug)}{suffix}"


def sign_out(client):
    token = read(client.get("/")).form("/sign-out").fields["csrf_token"]
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302


@pytest.fixture
def maria(make_user):
    return make_user("maria", role="editor")


@pytest.fixture
def page(maria, make_page):
    return make_page(maria, "Άδειες προσωπικού", "Πρώτη γραμμή.\nΔεύτερη γραμμή.", tags=["προσωπικό"])


# Create, edit, preview ---------------------------------------------------------------------------

def test_create_through_the_form(client, sign_in, maria):
    sign_in(maria)
    response = submit(client, "/pages/new", "/pages/new", "save", title="Οδηγός  προσλήψεων",
                      body="# Βήματα\n\n**Πρώτα** η αίτηση.", tags="Προσωπικό, ΠΡΟΣΛΗΨΕΙΣ , ", summary="νέα")
    assert response.status_code == 302
    assert response.headers["Location"] == wiki("οδηγος-προσληψεων")
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200
    assert "<strong>Πρώτα</strong>" in shown.get_data(as_text=True)
    created = Page.by_slug("οδηγος-προσληψεων")
    assert (created.title, created.revision, created.author.username) == ("Οδηγός προσλήψεων", 1, "maria")
    assert created.tag_names == ["προσληψεις", "προσωπικό"]


def test_refused_create_keeps_the_text_and_saves_nothing(client, sign_in, maria, page):
    sign_in(maria)
    before = db_state()
    response = submit(client, "/pages/new", "/pages/new", "save", title="ΑΔΕΙΕΣ ΠΡΟΣΩΠΙΚΟΥ", body="Το κείμενό μου.")
    assert response.status_code == 409
    reader = read(response)
    assert reader.textareas["body"] == "Το κείμενό μου."
    assert any(link.get("href") == wiki(page.slug) for link in reader.links)
    response = submit(client, "/pages/new", "/pages/new", "save", title="", body="Κείμενο χωρίς τίτλο.")
    assert response.status_code == 400
    assert read(response).textareas["body"] == "Κείμενο χωρίς τίτλο."
    assert db_state() == before


def test_edit_through_the_form(client, sign_in, maria, page):
    sign_in(maria)
    response = submit(client, wiki(page.slug, "/edit"), wiki(page.slug, "/edit"), "save",
                      body="Νέο κείμενο.", summary="ενημέρωση")
    assert response.status_code == 302
    assert response.headers["Location"] == wiki(page.slug)
    db.session.expire_all()
    saved = Page.by_slug(page.slug)
    assert (saved.revision, saved.current.body, saved.current.summary) == (2, "Νέο κείμενο.", "ενημέρωση")


def test_edit_form_keeps_the_page_tags(client, sign_in, maria, page):
    sign_in(maria)
    form = read(client.get(wiki(page.slug, "/edit"))).form(wiki(page.slug, "/edit"))
    assert form.fields["tags"] == "προσωπικό"
    assert client.post(wiki(page.slug, "/edit"), data=form.data("save", body="Νέο.")).status_code == 302
    db.session.expire_all()
    assert Page.by_slug(page.slug).tag_names == ["προσωπικό"]


def test_saving_the_form_unchanged_changes_no_line(client, sign_in, maria, page):
    sign_in(maria)
    response = submit(client, wiki(page.slug, "/edit"), wiki(page.slug, "/edit"), "save", summary="τίποτα")
    assert response.status_code == 302
    diff = client.get(wiki(page.slug, "/diff?from=1&to=2"))
    assert diff.status_code == 200
    assert not read(diff).with_class("tr", "diff-change"), "a browser's CR LF line endings show as changes"
    db.session.expire_all()
    assert Page.by_slug(page.slug).current.body == "Πρώτη γραμμή.\nΔεύτερη γραμμή."


def test_stale_edit_is_a_409_that_shows_the_change_and_keeps_my_text(client, sign_in, maria, make_user, page):
    sign_in(maria)
    edit = wiki(page.slug, "/edit")
    form = read(client.get(edit)).form(edit)
    assert form.fields["base_revision"] == "1"

    nikos = make_user("nikos", role="editor")  # saves while Μαρία is still typing
    services.update_page(nikos, page, PageInput(page.title, "Πρώτη γραμμή.\nΑλλαγή του Νίκου.",
                                                tags=page.tag_names), 1, 512 * 1024)
    db.session.commit()

    mine = "Πρώτη γραμμή.\nΔεύτερη γραμμή.\nΗ προσθήκη της Μαρίας."
    response = client.post(edit, data=form.data("save", body=mine))
    assert response.status_code == 409
    reader = read(response)
    assert reader.with_class("section", "conflict"), "the conflict is not explained"
    html = response.get_data(as_text=True)
    conflict_part = html[html.index('class="alert conflict"'):html.index("</section>")]
    assert "Νίκου" in conflict_part and "<ins>" in conflict_part
    assert reader.textareas["body"] == mine
    again = reader.form(edit)
    assert again.fields["base_revision"] == "2"
    db.session.expire_all()
    assert Page.by_slug(page.slug).current.body.endswith("Αλλαγή του Νίκου.")

    response = client.post(edit, data=again.data("save"))
    assert response.status_code == 302
    db.session.expire_all()
    saved = Page.by_slug(page.slug)
    assert (saved.revision, saved.current.body) == (3, mine)


def test_preview_shows_the_rendering_and_saves_nothing(client, sign_in, maria, page):
    sign_in(maria)
    before = db_state()
    response = submit(client, "/pages/new", "/pages/new", "preview", title="Δοκιμή", body="**έντονα** [[Άδειες προσωπικού]]")
    assert response.status_code == 200
    reader = read(response)
    assert "<strong>έντονα</strong>" in response.get_data(as_text=True)
    assert reader.textareas["body"] == "**έντονα** [[Άδειες προσωπικού]]"
    response = submit(client, wiki(page.slug, "/edit"), wiki(page.slug, "/edit"), "preview", body="_προσχέδιο_")
    assert response.status_code == 200
    assert "<em>προσχέδιο</em>" in response.get_data(as_text=True)
    assert db_state() == before


# History, diff, revert, rename, delete, restore ---------------------------------------------------

def test_history_and_diff(client, sign_in, maria, page):
    sign_in(maria)
    submit(client, wiki(page.slug, "/edit"), wiki(page.slug, "/edit"), "save",
           body="Πρώτη γραμμή.\nΔεύτερη αλλαγμένη γραμμή.", summary="διόρθωση")
    history = client.get(wiki(page.slug, "/history"))
    assert history.status_code == 200
    reader = read(history)
    revision_links = [link["href"] for link in reader.links if "/revisions/" in link.get("href", "")]
    assert revision_links == [wiki(page.slug, "/revisions/2"), wiki(page.slug, "/revisions/1")]
    assert "διόρθωση" in history.get_data(as_text=True)
    compare = reader.form(wiki(page.slug, "/diff"))
    assert (compare.fields["from"], compare.fields["to"]) == ("1", "2")

    diff = client.get(wiki(page.slug, "/diff"), query_string=compare.fields)
    assert diff.status_code == 200
    body = diff.get_data(as_text=True)
    assert "αλλαγμένη" in body[body.index("<ins>"):]
    assert read(diff).with_class("tr", "diff-change")
    old = client.get(revision_links[1])
    assert old.status_code == 200 and "Δεύτερη γραμμή." in old.get_data(as_text=True)


def test_revert_through_the_history_form(client, sign_in, maria, page):
    sign_in(maria)
    submit(client, wiki(page.slug, "/edit"), wiki(page.slug, "/edit"), "save", body="Λάθος.")
    reader = read(client.get(wiki(page.slug, "/history")))
    revert = next(f for f in reader.forms if f.id == "revert-1")
    assert urlsplit(revert.action).path == wiki(page.slug, "/revert")
    response = client.post(revert.action, data=revert.fields)
    assert response.status_code == 302
    db.session.expire_all()
    saved = Page.by_slug(page.slug)
    assert (saved.revision, saved.current.body) == (3, "Πρώτη γραμμή.\nΔεύτερη γραμμή.")


def test_rename_redirects_the_old_address_and_keeps_links(client, sign_in, maria, make_page, page):
    make_page(maria, "Οδηγός", "Δες [[Άδειες προσωπικού]].")
    sign_in(maria)
    response = submit(client, wiki(page.slug, "/rename"), wiki(page.slug, "/rename"), title="Κανονισμός αδειών")
    assert response.status_code == 302
    assert response.headers["Location"] == wiki("κανονισμος-αδειων")
    old = client.get(wiki("αδειες-προσωπικου"))
    assert old.status_code == 301
    assert old.headers["Location"] == wiki("κανονισμος-αδειων")
    assert client.get(old.headers["Location"]).status_code == 200
    guide = read(client.get(wiki("οδηγος")))
    wikilinks = guide.with_class("a", "wikilink")
    assert [(link["href"], "missing" in link["class"]) for link in wikilinks] == [(wiki("κανονισμος-αδειων"), False)]
    here = read(client.get(wiki("κανονισμος-αδειων", "/links-here")))
    assert wiki("οδηγος") in [link.get("href") for link in here.links]


def test_delete_and_admin_restore_through_forms(client, sign_in, maria, make_user, page):
    admin = make_user("root", role="admin")
    sign_in(maria)
    response = submit(client, wiki(page.slug), wiki(page.slug, "/delete"))
    assert response.status_code == 302
    assert client.get(wiki(page.slug)).status_code == 404
    assert client.get(wiki(page.slug, "/history")).status_code == 404
    assert client.get("/pages/deleted").status_code == 403
    sign_out(client)

    sign_in(admin)
    listed = read(client.get("/pages/deleted"))
    assert wiki(page.slug) in [link.get("href") for link in listed.links]
    shown = client.get(wiki(page.slug))
    assert shown.status_code == 200
    response = submit(client, wiki(page.slug), wiki(page.slug, "/restore"))
    assert response.status_code == 302
    sign_out(client)
    sign_in(maria)
    assert client.get(wiki(page.slug)).status_code == 200


def test_editor_cannot_restore(client, sign_in, maria, page):
    services.delete_page(maria, page)
    db.session.commit()
    sign_in(maria)
    token = read(client.get("/pages/new")).form("/pages/new").fields["csrf_token"]
    before = db_state()
    assert client.post(wiki(page.slug, "/restore"), data={"csrf_token": token}).status_code in (403, 404)
    assert db_state() == before


# CSRF and safe methods -------------------------------------------------------------------------------

def test_posts_without_csrf_token_are_refused(client, sign_in, maria, make_user, page):
    sign_in(maria)
    edit = read(client.get(wiki(page.slug, "/edit"))).form(wiki(page.slug, "/edit")).fields
    before = db_state()
    posts = [
        ("/pages/new", {"title": "Χωρίς token", "body": "…", "save": "1"}),
        (wiki(page.slug, "/edit"), {**edit, "body": "Χωρίς token", "save": "1"}),
        (wiki(page.slug, "/rename"), {"title": "Νέος τίτλος"}),
        (wiki(page.slug, "/revert"), {"revision": "1"}),
        (wiki(page.slug, "/delete"), {}),
        (wiki(page.slug, "/restore"), {}),
    ]
    for action, data in posts:
        for token in (None, "forged-token"):
            fields = {key: value for key, value in data.items() if key != "csrf_token"}
            if token:
                fields["csrf_token"] = token
            response = client.post(action, data=fields)
            assert response.status_code == 400, (action, token, response.status_code)
    assert db_state() == before


def test_get_never_changes_anything(client, sign_in, make_user, maria, page):
    admin = make_user("root", role="admin")
    deleted = services.create_page(maria, PageInput("Παλιά", "…"), 512 * 1024)
    services.delete_page(maria, deleted)
    db.session.commit()
    sign_in(admin)
    before = db_state()
    paths = ["/", "/pages/", "/pages/new", "/pages/new?title=Νέα", "/pages/recent", "/pages/recent?tag=προσωπικό",
             "/pages/deleted", wiki(page.slug), wiki(page.slug, "/edit"), wiki(page.slug, "/history"),
             wiki(page.slug, "/revisions/1"), wiki(page.slug, "/diff?from=1&to=1"), wiki(page.slug, "/rename"),
             wiki(page.slug, "/links-here"), wiki("παλια")]
    for path in paths:
        assert client.get(path).status_code == 200, path
    for path in (wiki(page.slug, "/delete"), wiki(page.slug, "/revert"), wiki("παλια", "/restore")):
        assert client.get(path).status_code == 405, path
    assert db_state() == before


# Links, visibility, errors ---------------------------------------------------------------------------

def test_links_to_missing_pages_offer_to_create_them(client, sign_in, maria, make_page):
    make_page(maria, "Οδηγός", "Δες [[Ανύπαρκτη σελίδα]] και [[Οδηγός|εδώ]].")
    sign_in(maria)
    links = read(client.get(wiki("οδηγος"))).with_class("a", "wikilink")
    missing = [link for link in links if "missing" in link["class"].split()]
    assert len(links) == 2 and len(missing) == 1
    href = missing[0]["href"]
    assert urlsplit(href).path == "/pages/new"
    assert parse_qs(urlsplit(href).query) == {"title": ["Ανύπαρκτη σελίδα"]}
    offered = read(client.get(href)).form("/pages/new")
    assert offered.fields["title"] == "Ανύπαρκτη σελίδα"

    assert client.post("/pages/new", data=offered.data("save", body="Τώρα υπάρχω.")).status_code == 302
    links = read(client.get(wiki("οδηγος"))).with_class("a", "wikilink")
    assert not [link for link in links if "missing" in link["class"].split()]


def test_anonymous_visitors_see_only_public_pages(client, maria, make_page, page):
    make_page(maria, "Δημόσια", "…", visibility="public", tags=["ανοιχτό"])
    make_page(maria, "Ιδιωτική", "…", visibility="private", licence="all-rights-reserved", tags=["μυστικό"])
    assert client.get(wiki(page.slug)).status_code == 404
    assert client.get(wiki("ιδιωτικη")).status_code == 404
    assert client.get(wiki("δημοσια")).status_code == 200
    index = client.get("/pages/").get_data(as_text=True)
    assert "Δημόσια" in index and "Άδειες προσωπικού" not in index and "Ιδιωτική" not in index
    recent = client.get("/pages/recent").get_data(as_text=True)
    assert "Άδειες προσωπικού" not in recent and "Ιδιωτική" not in recent
    assert "μυστικό" not in recent and "προσωπικό" not in recent
    assert client.get("/pages/new").status_code == 302  # to the sign-in page


def test_private_page_is_hidden_from_colleagues(client, sign_in, maria, make_user, make_page):
    make_page(maria, "Σημειώσεις", "…", visibility="private", licence="all-rights-reserved")
    sign_in(make_user("nikos", role="editor"))
    for suffix in ("", "/edit", "/history", "/rename", "/links-here"):
        assert client.get(wiki("σημειωσεις", suffix)).status_code == 404, suffix
    assert "Σημειώσεις" not in client.get("/pages/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/pages/?page=99999999999999999999999", "/pages/recent?page=9223372036854775808",
                                  "/wiki/ανύπαρκτη", "/wiki/x/revisions/999999999999999999999", "/wiki/a%00b",
                                  "/wiki/a%00b/history", "/pages/recent?tag=a%00"])
def test_odd_addresses_are_never_a_server_error(client, path):
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize("username", ["maria", "maria\x00", "μαρία", " maria "])
def test_sign_in_with_a_wrong_password_is_refused(client, maria, username):
    token = read(client.get("/login")).form("/login").fields["csrf_token"]
    response = client.post("/login", data={"username": username, "password": PASSWORD + "x", "csrf_token": token})
    assert response.status_code == 401
    assert client.get("/pages/new").status_code == 302
