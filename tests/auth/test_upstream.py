"""Signing in with a national public-sector OAuth2 provider ([upstream]): against a small provider the test
starts on 127.0.0.1 (tests/upstream_provider.py), whose userinfo carries a tax number knet must never keep."""
from __future__ import annotations

import re
import tomllib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import tomli_w
from sqlalchemy import select

from auth.models import User
from auth.provider import claims_of
from auth.services import create_local_user
from knet.app import create_app
from knet.config import ConfigError
from knet.db import db
from knet.search.indexing import close_index
from tests.conftest import IsolatedClient
from tests.upstream_provider import PEOPLE, Provider, Running

SECRETS = ("123456789", "987654321", "01017012345")


@pytest.fixture
def provider(instance):
    url = tomllib.loads((instance / "knet.toml").read_text(encoding="utf-8"))["url"]
    provider = Provider(redirect_uri=f"{url}/auth/upstream/callback")
    running = Running(provider)
    yield provider
    running.stop()


def configure(instance, **upstream) -> None:
    config = tomllib.loads((instance / "knet.toml").read_text(encoding="utf-8"))
    config["upstream"] = upstream
    (instance / "knet.toml").write_text(tomli_w.dumps(config), encoding="utf-8")


@pytest.fixture
def node(instance, provider):
    configure(instance, **provider.settings())
    app = create_app(instance, overrides={"TESTING": True})
    app.test_client_class = IsolatedClient
    with app.app_context():
        create_local_user("maria", "a long test password", role="editor", display_name="Μαρία Παπαδοπούλου")
        db.session.commit()
        yield app
        close_index(app)
        db.session.remove()
        db.engine.dispose()


def start(client, next_path: str = "/") -> str:
    """Press the sign-in page's button; the address at the provider it leads to."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/auth/upstream/start", data={"csrf_token": token, "next": next_path})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def at_provider(address: str, username: str, password: str = "taxis password") -> dict[str, str]:
    """Sign in at the provider as a citizen would; the answer it sends back to the node (the callback's query)."""
    args = {key: values[0] for key, values in parse_qs(urlsplit(address).query).items()}
    answer = requests.post(address.split("?")[0], data={**args, "username": username, "password": password},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    return {key: values[0] for key, values in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def callback(client, answer: dict):
    return client.get("/auth/upstream/callback", query_string=answer, headers={"Accept": "application/json"})


def everything_stored() -> str:
    """Every row of every table, as text."""
    rows = []
    for table in db.metadata.sorted_tables:
        rows += [repr(tuple(row)) for row in db.session.execute(select(table))]
    return "\n".join(rows)


def test_staff_sign_in_with_the_national_provider_and_nothing_of_it_is_kept(node, provider):
    client = node.test_client()
    assert "/auth/upstream/start" in client.get("/login").get_data(as_text=True)
    address = start(client, "/pages/new")
    assert address.startswith(f"{provider.url}/authorize?")
    asked = parse_qs(urlsplit(address).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["client_id"] == ["knet-dimos"]
    response = callback(client, at_provider(address, "citizen-maria"))
    assert response.status_code == 302 and response.headers["Location"] == "/pages/new"
    me = client.get("/api/v1/me").get_json()
    assert me["username"] == "maria" and me["name"] == "Μαρία Παπαδοπούλου"
    # PKCE went with the exchange; the secret went to the provider alone.
    assert provider.token_requests[0]["code_verifier"]
    # The tax and social security numbers the provider gave are nowhere: not in the database (the person,
    # the audit log, the flow), and so not in what a peer would learn either.
    stored = everything_stored()
    assert not [secret for secret in SECRETS if secret in stored]
    assert not [secret for secret in SECRETS if secret in repr(claims_of(User.by_username("maria")))]


def test_a_person_the_node_does_not_know_is_not_signed_in(node):
    client = node.test_client()
    response = callback(client, at_provider(start(client), "citizen-stranger"))
    assert response.status_code == 403 and response.get_json()["reason"] == "no_account"
    assert client.get("/api/v1/me").status_code == 401
    assert not [secret for secret in SECRETS if secret in everything_stored()]


def test_the_state_must_be_ours_and_is_good_once(node):
    client = node.test_client()
    assert callback(client, {"code": "x"}).get_json()["reason"] == "state_unknown"
    assert callback(client, {"code": "x", "state": "made-up"}).get_json()["reason"] == "state_unknown"
    answer = at_provider(start(client), "citizen-maria")
    assert callback(client, answer).status_code == 302
    replayed = node.test_client()
    assert callback(replayed, answer).get_json()["reason"] == "state_unknown"
    assert replayed.get("/api/v1/me").status_code == 401


def test_a_refusal_at_the_provider_is_said_plainly(node):
    client = node.test_client()
    answer = at_provider(start(client), "citizen-maria", password="wrong")
    assert answer["error"] == "access_denied"
    response = callback(client, answer)
    assert response.status_code == 403 and response.get_json()["reason"] == "access_denied"


def test_a_wrong_client_secret_is_refused(instance, provider):
    configure(instance, **{**provider.settings(), "client_secret": "not the secret"})
    app = create_app(instance, overrides={"TESTING": True})
    app.test_client_class = IsolatedClient
    with app.app_context():
        create_local_user("maria", "a long test password")
        db.session.commit()
        client = app.test_client()
        response = callback(client, at_provider(start(client), "citizen-maria"))
        assert response.status_code == 401 and response.get_json()["reason"] == "invalid_client"
        db.session.remove()
        db.engine.dispose()


def test_a_provider_that_cannot_be_reached_is_a_503(node, provider):
    client = node.test_client()
    address = start(client)
    answer = at_provider(address, "citizen-maria")
    node.config["KNET"]["upstream"]["token_url"] = "http://127.0.0.1:1/token"
    response = callback(client, answer)
    assert response.status_code == 503 and response.get_json()["reason"] == "provider_unreachable"


def test_without_a_provider_there_is_no_button_and_no_flow(client):
    assert "/auth/upstream/start" not in client.get("/login").get_data(as_text=True)
    assert client.get("/auth/upstream/callback?state=x&code=y", headers={"Accept": "application/json"}).status_code == 404


@pytest.mark.parametrize("changes, says", [
    ({"token_url": ""}, "'token_url'"),
    ({"authorize_url": "http://national.example.gr/authorize"}, "https://"),
    ({"userinfo_url": "ftp://127.0.0.1/userinfo"}, "https://"),
    ({"username_claim": ""}, "username_claim"),
])
def test_a_half_or_unsafe_configuration_is_refused_at_start(instance, provider, changes, says):
    configure(instance, **{**provider.settings(), **changes})
    with pytest.raises(ConfigError) as refused:
        create_app(instance)
    assert says in str(refused.value)


def test_people_of_the_test_provider_have_secrets_to_keep():
    # The provider's userinfo does carry what must not be kept, or the tests above would prove nothing.
    assert all(any(secret in repr(info) for secret in SECRETS) for _password, info in PEOPLE.values())
