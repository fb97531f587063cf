"""Administrators manage accounts: roles of local accounts, deactivation, the audit log."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from auth import admin
from auth.models import User
from knet.db import db
from knet.errors import Forbidden, Invalid
from tests.conftest import PASSWORD
from tests.forms import csrf_token


def test_only_administrators_reach_the_accounts(app, make_user, sign_in):
    client = sign_in(make_user("maria", role="moderator"))
    for path in ("/admin/people", "/admin/people/maria", "/admin/audit"):
        response = client.get(path)
        assert response.status_code == 403, path


def test_an_administrator_sets_the_roles_of_a_local_account(app, make_user, sign_in):
    make_user("nikos", role="reader")
    client = sign_in(make_user("root", role="admin"))
    page = client.get("/admin/people/nikos").get_data(as_text=True)
    response = client.post("/admin/people/nikos", data={"roles": ["editor", "trainer"],
                                                        "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert User.by_username("nikos").roles == ("reader", "editor", "trainer")
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "roles_changed" in log and "reader -&gt; editor trainer by root" in log


def test_directory_roles_cannot_be_set_here(app, make_user):
    root = make_user("root", role="admin")
    person = User(username="anna", source="directory")
    db.session.add(person)
    db.session.flush()
    with pytest.raises(Invalid) as refused:
        admin.set_local_roles(root, person, ["editor"])
    with force_locale("en"):
        assert "through the directory" in refused.value.message


def test_an_administrator_cannot_lock_themselves_out(app, make_user):
    root = make_user("root", role="admin")
    with pytest.raises(Invalid):
        admin.set_local_roles(root, root, ["editor"])
    with pytest.raises(Invalid):
        admin.set_active(root, root, False)
    with pytest.raises(Forbidden):
        admin.set_active(make_user("maria", role="editor"), root, False)


def test_deactivating_ends_sessions_and_reactivating_lets_them_back(app, make_user, sign_in):
    maria = make_user("maria")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "maria", "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert client.get("/api/v1/me").status_code == 200
    root = make_user("root", role="admin")
    admin_client = app.test_client()
    page = admin_client.get("/login").get_data(as_text=True)
    admin_client.post("/login", data={"username": "root", "password": PASSWORD, "csrf_token": csrf_token(page)})
    form = admin_client.get("/admin/people/maria").get_data(as_text=True)
    assert admin_client.post("/admin/people/maria", data={"active": "0", "csrf_token": csrf_token(form)}).status_code == 302
    assert client.get("/api/v1/me").status_code == 401
    assert not User.by_username("maria").active
    form = admin_client.get("/admin/people/maria").get_data(as_text=True)
    response = admin_client.post("/admin/people/maria", data={"active": "1", "csrf_token": csrf_token(form)})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert User.by_username("maria").active


def test_the_account_list_finds_by_name(app, make_user, sign_in):
    make_user("eleni")
    client = sign_in(make_user("root", role="admin"))
    text = client.get("/admin/people?q=ele").get_data(as_text=True)
    assert "eleni" in text and ">root<" not in text
    assert client.get("/admin/people?q=%25%5F&page=999999999").status_code == 200
