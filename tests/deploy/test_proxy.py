"""Behind nginx with TLS, as docs/deploy.md sets a node up (deploy/nginx-knet.conf in front of the gunicorn of
deploy/knet-web.service): peers' signed requests verify, a person signs in at a peer through this node (OpenID
Connect), the node knows its visitors' addresses and that they came over HTTPS, and believes X-Forwarded-*
headers only from the proxy it trusts (`trusted_proxies`)."""
from __future__ import annotations

import datetime
import http.client
import ipaddress
import re
import ssl
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from auth.models import AuditEvent
from federation import client, keys, signatures
from federation.keys import key_url
from knet.db import db
from tests.conftest import PASSWORD, copy_node
from tests.federation.conftest import Node, free_port
from tests.federation.network import at, peer_all
from tests.federation.test_sign_on import Browser, form_fields, location, me, person_of
from tests.forms import csrf_token
from tests.production import Nginx, Production

#: What nginx, the proxy, is trusted as; the test's "browser" connects from another loopback address, so that
#: each hop's address can be told apart, and a stranger from a third.
PROXY, VISITOR, STRANGER = "127.0.0.1", "127.0.0.3", "127.0.0.2"

#: Run on SQLite only: what a proxy forwards does not depend on the database.
pytestmark = pytest.mark.sqlite_only


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (its own authority) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "knet test 127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture(scope="module")
def network(tmp_path_factory, node_template, postgres):
    """Athens behind nginx (https://127.0.0.1:PORT, gunicorn and a worker as the units run them, trusting the
    proxy on 127.0.0.1) and Thessaloniki (`knet run`, plain HTTP), peered; every process trusts the
    throwaway certificate as the system's authorities would be trusted. Beside them, Athens' node served a
    second time, by a gunicorn that trusts no proxy, behind a second nginx."""
    root = tmp_path_factory.mktemp("proxy")
    certificate, key = self_signed(root)
    patch = pytest.MonkeyPatch()
    patch.setenv("REQUESTS_CA_BUNDLE", str(certificate))
    production = Production(root / "athens", root / "athens-logs", web_workers=2, workers=1,
                            environment={"KNET_TRUSTED_PROXIES": PROXY})
    untrusting = Production(root / "athens", root / "untrusting-logs", web_workers=1, workers=0,
                            environment={"KNET_TRUSTED_PROXIES": ""})
    nginx = Nginx(root / "nginx", production.port, certificate, key)
    untrusting_nginx = Nginx(root / "untrusting-nginx", untrusting.port, certificate, key)
    athens = Node("Δήμος Αθηναίων", nginx.url, root / "athens", root / "athens.log")
    athens.database = copy_node(node_template, postgres, athens.instance, name=athens.name, url=athens.url)
    thessaloniki_url = f"http://127.0.0.1:{free_port()}"
    thessaloniki = Node("Δήμος Θεσσαλονίκης", thessaloniki_url, root / "thessaloniki", root / "thessaloniki.log")
    thessaloniki.database = copy_node(node_template, postgres, thessaloniki.instance, name=thessaloniki.name,
                                      url=thessaloniki_url)
    try:
        with nginx, untrusting_nginx:
            production.start(wait=False)
            untrusting.start(wait=False)
            thessaloniki.start()
            production.wait_ready()
            untrusting.wait_ready()
            peer_all(athens, thessaloniki)
            yield athens, thessaloniki, production, untrusting_nginx, certificate
    finally:
        thessaloniki.stop()
        production.close()
        untrusting.close()
        patch.undo()
        for node in (athens, thessaloniki):
            if node.database:
                postgres.drop_database(node.database)


def test_a_peers_signed_requests_through_the_proxy_verify(network):
    athens, thessaloniki, production, _nginx, _certificate = network
    listed = thessaloniki.knet("peer", "list")
    assert re.search(r"Δήμος Αθηναίων.*active", listed.stdout), listed.stdout  # its handshake was signed too
    changes = athens.url + "/federation/changes?after=0&limit=5"
    with at(thessaloniki) as app:
        ring = keys.load(Path(app.instance_path))
        answer = client.get_signed(changes, ring, thessaloniki.url)
        assert answer.status == 200 and answer.document is not None
        signed = signatures.sign_request("GET", changes, {}, b"", key_url(thessaloniki.url, ring.current.id),
                                         ring.current.private_key)
    # Athens checks a signature against its own `url` and the request's path, never against the address
    # the request came to: the same signed request verifies sent straight to gunicorn over plain HTTP.
    direct = urlsplit(changes)._replace(scheme="http", netloc=f"127.0.0.1:{production.port}").geturl()
    assert requests.get(direct, headers=signed, timeout=10).status_code == 200
    unsigned = requests.get(changes, timeout=10, headers={"Accept": "application/json"})
    assert unsigned.status_code == 401


def test_a_person_of_the_node_behind_the_proxy_signs_in_at_a_peer(network):
    athens, thessaloniki, _production, _nginx, _certificate = network
    username = person_of(athens, "maria")
    browser = Browser()
    login = browser.open("GET", thessaloniki.url + "/login")
    started = browser.open("POST", thessaloniki.url + "/auth/peers/start",
                           data={"peer": athens.url, "next": "/pages/", "csrf_token": csrf_token(login.text)})
    assert location(started).startswith(athens.url + "/oauth/authorize?")
    sign_in = browser.go("GET", location(started))
    assert urlsplit(sign_in.url).path == "/login" and sign_in.url.startswith(athens.url)
    # A browser sends the page's address as Referer (same origin): over HTTPS the node demands it.
    asked = browser.go("POST", athens.url + "/login", headers={"Referer": sign_in.url},
                       data={**form_fields(sign_in.text, "/login"), "username": username, "password": PASSWORD})
    assert asked.status_code == 200 and "/oauth/authorize" in asked.url, asked.text[:2000]
    fields = form_fields(asked.text, "/oauth/authorize?")
    arrived = browser.go("POST", asked.url, headers={"Referer": asked.url}, data={**fields, "allow": "x"})
    assert arrived.status_code == 200 and arrived.url == thessaloniki.url + "/pages/", arrived.text[:2000]
    assert me(browser, thessaloniki)["username"] == f"maria@{urlsplit(athens.url).netloc}"
    discovery = requests.get(athens.url + "/.well-known/openid-configuration", timeout=10).json()
    assert discovery["issuer"] == athens.url and discovery["token_endpoint"].startswith(athens.url + "/")


def test_the_node_knows_the_visitors_address_and_https_from_its_proxy_only(network):
    athens, _thessaloniki, production, untrusting_nginx, certificate = network
    tls = ssl.create_default_context(cafile=str(certificate))
    # Through nginx: the audit log has the visitor's address, and a form without a Referer is refused
    # (Flask-WTF's check of secure requests), which shows the node knows the request came over HTTPS.
    assert failed_sign_in(athens, "127.0.0.1", urlsplit(athens.url).port, tls, "eve", VISITOR,
                          referer=athens.url + "/login") == 401
    assert last_address(athens, "eve") == VISITOR
    assert failed_sign_in(athens, "127.0.0.1", urlsplit(athens.url).port, tls, "eve", VISITOR, referer=None) == 400
    assert failed_sign_in(athens, "127.0.0.1", urlsplit(athens.url).port, tls, "eve", VISITOR,
                          referer="https://evil.example/login") == 400

    # Straight to gunicorn from another address, with made-up headers: none is believed.
    lies = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    assert failed_sign_in(athens, "127.0.0.1", production.port, None, "mallory", STRANGER, referer=None,
                          headers=lies) == 401
    assert last_address(athens, "mallory") == STRANGER

    # Without trusted_proxies, nginx's own headers are not believed either: the node sees nginx's address
    # and plain HTTP.
    assert failed_sign_in(athens, "127.0.0.1", untrusting_nginx.port, tls, "trudy", VISITOR, referer=None) == 401
    assert last_address(athens, "trudy") == PROXY


def failed_sign_in(node, host: str, port: int, tls: ssl.SSLContext | None, username: str, source: str,
                   referer: str | None, headers: dict | None = None) -> int:
    """Open the sign-in page and send a wrong password, from the loopback address `source`, over TLS when
    `tls` is given; the status of the answer to the form."""
    def request(method: str, path: str, body: str | None = None, extra: dict | None = None):
        if tls is not None:
            connection = http.client.HTTPSConnection(host, port, context=tls, source_address=(source, 0), timeout=10)
        else:
            connection = http.client.HTTPConnection(host, port, source_address=(source, 0), timeout=10)
        try:
            connection.request(method, path, body=body, headers={**(headers or {}), **(extra or {})})
            answer = connection.getresponse()
            return answer.status, answer.getheader("Set-Cookie") or "", answer.read().decode(errors="replace")
        finally:
            connection.close()

    status, set_cookie, page = request("GET", "/login")
    assert status == 200
    cookie = SimpleCookie()
    cookie.load(set_cookie)
    form = {"username": username, "password": "not " + PASSWORD, "next": "", "csrf_token": csrf_token(page)}
    sent = {"Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{name}={morsel.value}" for name, morsel in cookie.items())}
    if referer:
        sent["Referer"] = referer
    status, _cookie, _page = request("POST", "/login", urlencode(form), sent)
    return status


def last_address(node, username: str) -> str:
    with at(node):
        return db.session.scalars(select(AuditEvent.address).where(AuditEvent.username == username)
                                  .order_by(AuditEvent.id.desc())).first()
