"""Signing in here through one's home node (this node as a client of its peers' providers), and what a
visitor may do here. The whole flow between real nodes is in tests/federation/test_sign_on.py; here the
test holds a peer's key, and checks each step this node takes and each answer it refuses."""
from __future__ import annotations

import base64
import hashlib
import time
from contextlib import nullcontext
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import OctKey, OKPKey
from sqlalchemy import select, update

from auth import peer_signin
from auth.access import can_see
from auth.models import PeerSignIn, User
from auth.sign_on import peer as peer_node
from auth.visitors import visitor_for
from federation import keys
from federation.models import Peer
from knet.db import db, utcnow
from knet.errors import Conflict, KnetError
from tests.auth.test_provider import ALG, NODE, PEER, FakePeer, add_peer, query
from tests.forms import csrf_token

CALLBACK = "/auth/peers/callback"


def start(client, peer_url: str = PEER, next_path: str = "/pages/"):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/auth/peers/start", data={"peer": peer_url, "next": next_path,
                                                  "csrf_token": csrf_token(page)}, headers={"Accept": "application/json"})


def problem(response) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
    return response.get_json()


def callback(client, **answer):
    return client.get(CALLBACK, query_string=answer, headers={"Accept": "application/json"})


def id_token(peer: FakePeer, key: Ed25519PrivateKey | None = None, alg: str = ALG, **changes) -> str:
    now = int(time.time())
    claims = {"iss": peer.url, "sub": "42", "aud": NODE, "nonce": peer.nonce, "iat": now, "exp": now + 300,
              "name": "Μαρία Παπαδάκη", "preferred_username": "maria", "knet:title": "Μηχανικός",
              "knet:municipality": "Δήμος Θεσσαλονίκης", **changes}
    signer = key or peer.key
    return jwt.encode({"alg": alg, "kid": keys.key_id(signer.public_key())},
                      {name: value for name, value in claims.items() if value is not None},
                      OKPKey.import_key(signer), algorithms=[alg])


def signed_in_as(client, user: User):
    """A browser with this person's session (as the callback makes it)."""
    with client.session_transaction() as session:
        session.update({"_user_id": str(user.id), "_fresh": True, "knet_epoch": user.session_epoch})
    return client


@pytest.fixture
def peer(app):
    return add_peer()


@pytest.fixture
def visitor(app, peer):
    user = visitor_for(peer_node(PEER), {"sub": "42", "preferred_username": "maria", "name": "Μαρία"})
    db.session.commit()
    return user


def test_the_sign_in_page_offers_active_peers_only(client, app):
    assert "/auth/peers/start" not in client.get("/login").get_data(as_text=True)  # no peers: nothing shown
    add_peer()
    add_peer("http://127.0.0.1:5001", state="pending")
    add_peer("http://127.0.0.1:5002", state="suspended")
    page = client.get("/login").get_data(as_text=True)
    assert page.count('action="/auth/peers/start"') == 1
    assert f'value="{PEER}"' in page and "http://127.0.0.1:5001" not in page and "http://127.0.0.1:5002" not in page


def test_starting_keeps_the_secrets_here_and_asks_for_pkce_s256_and_a_nonce(client, peer):
    response = start(client)
    assert response.status_code == 302
    address = urlsplit(response.location)
    assert f"{address.scheme}://{address.netloc}{address.path}" == PEER + "/oauth/authorize"
    sent = query(response.location)
    pending = db.session.get(PeerSignIn, sent["state"])
    assert pending.issuer == PEER and pending.next == "/pages/" and pending.nonce == sent["nonce"]
    assert sent["client_id"] == NODE and sent["redirect_uri"] == NODE + CALLBACK
    assert sent["response_type"] == "code" and sent["scope"] == "openid"
    assert sent["code_challenge_method"] == "S256"
    digest = hashlib.sha256(pending.code_verifier.encode()).digest()
    assert sent["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert pending.code_verifier not in response.location
    with client.session_transaction() as session:
        assert pending.code_verifier not in repr(dict(session)) and pending.nonce not in repr(dict(session))


@pytest.mark.parametrize("next_path", ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_only_a_path_on_this_node_is_kept_as_next(client, peer, next_path):
    sent = query(start(client, next_path=next_path).location)
    assert db.session.get(PeerSignIn, sent["state"]).next == "/"


@pytest.mark.parametrize("state", ["suspended", "pending", None])
def test_only_an_active_peer_can_be_chosen(client, app, state):
    url = add_peer(state=state).url if state else "http://127.0.0.1:5003"
    assert problem(start(client, url))["reason"] == "peer_not_active"
    assert db.session.scalar(select(PeerSignIn)) is None


def test_starting_needs_the_form_s_csrf_token(client, peer):
    assert client.post("/auth/peers/start", data={"peer": PEER}).status_code == 400


def test_an_answer_without_a_state_or_with_a_state_not_ours_is_refused(client, peer):
    assert problem(callback(client, code="x", iss=PEER))["reason"] == "state_missing"
    assert problem(callback(client, code="x", iss=PEER, state="made-up"))["reason"] == "state_unknown"


def test_a_state_is_good_once_even_when_the_answer_failed(client, peer):
    state = query(start(client).location)["state"]
    assert problem(callback(client, state=state, iss="http://127.0.0.1:1", code="x"))["reason"] == "issuer_mismatch"
    assert problem(callback(client, state=state, iss=PEER, code="x"))["reason"] == "state_unknown"


def test_an_expired_flow_is_refused(client, peer):
    state = query(start(client).location)["state"]
    db.session.execute(update(PeerSignIn).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert problem(callback(client, state=state, iss=PEER, code="x"))["reason"] == "state_expired"


@pytest.mark.parametrize("iss", [None, "http://127.0.0.1:5001", PEER + "/"])
def test_an_answer_from_another_issuer_than_the_one_chosen_is_a_mix_up(client, peer, iss):
    add_peer("http://127.0.0.1:5001")  # a peer too: its answer is still not the one awaited
    state = query(start(client).location)["state"]
    answer = problem(callback(client, state=state, code="x", **({"iss": iss} if iss else {})))
    assert answer["reason"] == "issuer_mismatch" and answer["status"] == 401


def test_a_refusal_at_home_is_said_plainly(client, peer):
    state = query(start(client).location)["state"]
    answer = problem(callback(client, state=state, iss=PEER, error="access_denied", error_description="denied"))
    assert answer["reason"] == "access_denied" and answer["status"] == 403


def test_a_peer_suspended_after_the_flow_began_cannot_sign_anyone_in(client, peer):
    state = query(start(client).location)["state"]
    db.session.execute(update(Peer).values(suspended=True))
    db.session.commit()
    assert problem(callback(client, state=state, iss=PEER, code="x"))["reason"] == "peer_not_active"


def test_a_home_node_that_cannot_be_reached_is_a_503_with_a_sentence(client, peer):
    state = query(start(client).location)["state"]  # nothing listens at PEER
    answer = callback(client, state=state, iss=PEER, code="some-code")
    assert answer.status_code == 503 and answer.get_json()["reason"] == "peer_unreachable"


@pytest.fixture
def home(peer):
    return peer_node(PEER)


def test_a_good_id_token_is_accepted(app, peer, home):
    claims = peer_signin.verify_id_token(id_token(peer), home, NODE, peer.nonce)
    assert claims["sub"] == "42" and claims["iss"] == PEER


@pytest.mark.parametrize("changes, reason", [
    ({"iss": "http://127.0.0.1:5001"}, "id_token_iss"),
    ({"aud": "http://127.0.0.1:5001"}, "id_token_aud"),
    ({"nonce": "another"}, "id_token_nonce"),
    ({"nonce": None}, "id_token_nonce"),
    ({"sub": None}, "id_token_sub"),
    ({"exp": int(time.time()) - 120}, "id_token_expired"),
    ({"key": Ed25519PrivateKey.generate()}, "id_token_signature"),
    ({"alg": "EdDSA"}, "id_token_signature"),
], ids=["wrong iss", "wrong aud", "wrong nonce", "no nonce", "no sub", "expired", "another node's key", "EdDSA"])
def test_a_bad_id_token_is_refused_saying_why(app, peer, home, changes, reason):
    # joserfc warns when asked to sign with "EdDSA", RFC 9864's deprecated name; a forger would not care.
    with pytest.warns(SecurityWarning) if changes.get("alg") == "EdDSA" else nullcontext():
        token = id_token(peer, **changes)
    with pytest.raises(KnetError) as refused:
        peer_signin.verify_id_token(token, home, NODE, peer.nonce)
    assert refused.value.status == 401 and refused.value.extra["reason"] == reason


def test_an_id_token_made_with_hmac_over_the_public_key_is_refused(app, peer, home):
    public = peer.key.public_key().public_bytes_raw()
    claims = {"iss": PEER, "sub": "42", "aud": NODE, "nonce": peer.nonce, "iat": int(time.time()),
              "exp": int(time.time()) + 300}
    forged = jwt.encode({"alg": "HS256", "kid": keys.key_id(peer.key.public_key())}, claims,
                        OctKey.import_key(public))
    with pytest.raises(KnetError) as refused:
        peer_signin.verify_id_token(forged, home, NODE, peer.nonce)
    assert refused.value.extra["reason"] == "id_token_signature"


def test_an_id_token_signed_by_another_peer_is_refused(app, peer, home):
    other = add_peer("http://127.0.0.1:5001")
    forged = id_token(peer, key=other.key)  # a real peer's key, but not the issuer's
    with pytest.raises(KnetError) as refused:
        peer_signin.verify_id_token(forged, home, NODE, peer.nonce)
    assert refused.value.extra["reason"] == "id_token_signature"


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", "a.b.c", 42])
def test_garbage_instead_of_an_id_token_is_refused(app, home, peer, token):
    with pytest.raises(KnetError) as refused:
        peer_signin.verify_id_token(token, home, NODE, peer.nonce)
    assert refused.value.extra["reason"] in ("id_token_missing", "id_token_signature")


def test_a_visitor_is_uid_at_home_known_by_issuer_and_subject(app, peer, visitor):
    assert visitor.username == "maria@127.0.0.1:5999" and visitor.roles == ("visitor",)
    assert visitor.is_visitor and not visitor.is_admin and visitor.email is None and visitor.password_hash is None
    # Renamed at home: the same account, under the new name.
    again = visitor_for(peer_node(PEER), {"sub": "42", "preferred_username": "m.papadaki", "name": "Μαρία Π."})
    assert again.id == visitor.id and again.username == "m.papadaki@127.0.0.1:5999" and again.display_name == "Μαρία Π."
    # Named with their municipality wherever their name appears.
    assert again.name == f"Μαρία Π. ({peer_node(PEER).name})"
    # The same subject at another node is another person.
    add_peer("http://127.0.0.1:5001")
    other = visitor_for(peer_node("http://127.0.0.1:5001"), {"sub": "42", "preferred_username": "maria"})
    assert other.id != visitor.id and other.username == "maria@127.0.0.1:5001"


def test_a_visitor_cannot_take_a_local_account_s_name(app, peer, make_user):
    make_user("maria@127.0.0.1:5999")
    with pytest.raises(Conflict) as refused:
        visitor_for(peer_node(PEER), {"sub": "42", "preferred_username": "maria"})
    assert refused.value.extra["reason"] == "username_taken"


def test_a_visitor_sees_network_and_public_content_and_what_they_wrote(app, visitor, make_user, make_page):
    author = make_user("eleni")
    for visibility in ("public", "network", "internal", "private"):
        make_page(author, f"Σελίδα {visibility}", visibility=visibility)
    assert [can_see(visitor, level, author.id) for level in ("public", "network", "internal", "private")] == [
        True, True, False, False]
    assert can_see(visitor, "internal", visitor.id)
    client = signed_in_as(app.test_client(), visitor)
    listing = client.get("/pages/").get_data(as_text=True)
    assert "Σελίδα public" in listing and "Σελίδα network" in listing
    assert "Σελίδα internal" not in listing and "Σελίδα private" not in listing


@pytest.mark.parametrize("path", ["/admin/people", "/admin/audit", "/admin/federation", "/pages/new"])
def test_a_visitor_never_administers(app, visitor, path):
    visitor.granted_roles = "admin"  # even if someone gave them the role
    db.session.commit()
    client = signed_in_as(app.test_client(), visitor)
    refused = client.get(path, headers={"Accept": "application/json"})
    assert refused.status_code == 403 and refused.get_json()["reason"] == "visitor"
    assert refused.get_json()["detail"]
