"""federation/cavage.py: real Mastodon requests and the draft's test vectors verify; the vectors re-sign to the
very same bytes; a request changed by one byte, and every other way a signature can be wrong, is refused
with its own reason."""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from federation import cavage
from federation.cavage import SignatureRefused, verify_request

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://athens.example.gr/federation/inbox"
KEY_ID = "https://mastodon.example/users/eleni#main-key"
BODY = json.dumps({"type": "Follow", "actor": "https://mastodon.example/users/eleni"}).encode()
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEPI = "activitypub/signed_inbox_requests_kepi"
REQUESTS = [f"00{n:02d}.json" for n in (0, 1, 4, 5, 9, 29, 30)]


@pytest.fixture(autouse=True)
def _app(app):
    """Refusals carry translatable sentences, which need an app (the node's own, in Greek)."""


def kepi(corpus, name: str):
    """A recorded request: its headers, body, key id and the key it verifies with."""
    recorded = json.loads((corpus / KEPI / name).read_text(encoding="utf-8"))
    expected = {entry["file"]: entry for entry in json.loads((corpus / KEPI / "expected_verification.json")
                                                             .read_text(encoding="utf-8"))}[name]
    headers = {name: recorded[name] for name in ("Host", "Date", "Digest", "Content-Type", "Signature")}
    key = load_pem_public_key((corpus / KEPI / expected["public_key_file"]).read_bytes())
    return recorded["url"], headers, recorded["content"].encode("utf-8"), expected, key


def replay(target, headers, body, key_id, key, **options):
    return verify_request("POST", target, headers, body, lambda asked: key if asked == key_id else None,
                          check_clock=False, **options)


def refusal(*args, **options) -> str:
    with pytest.raises(SignatureRefused) as caught:
        replay(*args, **options)
    assert caught.value.message.strip() and caught.value.extra["reason"] == caught.value.reason
    return caught.value.reason


def one_byte_changed(text: str, at: int) -> str:
    """The text with one character replaced by another that keeps it well formed (a letter by a letter)."""
    character = text[at]
    return text[:at] + ("B" if character == "A" else "A") + text[at + 1:]


@pytest.mark.parametrize("name", REQUESTS)
def test_every_recorded_mastodon_request_verifies_with_its_key(corpus, name):
    target, headers, body, expected, key = kepi(corpus, name)
    verified = replay(target, headers, body, expected["keyId"], key)
    assert verified.key_id == expected["keyId"]
    assert " ".join(verified.headers) == expected["signed_headers"]
    assert cavage.signing_string("POST", target, headers, verified.headers) == expected["expected_signing_string"]
    assert cavage.digest(body) == headers["Digest"]


@pytest.mark.parametrize("name", REQUESTS)
def test_a_recorded_request_changed_by_one_byte_is_refused(corpus, name):
    target, headers, body, expected, key = kepi(corpus, name)
    key_id = expected["keyId"]
    # The body: its digest no longer matches, and with the digest recomputed the signature no longer does.
    for at in (0, len(body) // 2, len(body) - 1):
        changed = bytearray(body)
        changed[at] ^= 0x01
        assert refusal(target, headers, bytes(changed), key_id, key) == "digest-mismatch"
        assert refusal(target, {**headers, "Digest": cavage.digest(bytes(changed))}, bytes(changed), key_id,
                       key) == "bad-signature"
    # Each signed header, and the request target.
    for header in ("Host", "Date", "Content-Type"):
        assert refusal(target, {**headers, header: one_byte_changed(headers[header], 1)}, body, key_id,
                       key) == "bad-signature", header
    assert refusal(target + "x", headers, body, key_id, key) == "bad-signature"
    # The signature itself, at its start, middle and end (still valid base64).
    value = headers["Signature"].split('signature="')[1].rstrip('"')
    for at in (0, len(value) // 2, len(value) - 5):
        signature = headers["Signature"].replace(value, one_byte_changed(value, at))
        assert refusal(target, {**headers, "Signature": signature}, body, key_id, key) == "bad-signature"
    # Another key.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    assert refusal(target, headers, body, key_id, other) == "bad-signature"


@pytest.mark.parametrize("name", REQUESTS)
def test_recorded_requests_are_too_old_when_the_clock_is_checked(corpus, name):
    target, headers, body, expected, key = kepi(corpus, name)
    asked = []
    with pytest.raises(SignatureRefused) as caught:
        verify_request("POST", target, headers, body, lambda key_id: asked.append(key_id) or key)
    assert caught.value.reason == "too-old"
    assert asked == [], "a stale request costs no request to its server for the key"


def vectors(corpus) -> list[dict]:
    return json.loads((corpus / "httpsig" / "cavage" / "cavage_test_vectors.json").read_text(encoding="utf-8"))


def test_the_drafts_test_vectors_verify_and_sign_to_the_same_bytes(corpus):
    folder = corpus / "httpsig" / "cavage"
    public_key = load_pem_public_key((folder / "cavage_test_key_Test.pub.pem").read_bytes())
    private_key = load_pem_private_key((folder / "cavage_test_key_Test.priv.pem").read_bytes(), password=None)
    found = vectors(corpus)
    assert len(found) == 5
    for vector in found:
        request = vector["request"]
        method, target, headers, body = request["method"], request["target"], request["headers"], request["body"]
        covered = tuple(vector["headers_param"].split()) if vector["headers_param"] else None
        for header in ({"Signature": vector["signature_header"]}, {"Authorization": vector["authorization_header"]}):
            verified = verify_request(method, target, {**headers, **header}, body.encode(), lambda key_id: public_key,
                                      check_clock=False, required=())
            assert verified.key_id == "Test" and verified.headers == (covered or ("date",)), vector["name"]
        assert cavage.signing_string(method, target, headers, covered or ("date",)) == vector["signing_string"]
        signed = cavage.sign(method, target, headers, "Test", private_key, covered)
        assert signed == vector["signature_header"], vector["name"]
        assert "Signature " + signed == vector["authorization_header"]


def test_a_request_signed_here_verifies_there_with_the_clock_checked():
    headers = cavage.sign_request("POST", URL, BODY, KEY_ID, KEY, now=NOW)
    assert set(headers) == {"Host", "Date", "Digest", "Signature"}
    assert headers["Host"] == "athens.example.gr" and headers["Date"] == "Sun, 01 Mar 2026 12:00:00 GMT"
    assert 'headers="(request-target) host date digest"' in headers["Signature"]
    verified = verify_request("POST", "/federation/inbox", headers, BODY, lambda key_id: KEY.public_key(),
                              now=NOW + timedelta(seconds=30))
    assert verified.key_id == KEY_ID and verified.date == NOW
    get = cavage.sign_request("GET", "https://mastodon.example/users/eleni?x=1", b"", KEY_ID, KEY, now=NOW)
    assert "Digest" not in get and 'headers="(request-target) host date"' in get["Signature"]
    verify_request("GET", "/users/eleni?x=1", get, b"", lambda key_id: KEY.public_key(), now=NOW)


def signed(covered=cavage.SIGNED_HEADERS, algorithm="rsa-sha256", key=KEY, date=NOW, body=BODY) -> dict[str, str]:
    headers = {"Host": "athens.example.gr", "Date": cavage.http_date(date), "Digest": cavage.digest(body)}
    headers["Signature"] = cavage.sign("POST", "/federation/inbox", headers, KEY_ID, key, covered, algorithm)
    return headers


def refused(headers, body=BODY, key=KEY.public_key(), now=NOW) -> str:
    with pytest.raises(SignatureRefused) as caught:
        verify_request("POST", "/federation/inbox", headers, body, lambda key_id: key, now=now)
    return caught.value.reason


def test_every_way_a_signature_can_be_wrong_has_its_reason():
    good = signed()
    assert verify_request("POST", "/federation/inbox", good, BODY, lambda key_id: KEY.public_key(), now=NOW)
    assert verify_request("POST", "/federation/inbox", signed(algorithm="hs2019"), BODY,
                          lambda key_id: KEY.public_key(), now=NOW)
    assert refused({"Host": "athens.example.gr"}) == "unsigned"
    assert refused({**good, "Signature": "Bearer abc"}) == "malformed"
    assert refused({**good, "Signature": 'keyId="x",signature="not base64!"'}) == "malformed"
    assert refused({**good, "Signature": good["Signature"] + ',keyId="again"'}) == "malformed"
    assert refused({**good, "Signature": 'keyId="x",headers="",signature="AAAA"'}) == "malformed"
    assert refused({**good, "Signature": "x" * 10_000}) == "malformed"
    assert refused(signed(algorithm="hmac-sha256")) == "wrong-algorithm"
    assert refused(good, key=Ed25519PrivateKey.generate().public_key()) == "wrong-algorithm"
    assert refused(signed(covered=("(request-target)", "host", "date"))) == "not-covered"
    assert refused(signed(covered=("(request-target)", "date", "digest"))) == "not-covered"
    assert refused({key: value for key, value in good.items() if key != "Date"}) == "missing-date"
    assert refused({**good, "Date": "yesterday"}) == "missing-date"
    assert refused(good, now=NOW + timedelta(seconds=cavage.MAX_AGE + 1)) == "too-old"
    assert refused(good, now=NOW - timedelta(seconds=cavage.MAX_AHEAD + 1)) == "in-future"
    assert refused({key: value for key, value in good.items() if key != "Digest"}) == "missing-digest"
    no_digest = {"Host": "athens.example.gr", "Date": cavage.http_date(NOW)}
    no_digest["Signature"] = cavage.sign("POST", "/federation/inbox", no_digest, KEY_ID, KEY,
                                         ("(request-target)", "host", "date"))
    with pytest.raises(SignatureRefused) as caught:
        verify_request("POST", "/federation/inbox", no_digest, BODY, lambda key_id: KEY.public_key(), now=NOW,
                       required=("(request-target)", "host", "date"))
    assert caught.value.reason == "missing-digest"
    assert refused({**good, "Digest": "SHA-256=" + base64.b64encode(b"x" * 32).decode()}) == "digest-mismatch"
    assert refused({**good, "Digest": "MD5=abc"}) == "digest-mismatch"
    assert refused(good, key=None) == "unknown-key"
    assert refused(good, body=BODY + b" ") == "digest-mismatch"
    assert set(cavage.REASONS) >= {"unsigned", "malformed", "wrong-algorithm", "not-covered", "missing-date",
                                   "too-old", "in-future", "missing-digest", "digest-mismatch", "unknown-key",
                                   "bad-signature"}


def test_a_sha512_digest_is_accepted_beside_sha256():
    both = cavage.digest(BODY) + ",SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    headers = {"Host": "athens.example.gr", "Date": cavage.http_date(NOW), "Digest": both}
    headers["Signature"] = cavage.sign("POST", "/federation/inbox", headers, KEY_ID, KEY)
    assert verify_request("POST", "/federation/inbox", headers, BODY, lambda key_id: KEY.public_key(), now=NOW)
