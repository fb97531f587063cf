"""What protects sign-in: limits on failures, escaping for the directory, sessions, and where sign-in leads."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from auth import signin
from auth.ldap import BadCredentials, escape_filter_value
from auth.models import AuditEvent, User
from auth.services import create_local_user
from knet.app import create_app
from knet.db import db
from tests.conftest import post_sign_in
from tests.conftest import PASSWORD, IsolatedClient
from tests.forms import csrf_token


def me(client) -> dict | None:
    response = client.get("/api/v1/me")
    return response.get_json() if response.status_code == 200 else None


def count(action: str, username: str | None = None) -> int:
    query = select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    if username is not None:
        query = query.where(AuditEvent.username == username)
    return db.session.scalar(query)


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def sign_in_from(client, username, password, address="192.0.2.1"):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       **from_address(address))


# -- limits ---------------------------------------------------------------------------------------

def test_ten_failures_lock_the_name_for_a_while_not_for_ever(app, client, make_user):
    make_user("maria", role="editor")
    for _ in range(signin.PER_USERNAME):
        assert sign_in_from(client, "maria", "wrong password!").status_code == 401
    response = sign_in_from(client, "Maria ", PASSWORD)  # case and spaces do not make another name
    assert response.status_code == 429
    assert "15" in response.get_data(as_text=True) and int(response.headers["Retry-After"]) <= 15 * 60
    assert me(client) is None
    assert count("sign_in_throttled", "maria") == 1
    assert count("sign_in_failed", "maria") == signin.PER_USERNAME  # refused attempts are not counted

    # Fifteen minutes later the name is free again.
    db.session.execute(update(AuditEvent).values(at=AuditEvent.at - timedelta(minutes=16)))
    db.session.commit()
    assert sign_in_from(client, "maria", PASSWORD).status_code == 302


def test_a_browser_that_signed_in_before_is_not_locked_out_by_someone_else(app, make_user):
    make_user("maria", role="editor")
    own = app.test_client()
    assert sign_in_from(own, "maria", PASSWORD, "198.51.100.7").status_code == 302
    own.post("/sign-out")
    attacker = app.test_client()
    for _ in range(signin.PER_USERNAME):
        sign_in_from(attacker, "maria", "guess guess guess", "203.0.113.9")
    assert sign_in_from(attacker, "maria", PASSWORD, "203.0.113.9").status_code == 429
    # Her own browser still gets in...
    assert sign_in_from(own, "maria", PASSWORD, "198.51.100.7").status_code == 302
    own.post("/sign-out")
    # ...but guessing from her browser is limited too.
    for _ in range(signin.PER_USERNAME):
        sign_in_from(own, "maria", "typo typo typo", "198.51.100.7")
    assert sign_in_from(own, "maria", PASSWORD, "198.51.100.7").status_code == 429


def test_many_failures_from_one_address_lock_that_address_only(app, make_user):
    make_user("nikos")
    client = app.test_client()
    for number in range(signin.PER_ADDRESS):
        sign_in_from(client, f"name{number}", "whatever password", "203.0.113.50")
    assert sign_in_from(client, "nikos", PASSWORD, "203.0.113.50").status_code == 429
    assert sign_in_from(app.test_client(), "nikos", PASSWORD, "203.0.113.51").status_code == 302


# -- what the directory receives ------------------------------------------------------------------

def _unescape(value: str) -> bytes:
    return re.sub(rb"\\([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), value.encode("utf-8"))


def test_filter_escaping_round_trips_the_rfc_4515_examples(corpus):
    examples = json.loads((corpus / "ldap" / "rfc4515_escape_examples.json").read_text(encoding="utf-8"))
    checked = 0
    for example in examples:
        value = example["filter"].split("=", 1)[1][:-1]
        if "raw_value" in example:
            raw = example["raw_value"]
        elif "raw_value_hex" in example:
            raw = bytes.fromhex(example["raw_value_hex"]).decode("latin-1")
        else:  # a substring filter around a literal asterisk
            assert f"(cn=*{escape_filter_value(example['raw_value_contains'])}*)".lower() == example["filter"].lower()
            continue
        escaped = escape_filter_value(raw)
        assert _unescape(escaped) == _unescape(value) == raw.encode("utf-8"), example
        assert not set("()*\\\x00") & set(re.sub(r"\\[0-9a-fA-F]{2}", "", escaped))
        checked += 1
    assert checked == 4


def _payloads(corpus) -> list[str]:
    lines = (corpus / "ldap" / "ldap_injection_payloads.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line]


def test_injection_payloads_never_sign_anyone_in(athens_node, athens_directory, corpus, monkeypatch):
    monkeypatch.setattr(signin, "PER_USERNAME", 10_000)  # every attempt must reach the directory
    monkeypatch.setattr(signin, "PER_ADDRESS", 10_000)
    maria = athens_directory.accounts["maria"]
    payloads = _payloads(corpus)
    assert len(payloads) >= 30
    client = athens_node.test_client()
    for number, payload in enumerate(payloads):
        for username, password in ((payload, maria.password), (payload, payload), ("maria", payload)):
            response = sign_in_from(client, username, password, f"10.0.{number}.1")
            assert response.status_code in (400, 401), (username, password, response.status_code)
            assert me(client) is None, (username, password)
    logged = count("sign_in_failed")
    assert logged == 3 * len(payloads)
    # Straight at the directory: a payload as a name finds nobody (a * would find everyone unescaped).
    directory = athens_node.extensions["knet.directory"]
    for payload in payloads:
        if payload.strip():
            with pytest.raises(BadCredentials, match="no entry|empty|NUL"):
                directory.authenticate(payload, maria.password)
    assert User.by_username("maria") is None  # nobody was created by any of it


# -- sessions -------------------------------------------------------------------------------------

def test_signing_in_starts_a_new_session_with_safe_cookies(app, client, make_user):
    make_user("maria")
    before = client.get("/login")
    token_before = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', before.get_data(as_text=True)).group(1)
    response = post_sign_in(client, "maria", PASSWORD)
    name = app.config["SESSION_COOKIE_NAME"]
    assert name.startswith("knet_session")  # a name of the node's own (nodes on one host differ by port)
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{name}="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    after = client.get("/pages/new").get_data(as_text=True)
    token_after = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', after).group(1)
    assert token_after != token_before  # nothing of the anonymous session survives


def test_cookies_are_secure_on_an_https_node(instance, monkeypatch):
    monkeypatch.setenv("KNET_URL", "https://knet.example.gr")
    app = create_app(instance, overrides={"TESTING": True})
    app.test_client_class = IsolatedClient
    with app.app_context():
        create_local_user("maria", PASSWORD)
        db.session.commit()
        response = post_sign_in(app.test_client(), "maria", PASSWORD, **{"X-Forwarded-Proto": "https"})
        cookies = response.headers.getlist("Set-Cookie")
        assert cookies and all("Secure" in cookie and "HttpOnly" in cookie for cookie in cookies)
        db.session.remove()
        db.engine.dispose()


def test_sign_out_everywhere_ends_every_session(app, make_user):
    make_user("maria")
    phone, desk = app.test_client(), app.test_client()
    post_sign_in(phone, "maria", PASSWORD)
    post_sign_in(desk, "maria", PASSWORD)
    assert me(phone) and me(desk)
    token = csrf_token(desk.get("/pages/new").get_data(as_text=True))
    assert desk.post("/sign-out-everywhere", data={"csrf_token": token}).status_code == 302
    assert me(phone) is None and me(desk) is None
    assert post_sign_in(phone, "maria", PASSWORD).status_code == 302 and me(phone)
    assert count("sign_out_everywhere", "maria") == 1


def test_sign_out_everywhere_needs_the_csrf_token(app, make_user):
    make_user("maria")
    client = app.test_client()
    post_sign_in(client, "maria", PASSWORD)
    assert client.post("/sign-out-everywhere").status_code == 400
    assert me(client)


def test_a_deactivated_person_is_signed_out(app, make_user):
    maria = make_user("maria")
    client = app.test_client()
    post_sign_in(client, "maria", PASSWORD)
    db.session.get(User, maria.id).active = False
    db.session.commit()
    assert me(client) is None


@pytest.mark.parametrize("target", ["//evil.example/", "\\\\evil.example", "/\\evil.example", "https://evil.example/",
                                    "javascript:alert(1)", "/\t/evil.example", "evil.example", "http:/evil"])
def test_sign_in_leads_only_to_local_paths(app, make_user, target):
    make_user("maria")
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "maria", "password": PASSWORD, "csrf_token": token,
                                           "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_sign_in_goes_back_to_the_page_asked_for(app, make_user):
    make_user("maria")
    client = app.test_client()
    response = client.get("/pages/new")
    assert response.status_code == 302 and "next=" in response.headers["Location"]
    login = client.get(response.headers["Location"])
    html = login.get_data(as_text=True)
    next_value = re.search(r'name="next"[^>]*value="([^"]*)"', html).group(1)
    response = client.post("/login", data={"username": "maria", "password": PASSWORD, "next": next_value,
                                           "csrf_token": csrf_token(html)})
    assert response.headers["Location"] == "/pages/new"


def test_the_old_sign_in_address_leads_to_login(client):
    response = client.get("/sign-in?next=/pages/")
    assert response.status_code == 308 and response.headers["Location"] == "/login?next=/pages/"
