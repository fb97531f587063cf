"""Sign-on between real nodes (separate `knet run` processes over real HTTP): a person of Athens signs in
at Thessaloniki through Athens, agreeing the first time and silently the next, and becomes a visitor
there; each attack on the flow is refused with a reason, never a server error.

A third, rogue peer of Thessaloniki (a small server holding a real federation key, as in fake_peer.py)
answers the token request with whatever ID token a test makes, so that Thessaloniki's checks of ID
tokens are tried over the wire too."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from html import unescape
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy import select, update

from auth import services as auth_services
from auth.models import AuthorizationCode, Consent, User
from federation import keys
from knet.db import db, utcnow
from tests.conftest import PASSWORD, copy_node
from tests.federation.fake_peer import FakePeer
from tests.federation.conftest import Node, free_port
from tests.federation.network import at, peer_all

#: Run on SQLite only: OpenID Connect between nodes does not depend on the database.
pytestmark = pytest.mark.sqlite_only

ALG = "Ed25519"
ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class Browser:
    """A person's browser: cookies kept per node, as a browser keeps them per site (nodes here differ only by
    port, which cookies do not tell apart), and redirects followed one at a time."""

    def __init__(self) -> None:
        self._sessions: dict[str, requests.Session] = {}
        self.visited: list[str] = []

    def open(self, method: str, url: str, **kwargs) -> requests.Response:
        session = self._sessions.setdefault(urlsplit(url).netloc, requests.Session())
        self.visited.append(url)
        return session.request(method, url, allow_redirects=False, timeout=15, **kwargs)

    def go(self, method: str, url: str, until: str | None = None, **kwargs) -> requests.Response:
        """Open the address and follow redirects to a page, or stop at the redirect to an address starting
        with `until` (returning that redirect, unopened)."""
        response = self.open(method, url, **kwargs)
        while response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if until and target.startswith(until):
                return response
            response = self.open("GET", target)
        return response


def form_fields(html: str, action: str) -> dict[str, str]:
    """The fields (with their values) of the page's first form whose address starts with `action`."""
    for target, body in re.findall(r'<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>', html, re.S):
        if unescape(target).startswith(action):
            return _inputs(body)
    raise AssertionError(f"no form posts to {action}")


def location(response: requests.Response) -> str:
    return urljoin(response.url, response.headers["Location"])


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


class RogueProvider(FakePeer):
    """A peer whose token endpoint answers with the ID token `make(form)` returns, form being what the
    visited node sent."""

    def __init__(self, directory, name: str = "Δήμος Ρόουγκ") -> None:
        self.make = lambda form: ""
        self.token_requests: list[dict[str, str]] = []
        super().__init__(directory, name)

    def _handler(self):
        base, rogue = super()._handler(), self

        class Handler(base):
            def do_POST(self) -> None:
                if self.path != "/oauth/token":
                    return super().do_POST()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                form = {name: values[0] for name, values in parse_qs(body).items()}
                rogue.token_requests.append(form)
                answer = {"access_token": "x", "token_type": "Bearer", "expires_in": 60, "scope": "openid",
                          "id_token": rogue.make(form)}
                self._answer(200, "application/json", json.dumps(answer).encode(), {})

        return Handler

    def id_token(self, audience: str, nonce: str, changes: dict | None = None) -> str:
        """An ID token as the visited node expects it, with `changes` (a "key" signs it instead of ours)."""
        now = int(time.time())
        changes = dict(changes or {})
        signer = changes.pop("key", self.ring.current.private_key)
        claims = {"iss": self.url, "sub": "7", "aud": audience, "nonce": nonce, "iat": now, "exp": now + 300,
                  "name": "Ρόουγκ", "preferred_username": "rogue", **changes}
        return jwt.encode({"alg": ALG, "kid": keys.key_id(signer.public_key())}, claims, OKPKey.import_key(signer),
                          algorithms=[ALG])


@pytest.fixture(scope="module")
def network(tmp_path_factory, node_template, postgres):
    """Athens and Thessaloniki, peered, and a rogue peer of Thessaloniki: started once for the module (each
    test signs in a person of its own)."""
    root = tmp_path_factory.mktemp("sign-on")
    nodes = []
    for name in ("Δήμος Αθηναίων", "Δήμος Θεσσαλονίκης"):
        url = f"http://127.0.0.1:{free_port()}"
        node = Node(name, url, root / f"node-{len(nodes)}", root / f"node-{len(nodes)}.log")
        node.database = copy_node(node_template, postgres, node.instance, name=name, url=url)
        nodes.append(node)
        node.start()
    athens, thessaloniki = nodes
    with RogueProvider(root / "rogue") as rogue:
        try:
            peer_all(athens, thessaloniki)
            added = thessaloniki.knet("peer", "add", rogue.url, "--yes")
            assert added.returncode == 0 and "active" in added.stdout, added.stdout + added.stderr
            yield athens, thessaloniki, rogue
        finally:
            for node in nodes:
                node.stop()
            for node in nodes:
                if node.database:
                    postgres.drop_database(node.database)


def person_of(node, username: str, title: str = "Μηχανικός") -> str:
    with at(node):
        user = auth_services.create_local_user(username, PASSWORD, role="admin", display_name=f"{username.title()} Π.")
        user.title, user.email = title, f"{username}@example.gr"
        db.session.commit()
    return username


def start(browser: Browser, visiting, home_url: str, next_path: str = "/pages/") -> requests.Response:
    """Press "Sign in with your municipality" for `home_url` on the sign-in page of `visiting`."""
    page = browser.open("GET", visiting.url + "/login")
    assert page.status_code == 200
    fields = next(fields for fields in _peer_forms(page.text) if fields["peer"] == home_url)
    return browser.open("POST", visiting.url + "/auth/peers/start", data={**fields, "next": next_path})


def _peer_forms(html: str) -> list[dict[str, str]]:
    return [_inputs(body) for body in re.findall(r'<form method="post" action="/auth/peers/start">(.*?)</form>',
                                                 html, re.S)]


def _inputs(form: str) -> dict[str, str]:
    """The named inputs of a form with their values, but not its buttons (a browser sends only the one pressed)."""
    return {name: unescape(value) for tag, name, value in
            re.findall(r'(<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"[^>]*>)', form) if 'type="submit"' not in tag}


def sign_in_at_home(browser: Browser, response: requests.Response, home, username: str,
                    until: str | None = None) -> requests.Response:
    """Follow the peer's redirect to the home node, sign in there with the password, and go on."""
    page = browser.go("GET", location(response), until=until)
    if urlsplit(page.url).path != "/login":
        return page
    fields = form_fields(page.text, "/login")
    return browser.go("POST", home.url + "/login", until=until,
                      data={**fields, "username": username, "password": PASSWORD})


def consent(browser: Browser, page: requests.Response, allow: bool = True,
            until: str | None = None) -> requests.Response:
    assert page.status_code == 200 and "/oauth/authorize" in page.url, (page.status_code, page.url)
    fields = form_fields(page.text, "/oauth/authorize?")
    fields["allow" if allow else "deny"] = "x"
    return browser.go("POST", page.url, until=until, data=fields)


def me(browser: Browser, node) -> dict:
    answer = browser.open("GET", node.url + "/api/v1/me", headers={"Accept": "application/json"})
    return answer.json() if answer.status_code == 200 else {"status": answer.status_code}


def test_a_person_signs_in_at_a_peer_through_home_agreeing_the_first_time_only(network):
    athens, thessaloniki, _rogue = network
    username = person_of(athens, "maria")
    browser = Browser()
    login = browser.open("GET", thessaloniki.url + "/login").text
    assert "Δήμος Αθηναίων" in login
    assert sorted(form["peer"] for form in _peer_forms(login)) == sorted([athens.url, _rogue.url])

    asked = sign_in_at_home(browser, start(browser, thessaloniki, athens.url), athens, username)
    assert "Δήμος Θεσσαλονίκης" in asked.text and "Μηχανικός" in asked.text and "maria@example.gr" not in asked.text
    arrived = consent(browser, asked)
    assert arrived.status_code == 200 and arrived.url == thessaloniki.url + "/pages/"
    host = urlsplit(athens.url).netloc
    assert me(browser, thessaloniki)["username"] == f"maria@{host}"
    assert me(browser, thessaloniki)["roles"] == ["visitor"] and me(browser, thessaloniki)["email"] is None
    with at(thessaloniki):
        visitor = User.by_username(f"maria@{host}")
        assert visitor.home_issuer == athens.url and visitor.home_subject.isdigit() and visitor.password_hash is None
        assert visitor.display_name == "Maria Π." and visitor.home_municipality == "Δήμος Αθηναίων"

    # Signed out at Thessaloniki, still signed in at home: the next sign-in asks nothing.
    page = browser.open("GET", thessaloniki.url + "/login").text
    csrf = form_fields(page, "/login")["csrf_token"]
    browser.open("POST", thessaloniki.url + "/sign-out", data={"csrf_token": csrf})
    assert me(browser, thessaloniki)["status"] == 401
    first = start(browser, thessaloniki, athens.url, "/")
    before = len(browser.visited)
    again = browser.go("GET", location(first))
    assert again.status_code == 200 and again.url == thessaloniki.url + "/"
    assert [url.split("?")[0] for url in browser.visited[before:]] == [  # no sign-in page, no consent page
        athens.url + "/oauth/authorize", thessaloniki.url + "/auth/peers/callback", thessaloniki.url + "/"]
    assert me(browser, thessaloniki)["username"] == f"maria@{host}"
    with at(thessaloniki):
        assert db.session.scalar(select(db.func.count()).select_from(User).where(User.home_issuer == athens.url)) == 1
    with at(athens):
        assert db.session.scalar(select(Consent.client_id)) == thessaloniki.url


def test_a_person_who_does_not_allow_it_is_not_signed_in(network):
    athens, thessaloniki, _rogue = network
    browser = Browser()
    asked = sign_in_at_home(browser, start(browser, thessaloniki, athens.url), athens, person_of(athens, "nikos"))
    back = consent(browser, asked, allow=False, until=thessaloniki.url + "/auth/peers/callback")
    assert query(location(back))["error"] == "access_denied"
    refused = browser.open("GET", location(back), headers={"Accept": "application/json"})
    assert refused.status_code == 403 and refused.json()["reason"] == "access_denied"
    assert me(browser, thessaloniki)["status"] == 401


def test_a_missing_or_made_up_state_is_refused(network):
    _athens, thessaloniki, _rogue = network
    for answer, reason in (({"code": "x"}, "state_missing"), ({"code": "x", "state": "made-up"}, "state_unknown")):
        refused = requests.get(thessaloniki.url + "/auth/peers/callback", params=answer, timeout=10,
                               headers={"Accept": "application/json"})
        assert refused.status_code == 400 and refused.json()["reason"] == reason


def test_a_code_is_good_once(network):
    athens, thessaloniki, _rogue = network
    browser = Browser()
    asked = sign_in_at_home(browser, start(browser, thessaloniki, athens.url), athens, person_of(athens, "eleni"))
    back = consent(browser, asked, until=thessaloniki.url + "/auth/peers/callback")
    callback = location(back)
    assert browser.go("GET", callback).status_code == 200  # signed in
    # The same answer again, in another browser: its state is used up.
    replay = requests.get(callback, timeout=10, headers={"Accept": "application/json"})
    assert replay.status_code == 400 and replay.json()["reason"] == "state_unknown"
    # Thessaloniki itself (its key, a verifier) cannot exchange the code a second time.
    ring = keys.load(thessaloniki.instance)
    now = int(time.time())
    assertion = jwt.encode({"alg": ALG, "kid": ring.current.id},
                           {"iss": thessaloniki.url, "sub": thessaloniki.url, "aud": athens.url + "/oauth/token",
                            "jti": secrets.token_hex(8), "iat": now, "exp": now + 60},
                           OKPKey.import_key(ring.current.private_key), algorithms=[ALG])
    second = requests.post(athens.url + "/oauth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": query(callback)["code"], "client_id": thessaloniki.url,
        "redirect_uri": thessaloniki.url + "/auth/peers/callback", "code_verifier": secrets.token_urlsafe(48),
        "client_assertion_type": ASSERTION, "client_assertion": assertion})
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(network):
    athens, thessaloniki, _rogue = network
    browser = Browser()
    asked = sign_in_at_home(browser, start(browser, thessaloniki, athens.url), athens, person_of(athens, "kostas"))
    back = consent(browser, asked, until=thessaloniki.url + "/auth/peers/callback")
    with at(athens):  # the person took more than a minute to come back
        db.session.execute(update(AuthorizationCode).values(expires_at=utcnow()))
        db.session.commit()
    late = browser.open("GET", location(back), headers={"Accept": "application/json"})
    assert late.status_code == 401 and late.json()["reason"] == "invalid_grant"
    assert me(browser, thessaloniki)["status"] == 401


def authorize_url(home, client, **changes) -> str:
    params = {"response_type": "code", "client_id": client.url, "redirect_uri": client.url + "/auth/peers/callback",
              "scope": "openid", "state": "s" * 20, "nonce": "n" * 20, "code_challenge": "c" * 43,
              "code_challenge_method": "S256", **changes}
    return home.url + "/oauth/authorize?" + urlencode({name: value for name, value in params.items() if value})


@pytest.mark.parametrize("changes", [{"code_challenge": None, "code_challenge_method": None},
                                     {"code_challenge_method": "plain"}], ids=["no PKCE", "plain PKCE"])
def test_pkce_s256_is_required(network, changes):
    athens, thessaloniki, _rogue = network
    answer = Browser().open("GET", authorize_url(athens, thessaloniki, **changes))  # refused before any sign-in
    assert location(answer).startswith(thessaloniki.url + "/auth/peers/callback?")
    sent = query(location(answer))
    assert sent["error"] == "invalid_request" and sent["state"] == "s" * 20 and sent["iss"] == athens.url


def test_a_redirect_uri_not_registered_for_the_peer_is_refused(network):
    athens, thessaloniki, _rogue = network
    browser = Browser()
    url = authorize_url(athens, thessaloniki, redirect_uri="https://evil.example/auth/peers/callback")
    refused = browser.open("GET", url, headers={"Accept": "application/json"})
    assert refused.status_code == 400 and refused.json()["field"] == "redirect_uri"
    assert "Location" not in refused.headers


@pytest.mark.parametrize("problem", ["iss", "aud", "nonce", "exp", "key"])
def test_an_id_token_that_does_not_check_out_is_refused(network, problem):
    athens, thessaloniki, rogue = network
    browser = Browser()
    sent = query(location(start(browser, thessaloniki, rogue.url)))
    wrong = {"iss": {"iss": athens.url}, "aud": {"aud": athens.url}, "nonce": {"nonce": "another"},
             "exp": {"exp": int(time.time()) - 600},
             "key": {"key": keys.load(athens.instance).current.private_key}}[problem]  # another node's real key
    rogue.make = lambda form: rogue.id_token(thessaloniki.url, sent["nonce"], wrong)
    refused = browser.open("GET", thessaloniki.url + "/auth/peers/callback", headers={"Accept": "application/json"},
                           params={"state": sent["state"], "iss": rogue.url, "code": "rogue-code"})
    expected = {"key": "id_token_signature", "exp": "id_token_expired"}.get(problem, f"id_token_{problem}")
    assert refused.status_code == 401 and refused.json()["reason"] == expected
    assert me(browser, thessaloniki)["status"] == 401


def test_the_code_exchange_is_authenticated_with_the_federation_key_and_pkce(network):
    _athens, thessaloniki, rogue = network
    browser = Browser()
    sent = query(location(start(browser, thessaloniki, rogue.url)))
    rogue.make = lambda form: rogue.id_token(thessaloniki.url, sent["nonce"])
    arrived = browser.go("GET", thessaloniki.url + "/auth/peers/callback",
                         params={"state": sent["state"], "iss": rogue.url, "code": "rogue-code"})
    assert arrived.status_code == 200 and me(browser, thessaloniki)["username"] == f"rogue@{urlsplit(rogue.url).netloc}"
    form = rogue.token_requests[-1]
    assert form["code"] == "rogue-code" and form["client_id"] == thessaloniki.url
    assert form["client_assertion_type"] == ASSERTION and "client_secret" not in form
    public = OKPKey.import_key(keys.load(thessaloniki.instance).current.public_key)
    claims = jwt.decode(form["client_assertion"], public, algorithms=[ALG]).claims
    assert claims["iss"] == claims["sub"] == thessaloniki.url and claims["aud"] == rogue.url + "/oauth/token"
    digest = hashlib.sha256(form["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == sent["code_challenge"]


def test_an_answer_from_another_issuer_than_the_one_chosen_is_a_mix_up(network):
    athens, thessaloniki, rogue = network
    browser = Browser()
    sent = query(location(start(browser, thessaloniki, athens.url)))  # the person chose Athens…
    requests_before = len(rogue.token_requests)
    refused = browser.open("GET", thessaloniki.url + "/auth/peers/callback", headers={"Accept": "application/json"},
                           params={"state": sent["state"], "iss": rogue.url, "code": "rogue-code"})  # …the rogue answers
    assert refused.status_code == 401 and refused.json()["reason"] == "issuer_mismatch"
    assert len(rogue.token_requests) == requests_before  # the code went nowhere


def test_next_never_leaves_the_node(network):
    athens, thessaloniki, _rogue = network
    browser = Browser()
    asked = sign_in_at_home(browser, start(browser, thessaloniki, athens.url, next_path="//evil.example/x"), athens,
                            person_of(athens, "giorgos"))
    arrived = consent(browser, asked)
    assert arrived.url == thessaloniki.url + "/" and "evil.example" not in " ".join(browser.visited)


def test_a_visitor_never_administers(network):
    athens, thessaloniki, _rogue = network
    browser = Browser()
    asked = sign_in_at_home(browser, start(browser, thessaloniki, athens.url), athens,
                            person_of(athens, "sofia"))  # an administrator at home
    consent(browser, asked)
    for path in ("/admin/people", "/admin/audit", "/admin/federation"):
        refused = browser.open("GET", thessaloniki.url + path, headers={"Accept": "application/json"})
        assert refused.status_code == 403 and refused.json()["reason"] == "visitor", path


def test_a_suspended_peer_cannot_sign_anyone_in(network):
    athens, thessaloniki, _rogue = network
    browser = Browser()
    username = person_of(athens, "petros")
    try:
        assert athens.knet("peer", "suspend", thessaloniki.url).returncode == 0  # Athens stops signing in there
        first = start(browser, thessaloniki, athens.url)
        refused = sign_in_at_home(browser, first, athens, username)
        assert refused.status_code == 403 and "unauthorized" not in refused.text
        problem = browser.open("GET", location(first), headers={"Accept": "application/json"}).json()
        assert problem["reason"] == "unauthorized_client"
    finally:
        athens.knet("peer", "resume", thessaloniki.url)
    try:
        assert thessaloniki.knet("peer", "suspend", athens.url).returncode == 0  # Thessaloniki stops taking them
        assert athens.url not in browser.open("GET", thessaloniki.url + "/login").text
        page = browser.open("GET", thessaloniki.url + "/login").text
        refused = browser.open("POST", thessaloniki.url + "/auth/peers/start", headers={"Accept": "application/json"},
                               data={"csrf_token": form_fields(page, "/login")["csrf_token"], "peer": athens.url})
        assert refused.status_code == 403 and refused.json()["reason"] == "peer_not_active"
    finally:
        thessaloniki.knet("peer", "resume", athens.url)
