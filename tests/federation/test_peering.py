"""Peering between real nodes (separate `knet run` processes over real HTTP): an agreement is active only
once both administrators have added each other; strangers, suspended peers and bad requests are refused
at the inbox with a reason, and nothing changes."""
from __future__ import annotations

import json

import pytest
import requests

from federation import keys, signatures

#: Run on SQLite only: the handshake over HTTP does not depend on the database.
pytestmark = pytest.mark.sqlite_only

INBOX = "/federation/inbox"


@pytest.fixture
def towns(make_node):
    return make_node("Δήμος Αθηναίων"), make_node("Δήμος Θεσσαλονίκης")


def listed(node) -> dict[str, str]:
    """What `knet peer list` says of each peer: its URL and its line."""
    result = node.knet("peer", "list")
    assert result.returncode == 0, result.stderr
    return {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("http")}


def fingerprint(node) -> str:
    return keys.fingerprint(keys.load(node.instance).current.public_key)


def signed_post(sender, receiver, document: dict | bytes, sent: bytes | None = None, **changes) -> requests.Response:
    """POST to the receiver's inbox, signed with the sender's current key (then `changes` to the headers, and
    `sent` as the body instead of what was signed)."""
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    url, key = receiver.url + INBOX, keys.load(sender.instance).current
    headers = {"Content-Type": "application/activity+json"}
    headers.update(signatures.sign_request("POST", url, headers, body, keys.key_url(sender.url, key.id),
                                           key.private_key))
    headers.update(changes)
    return requests.post(url, data=body if sent is None else sent, headers=headers, timeout=10)


def follow(sender, receiver) -> dict:
    return {"id": f"{sender.url}/federation/actor#peering-test", "type": "Follow",
            "actor": f"{sender.url}/federation/actor", "object": f"{receiver.url}/federation/actor"}


def test_an_agreement_is_active_once_both_sides_have_added_each_other(towns):
    athens, thessaloniki = towns
    added = athens.knet("peer", "add", thessaloniki.url, "--yes")
    assert added.returncode == 0, added.stderr
    assert "Δήμος Θεσσαλονίκης" in added.stdout and fingerprint(thessaloniki) in added.stdout
    assert f"knet peer add {athens.url}" in added.stdout  # what the other administrator must run
    assert "pending" in listed(athens)[thessaloniki.url]
    assert listed(thessaloniki) == {}  # the other side records nothing until its administrator acts

    back = thessaloniki.knet("peer", "add", athens.url, "--yes")
    assert back.returncode == 0, back.stderr
    assert "the agreement is active" in back.stdout
    assert "active" in listed(thessaloniki)[athens.url]
    assert "active" in listed(athens)[thessaloniki.url] and "pending" not in listed(athens)[thessaloniki.url]


def test_adding_asks_to_compare_the_fingerprint_and_a_no_adds_nothing(towns):
    athens, thessaloniki = towns
    result = athens.knet("peer", "add", thessaloniki.url, stdin="n\n")
    assert result.returncode == 1 and "Nothing was added." in result.stdout
    assert "Compare the fingerprint" in result.stdout and fingerprint(thessaloniki) in result.stdout
    assert listed(athens) == {}


@pytest.mark.parametrize("address, says", [
    ("ftp://127.0.0.1:21", "not a node's address"),
    ("http://127.0.0.1:9/", "Could not reach"),
    ("http://127.0.0.1:9/some/path", "Give the node's address alone"),
])
def test_bad_addresses_are_one_sentence(towns, address, says):
    athens, _thessaloniki = towns
    result = athens.knet("peer", "add", address, "--yes")
    assert result.returncode == 1 and says in result.stderr and "Traceback" not in result.stderr
    assert listed(athens) == {}


def test_a_node_does_not_peer_with_itself(towns):
    athens, _thessaloniki = towns
    result = athens.knet("peer", "add", athens.url, "--yes")
    assert result.returncode == 1 and "this node's own address" in result.stderr


def test_the_inbox_refuses_strangers_and_bad_requests_with_a_reason(towns, make_node):
    athens, thessaloniki = towns
    stranger = make_node("Δήμος Ηρακλείου")
    assert athens.knet("peer", "add", thessaloniki.url, "--yes").returncode == 0

    def refused(response, status: int, reason: str | None = None) -> dict:
        assert response.status_code == status, response.text
        problem = response.json()
        assert response.headers["Content-Type"].startswith("application/problem+json") and problem["detail"]
        if reason:
            assert problem.get("reason") == reason, problem
        return problem

    # Someone athens has not added, however well they sign.
    refused(signed_post(stranger, athens, follow(stranger, athens)), 401, "unknown-key")
    # Unsigned, tampered, or signed by a peer for another actor.
    refused(requests.post(athens.url + INBOX, json=follow(thessaloniki, athens), timeout=10), 401, "unsigned")
    changed_body = signed_post(thessaloniki, athens, follow(thessaloniki, athens),
                               sent=json.dumps(follow(thessaloniki, athens) | {"object": "x"}).encode())
    refused(changed_body, 401, "digest-mismatch")
    changed_digest = signed_post(thessaloniki, athens, follow(thessaloniki, athens),
                                 **{"Content-Digest": signatures.content_digest(b"{}")})
    refused(changed_digest, 401, "bad-signature")
    refused(signed_post(thessaloniki, athens, follow(stranger, athens)), 401, "actor-mismatch")
    # Signed by a peer, but not an activity.
    refused(signed_post(thessaloniki, athens, b"not json"), 400)
    refused(signed_post(thessaloniki, athens, [1, 2]), 400)
    refused(signed_post(thessaloniki, athens, b"x" * (1024 * 1024 + 1)), 413)
    # Content from a peer whose agreement is still pending.
    refused(signed_post(thessaloniki, athens, {**follow(thessaloniki, athens), "type": "Create"}), 401, "not-active")
    # None of this made the agreement active.
    assert "pending" in listed(athens)[thessaloniki.url] and stranger.url not in listed(athens)

    accepted = signed_post(thessaloniki, athens, follow(thessaloniki, athens))
    assert accepted.status_code == 202
    assert "active" in listed(athens)[thessaloniki.url]


def test_a_suspended_peer_is_refused_until_resumed_and_a_removed_one_is_gone(towns):
    athens, thessaloniki = towns
    assert athens.knet("peer", "add", thessaloniki.url, "--yes").returncode == 0
    assert thessaloniki.knet("peer", "add", athens.url, "--yes").returncode == 0
    suspended = athens.knet("peer", "suspend", thessaloniki.url)
    assert suspended.returncode == 0 and "suspended" in listed(athens)[thessaloniki.url]
    assert signed_post(thessaloniki, athens, follow(thessaloniki, athens)).status_code == 401
    assert athens.knet("peer", "resume", thessaloniki.url).returncode == 0
    assert "active" in listed(athens)[thessaloniki.url]
    assert signed_post(thessaloniki, athens, follow(thessaloniki, athens)).status_code == 202

    removed = athens.knet("peer", "remove", thessaloniki.url)
    assert removed.returncode == 0 and "no longer a peer" in removed.stdout
    assert listed(athens) == {}
    assert signed_post(thessaloniki, athens, follow(thessaloniki, athens)).status_code == 401
    unknown = athens.knet("peer", "remove", thessaloniki.url)
    assert unknown.returncode == 1 and "not a peer" in unknown.stderr
