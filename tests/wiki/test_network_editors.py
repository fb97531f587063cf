"""Pages open to the network's editors: staff of peer municipalities, signed in here through their home node
(visitors), edit the text of a network or public page whose authors allowed it, and nothing else."""
from __future__ import annotations

import pytest

from auth.routes import EPOCH
from auth.sign_on import PeerNode
from auth.visitors import visitor_for
from knet.db import db
from knet.errors import Forbidden, Invalid, NotFound
from tests.forms import csrf_token
from wiki import services
from wiki.services import PageInput

HOME = PeerNode("http://127.0.0.1:5999", "Δήμος Αθηναίων", "active")


@pytest.fixture
def visitor(app):
    user = visitor_for(HOME, {"sub": "7", "preferred_username": "maria", "name": "Μαρία Παπαδοπούλου"})
    db.session.commit()
    return user


@pytest.fixture
def pages(make_user, make_page):
    author = make_user("nikos")
    return {
        "open": make_page(author, "Οδηγός ανακύκλωσης", "Μπλε κάδοι.", visibility="network", network_editors=True),
        "closed": make_page(author, "Κανονισμός προμηθειών", "Κείμενο.", visibility="network"),
        "internal": make_page(author, "Εσωτερικές οδηγίες", "Κείμενο.", visibility="internal"),
    }


def edit(actor, page, **changes):
    data = PageInput(changes.get("title", page.title), changes.get("body", page.current.body), page.language,
                     page.tag_names, changes.get("visibility", page.visibility), page.licence,
                     network_editors=changes.get("network_editors", page.network_editors))
    return services.update_page(actor, page, data, page.revision, 100_000)


def test_a_visitor_edits_the_text_of_a_page_open_to_the_network_and_not_its_settings(app, visitor, pages):
    page = pages["open"]
    edit(visitor, page, body="Μπλε κάδοι για χαρτί, καφέ για οργανικά.", visibility="internal", network_editors=False)
    db.session.commit()
    assert page.current.body == "Μπλε κάδοι για χαρτί, καφέ για οργανικά." and page.current.author == visitor
    assert (page.visibility, page.network_editors) == ("network", True)  # who may read and edit stays
    assert page.current.author.name == "Μαρία Παπαδοπούλου (Δήμος Αθηναίων)"


def test_a_visitor_may_not_edit_a_page_not_open_to_them_nor_rename_revert_or_delete(app, visitor, pages):
    with pytest.raises(Forbidden) as refused:
        edit(visitor, pages["closed"], body="Άλλο κείμενο.")
    assert refused.value.extra["reason"] == "visitor"
    with pytest.raises(NotFound):
        edit(visitor, pages["internal"], body="Άλλο κείμενο.")
    for action in (lambda page: services.rename_page(visitor, page, "Νέος τίτλος"),
                   lambda page: services.revert_page(visitor, page, 1),
                   lambda page: services.delete_page(visitor, page)):
        with pytest.raises(Forbidden):
            action(pages["open"])


def test_only_pages_other_municipalities_can_read_can_be_opened_to_their_editors(app, make_user, make_page, pages):
    with pytest.raises(Invalid) as refused:
        make_page(make_user("eleni"), "Ιδιωτικό", "Κείμενο.", visibility="internal", network_editors=True)
    assert refused.value.extra["field"] == "network_editors"
    with pytest.raises(Invalid):
        edit(pages["open"].author, pages["open"], visibility="internal")  # narrowed while still open


def test_the_edit_form_for_a_visitor_has_the_text_but_not_the_settings(app, client, visitor, pages):
    with client.session_transaction() as session:
        session.update({"_user_id": str(visitor.id), "_fresh": True, EPOCH: visitor.session_epoch})
    page = pages["open"]
    form = client.get(f"/wiki/{page.slug}/edit")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and 'name="body"' in html
    assert 'name="visibility"' not in html and 'name="network_editors"' not in html
    saved = client.post(f"/wiki/{page.slug}/edit", data={
        "csrf_token": csrf_token(html), "title": page.title, "body": "Και γυαλί στους μπλε κάδους.",
        "language": "el", "tags": "", "summary": "γυαλί", "base_revision": page.revision, "save": "1"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert page.current.body == "Και γυαλί στους μπλε κάδους."
    assert client.get(f"/wiki/{pages['closed'].slug}/edit").status_code == 403


def test_an_editor_opens_a_page_to_the_network_with_the_form(app, client, sign_in, make_user, pages):
    author = make_user("eleni")
    sign_in(author)
    page = pages["closed"]
    html = client.get(f"/wiki/{page.slug}/edit").get_data(as_text=True)
    assert 'name="network_editors"' in html
    client.post(f"/wiki/{page.slug}/edit", data={
        "csrf_token": csrf_token(html), "title": page.title, "body": page.current.body, "language": "el",
        "visibility": "network", "licence": page.licence, "network_editors": "y", "tags": "", "summary": "",
        "base_revision": page.revision, "save": "1"})
    db.session.expire_all()
    assert page.network_editors is True
