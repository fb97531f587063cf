"""The node as an OpenID Connect provider for its own staff: a peer (here the test, holding a peer's
Ed25519 key, as tests/federation/test_sign_on.py does with real nodes) sends a person to sign in, the
person agrees once, the peer exchanges the code with a JWT signed by its federation key and PKCE, and
gets an ID token signed with this node's key; everything else is refused with a reason."""
from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey
from sqlalchemy import select, update

from auth.models import AuthorizationCode, Consent, User
from federation import keys
from federation.models import Peer
from knet.db import db, utcnow
from tests.forms import csrf_token

PEER = "http://127.0.0.1:5999"
NODE = "http://127.0.0.1:5000"  # the test node's URL (tests/conftest.py)
ALG = "Ed25519"


@dataclass
class FakePeer:
    """A peer as the provider sees it: its URL and the federation key it signs assertions with."""

    url: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    @property
    def redirect_uri(self) -> str:
        return self.url + "/auth/peers/callback"

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def authorize_path(self, **changes) -> str:
        params = {"response_type": "code", "client_id": self.url, "redirect_uri": self.redirect_uri,
                  "scope": "openid", "state": self.state, "nonce": self.nonce, "code_challenge": self.challenge,
                  "code_challenge_method": "S256", **changes}
        return "/oauth/authorize?" + urlencode({name: value for name, value in params.items() if value is not None})

    def assertion(self, key: Ed25519PrivateKey | None = None, **changes) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "sub": self.url, "aud": NODE + "/oauth/token", "jti": secrets.token_hex(8),
                  "iat": now, "exp": now + 60, **changes}
        signer = key or self.key
        return jwt.encode({"alg": ALG, "kid": keys.key_id(signer.public_key())}, claims, OKPKey.import_key(signer),
                          algorithms=[ALG])

    def token_form(self, code: str, **changes) -> dict:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": self.verifier, "client_id": self.url,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": self.assertion(), **changes}
        return {name: value for name, value in form.items() if value is not None}


def add_peer(url: str = PEER, state: str = "active") -> FakePeer:
    """Record a peer as `knet peer add` would have (its published key included), in the given state."""
    peer = FakePeer(url)
    public = peer.key.public_key()
    db.session.add(Peer(url=url, name="Δήμος Θεσσαλονίκης", added_us=state != "pending", suspended=state == "suspended",
                        keys=[{"id": keys.key_url(url, keys.key_id(public)), "pem": keys.public_pem(public),
                               "expires": None}]))
    db.session.commit()
    return peer


def query(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def approve(client, peer: FakePeer, **changes) -> dict[str, str]:
    """Ask for a sign-in, agree on the consent page, and return the answer the peer receives."""
    path = peer.authorize_path(**changes)
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    answer = client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True)), "allow": "Allow"})
    assert answer.status_code == 302
    assert answer.location.startswith(peer.redirect_uri + "?")
    return query(answer.location)


def exchange(client, peer: FakePeer, code: str, **changes):
    return client.post("/oauth/token", data=peer.token_form(code, **changes))


def node_keys(client) -> KeySet:
    return KeySet.import_key_set(client.get("/oauth/jwks").get_json())


@pytest.fixture
def peer(app):
    return add_peer()


@pytest.fixture
def maria(make_user):
    user = make_user("maria", role="admin")
    user.display_name, user.title, user.email, user.phone = "Μαρία Παπαδάκη", "Μηχανικός", "m@athens.gr", "2101234567"
    db.session.commit()
    return user


def test_discovery_names_the_endpoints_and_what_the_provider_requires(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["issuer"] == NODE
    assert metadata["authorization_endpoint"] == NODE + "/oauth/authorize"
    assert metadata["token_endpoint"] == NODE + "/oauth/token"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    published = client.get(urlsplit(metadata["jwks_uri"]).path).get_json()["keys"]
    assert [key["kty"] for key in published] == ["OKP"] and published[0]["crv"] == "Ed25519"
    assert "d" not in published[0]  # never the private half


def test_a_person_signs_in_at_a_peer_agreeing_once(app, client, sign_in, peer, maria):
    first = client.get(peer.authorize_path())
    assert first.status_code == 302 and urlsplit(first.location).path == "/login"  # sign in at home first
    sign_in(maria)
    page = client.get(peer.authorize_path())
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Δήμος Θεσσαλονίκης" in text and "Μηχανικός" in text
    assert 'lang="' in text and 'type="submit"' in text and "m@athens.gr" not in text

    answer = approve(client, peer)
    assert answer["state"] == peer.state and answer["iss"] == NODE and "code" in answer
    token = exchange(client, peer, answer["code"])
    assert token.status_code == 200, token.get_json()
    id_token = jwt.decode(token.get_json()["id_token"], node_keys(client), algorithms=[ALG])
    assert id_token.header["kid"] == keys.load(app.instance_path).current.id
    claims = id_token.claims
    assert claims["iss"] == NODE and claims["aud"] == PEER and claims["nonce"] == peer.nonce
    assert claims["sub"] == str(maria.id) and claims["preferred_username"] == "maria"
    assert claims["name"] == "Μαρία Παπαδάκη" and claims["knet:title"] == "Μηχανικός"
    assert claims["knet:municipality"] == "Δήμος Δοκιμών"
    assert 0 < claims["exp"] - time.time() <= 300 and claims["iat"] <= time.time()
    for secret in ("m@athens.gr", "2101234567", "admin", "email", "phone", "roles"):
        assert secret not in repr(claims)

    # The second time, nobody asks: the person is sent straight back with a code.
    again = FakePeer(PEER, peer.key)
    silent = client.get(again.authorize_path())
    assert silent.status_code == 302 and query(silent.location)["state"] == again.state
    assert exchange(client, again, query(silent.location)["code"]).status_code == 200
    assert db.session.scalar(select(Consent.client_id).where(Consent.user_id == maria.id)) == PEER


def test_a_person_who_does_not_allow_it_is_sent_back_with_access_denied(client, sign_in, peer, maria):
    sign_in(maria)
    path = peer.authorize_path()
    page = client.get(path).get_data(as_text=True)
    answer = client.post(path, data={"csrf_token": csrf_token(page), "deny": "Do not allow"})
    assert query(answer.location) == {"error": "access_denied", "state": peer.state, "iss": NODE,
                                      "error_description": query(answer.location)["error_description"]}
    assert db.session.scalar(select(Consent)) is None
    assert client.get(path).status_code == 200  # asked again next time


def test_the_consent_form_needs_its_csrf_token(client, sign_in, peer, maria):
    sign_in(maria)
    answer = client.post(peer.authorize_path(), data={"allow": "Allow"})
    assert answer.status_code == 400 and not answer.location


def test_a_code_is_good_once(client, sign_in, peer, maria):
    sign_in(maria)
    code = approve(client, peer)["code"]
    assert exchange(client, peer, code).status_code == 200
    again = exchange(client, peer, code)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert "once" in again.get_json()["error_description"]


def test_a_code_expires_within_a_minute(client, sign_in, peer, maria):
    sign_in(maria)
    code = approve(client, peer)["code"]
    stored = db.session.scalar(select(AuthorizationCode))
    assert timedelta(0) < stored.expires_at - stored.created_at <= timedelta(seconds=60)
    db.session.execute(update(AuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    late = exchange(client, peer, code)
    assert late.status_code == 400 and late.get_json()["error"] == "invalid_grant"
    assert "expired" in late.get_json()["error_description"]


@pytest.mark.parametrize("changes", [{"code_challenge": None, "code_challenge_method": None},
                                     {"code_challenge_method": None},
                                     {"code_challenge_method": "plain"}],
                         ids=["no PKCE", "no method (plain by default)", "plain PKCE"])
def test_pkce_with_s256_is_required(client, sign_in, peer, maria, changes):
    sign_in(maria)
    answer = client.get(peer.authorize_path(**changes))
    assert answer.status_code == 302
    assert {name: query(answer.location)[name] for name in ("error", "state", "iss")} == {
        "error": "invalid_request", "state": peer.state, "iss": NODE}


def test_the_code_needs_the_right_verifier(client, sign_in, peer, maria):
    sign_in(maria)
    code = approve(client, peer)["code"]
    for verifier in (None, secrets.token_urlsafe(48)):
        wrong = exchange(client, peer, code, code_verifier=verifier)
        assert wrong.status_code == 400 and wrong.get_json()["error"] in ("invalid_request", "invalid_grant")
    assert exchange(client, peer, code).status_code == 200  # the failures did not use it up


def test_a_nonce_and_a_state_are_required(client, sign_in, peer, maria):
    sign_in(maria)
    no_nonce = client.get(peer.authorize_path(nonce=None))
    assert query(no_nonce.location)["error"] == "invalid_request" and query(no_nonce.location)["state"] == peer.state
    no_state = client.get(peer.authorize_path(state=None))
    assert query(no_state.location)["error"] == "invalid_request" and "state" not in query(no_state.location)


@pytest.mark.parametrize("redirect_uri", [PEER + "/auth/peers/callback/", PEER + "/elsewhere",
                                          "https://evil.example/auth/peers/callback", None])
def test_a_redirect_uri_not_registered_for_the_peer_is_never_followed(client, sign_in, peer, maria, redirect_uri):
    sign_in(maria)
    answer = client.get(peer.authorize_path(redirect_uri=redirect_uri), headers={"Accept": "application/json"})
    assert answer.status_code == 400 and not answer.location
    assert answer.get_json()["reason"] == "invalid_request" and answer.get_json()["field"] == "redirect_uri"


def test_a_stranger_is_not_a_client(client, sign_in, maria, app):
    sign_in(maria)
    stranger = FakePeer("http://127.0.0.1:5998")
    answer = client.get(stranger.authorize_path(), headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.get_json()["reason"] == "invalid_client" and not answer.location


@pytest.mark.parametrize("state", ["suspended", "pending"])
def test_a_peer_whose_agreement_is_not_active_is_refused(client, sign_in, maria, state):
    peer = add_peer(state=state)
    sign_in(maria)
    answer = client.get(peer.authorize_path(), headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.get_json()["reason"] == "unauthorized_client"
    assert state in answer.get_json()["detail"] and not answer.location


def test_a_suspended_peer_cannot_exchange_a_code_it_was_given(client, sign_in, peer, maria):
    sign_in(maria)
    code = approve(client, peer)["code"]
    db.session.execute(update(Peer).values(suspended=True))
    db.session.commit()
    refused = exchange(client, peer, code)
    assert refused.status_code == 400 and refused.get_json()["error"] == "unauthorized_client"


def test_the_token_endpoint_needs_the_peer_s_own_key(client, sign_in, peer, maria):
    sign_in(maria)
    code = approve(client, peer)["code"]
    other = Ed25519PrivateKey.generate()
    cases = {"another key": {"client_assertion": peer.assertion(key=other)},
             "for another server": {"client_assertion": peer.assertion(aud="http://127.0.0.1:1/oauth/token")},
             "expired": {"client_assertion": peer.assertion(exp=int(time.time()) - 600)},
             "no assertion": {"client_assertion": None, "client_assertion_type": None},
             "not a JWT": {"client_assertion": "garbage"}}
    for name, changes in cases.items():
        refused = exchange(client, peer, code, **changes)
        assert refused.status_code in (400, 401) and refused.get_json()["error"] == "invalid_client", name
    basic = client.post("/oauth/token", data=peer.token_form(code, client_assertion=None, client_assertion_type=None),
                        headers={"Authorization": "Basic " + base64.b64encode(f"{PEER}:secret".encode()).decode()})
    assert basic.get_json()["error"] == "invalid_client"  # no shared secrets
    assert exchange(client, peer, code).status_code == 200


def test_a_code_issued_to_one_peer_is_useless_to_another(app, client, sign_in, peer, maria):
    sign_in(maria)
    code = approve(client, peer)["code"]
    other = add_peer("http://127.0.0.1:5997")
    other.verifier = peer.verifier
    stolen = exchange(client, other, code, redirect_uri=peer.redirect_uri)
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_grant"


def test_a_visitor_here_cannot_sign_in_onward_through_this_node(client, peer, app):
    visitor = User(username="nikos@127.0.0.1:5996", source="peer", home_issuer="http://127.0.0.1:5996",
                   home_subject="7")
    db.session.add(visitor)
    db.session.commit()
    with client.session_transaction() as session:
        session.update({"_user_id": str(visitor.id), "_fresh": True, "knet_epoch": 0})
    answer = client.get(peer.authorize_path())
    assert answer.status_code == 302 and query(answer.location)["error"] == "access_denied"
