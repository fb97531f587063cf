"""Every ActivityPub document of the shared corpus (14 server implementations' fixtures, Mastodon's) fed
to the inbox signed by a real peer key: as it is, spoken for by the peer, and with its ids moved to the
peer's host. Each is accepted or refused with a reason, never a 500, and what is accepted applies cleanly.
The corpus's real Mastodon inbox requests (draft-cavage signatures, from 2019) are refused as too old, before
their servers are asked for a key."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from federation import keys, signatures
from federation.models import Peer, Replica
from knet import jobs
from knet.db import db
from knet.jobs import DEAD, Job
from tests.xss import corpus_dir

PEER = "http://127.0.0.1:7"
DOCUMENTS = sorted(path.relative_to(corpus_dir()).as_posix()
                   for path in (corpus_dir() / "activitypub").rglob("*.json")
                   if "signed_inbox_requests" not in path.as_posix()) if corpus_dir().is_dir() else []
MASTODON_REQUESTS = sorted(path.name for path in (corpus_dir() / "activitypub" / "signed_inbox_requests_kepi")
                           .glob("00*.json")) if corpus_dir().is_dir() else []


@pytest.fixture
def ring(app, tmp_path):
    found = keys.ensure_key(tmp_path / "peer")
    key = found.current
    db.session.add(Peer(url=PEER, name="Δήμος Δοκιμών", added_us=True,
                        keys=[{"id": keys.key_url(PEER, key.id), "pem": keys.public_pem(key.public_key), "expires": None}]))
    db.session.commit()
    return found


def deliver(client, app, ring, body: bytes):
    url = app.config["KNET"]["url"] + "/federation/inbox"
    headers = {"Content-Type": "application/activity+json"}
    headers.update(signatures.sign_request("POST", url, headers, body, keys.key_url(PEER, ring.current.id),
                                           ring.current.private_key))
    return client.post("/federation/inbox", data=body, headers=headers)


def variants(document: dict) -> dict[str, bytes]:
    text = json.dumps(document)
    hosts = {value.split("/")[2] for value in _strings(document) if value.startswith(("http://", "https://"))}
    moved = text
    for host in hosts:
        moved = moved.replace(f"https://{host}", PEER).replace(f"http://{host}", PEER)
    moved_document = {**json.loads(moved), "actor": f"{PEER}/federation/actor"}
    found = {"as it is": text.encode(),
             "spoken for by the peer": json.dumps({**document, "actor": f"{PEER}/federation/actor"}).encode(),
             "moved to the peer": json.dumps(moved_document).encode()}
    if isinstance(moved_document.get("object"), dict):  # as a knet peer would send it: versioned and shareable
        shareable = {**moved_document["object"], "knet:version": 1, "knet:visibility": "public"}
        found["versioned and public"] = json.dumps({**moved_document, "object": shareable}).encode()
    return found


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_corpus_document_is_accepted_or_refused_with_a_reason(client, app, ring, corpus, name):
    document = json.loads((corpus / name).read_text(encoding="utf-8"))
    for how, body in variants(document).items():
        response = deliver(client, app, ring, body)
        assert response.status_code in (202, 400, 401), (how, response.status_code, response.get_data(as_text=True))
        if response.status_code != 202:
            problem = response.get_json()
            assert response.mimetype == "application/problem+json" and problem["detail"], (how, problem)
            assert problem.get("reason"), (how, problem)
    jobs.run_pending()
    assert db.session.scalar(select(Job.id).where(Job.state == DEAD)) is None
    for replica in db.session.scalars(select(Replica)):
        assert replica.uri.startswith(PEER + "/") and replica.version >= 1


@pytest.mark.parametrize("name", MASTODON_REQUESTS)
def test_real_mastodon_requests_are_refused_with_a_reason(client, ring, corpus, name):
    request = json.loads((corpus / "activitypub" / "signed_inbox_requests_kepi" / name).read_text(encoding="utf-8"))
    headers = {key: request[key] for key in ("Content-Type", "Date", "Digest", "Signature") if key in request}
    response = client.post("/federation/inbox", data=request["content"].encode("utf-8"), headers=headers)
    assert response.status_code == 401 and response.get_json()["reason"] == "too-old"


def test_the_corpus_is_there(corpus):
    assert len(DOCUMENTS) >= 100 and len(MASTODON_REQUESTS) == 7, Path(corpus)


def test_a_peer_cannot_speak_for_another_nodes_object(client, app, ring):
    from federation import protocol
    from tests.federation.test_replicas import WHEN, page
    other = "http://127.0.0.1:8"
    document = page(1, "Ξένη σελίδα") | {"id": f"{other}/pages/1"}
    built = protocol.build(PEER, f"{PEER}/federation/actor", 1, "Create", document["id"], document, WHEN)
    response = deliver(client, app, ring, json.dumps(built).encode())
    assert response.status_code == 401 and response.get_json()["reason"] == "object-mismatch"
    assert db.session.scalar(select(Replica.id)) is None
