"""Every ActivityPub document of the shared corpus (Lemmy's fixtures from 14 implementations, and Mastodon's),
sent to the inbox signed by a fake Mastodon server that is not a peer: as it is, spoken for by the signer,
and (for a Follow) aimed at the node actor. Each is taken (202) or refused with a reason, never a 500;
the fediverse parser reads each without a crash; nothing is ever written but a follower."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from federation import fediverse
from federation.models import Follower, Received, Replica
from federation.protocol import Refused
from knet.db import db
from tests.federation.fake_mastodon import FakeMastodon
from tests.federation.test_fediverse import ACTOR, send
from tests.xss import corpus_dir

FOLDERS = ("activitypub/lemmy_apub_assets", "activitypub/mastodon_spec_fixtures")
DOCUMENTS = sorted(path.relative_to(corpus_dir()).as_posix() for folder in FOLDERS
                   for path in (corpus_dir() / folder).rglob("*") if path.suffix in (".json", ".txt")
                   ) if corpus_dir().is_dir() else []


@pytest.fixture(scope="module")
def mastodon():
    with FakeMastodon() as server:
        yield server


def read(corpus, name: str) -> object:
    """The document: a JSON file, or the body of a recorded HTTP answer (Mastodon's fixtures)."""
    text = (corpus / name).read_text(encoding="utf-8")
    if name.endswith(".txt"):
        text = text.replace("\r\n", "\n").split("\n\n", 1)[1]
    return json.loads(text)


def variants(document: object, server: FakeMastodon) -> dict[str, object]:
    found = {"as it is": document}
    if isinstance(document, dict):
        found["spoken for by the signer"] = {**document, "actor": server.actor}
        if document.get("type") in ("Follow", "Undo"):
            found["aimed at the node"] = {**document, "actor": server.actor, "object": ACTOR}
    return found


def test_every_corpus_document_is_taken_or_refused_with_a_reason(app, client, corpus, mastodon):
    """One node for all of them (a node per document took a minute): each failure names its document."""
    assert len(DOCUMENTS) >= 130, corpus
    failures, statuses = [], set()
    for name in DOCUMENTS:
        for how, variant in variants(read(corpus, name), mastodon).items():
            try:
                parsed = fediverse.parse(variant, ACTOR)
            except Refused as exc:
                if not (exc.reason and str(exc.message)):
                    failures.append((name, how, "parser", exc))
            else:
                if parsed.type not in ("Follow", "Undo") or not parsed.actor:
                    failures.append((name, how, "parser", parsed))
            response = send(client, mastodon, json.dumps(variant).encode())
            statuses.add(response.status_code)
            problem = response.get_json() if response.status_code != 202 else {}
            if response.status_code not in (202, 400, 401, 403) or (problem and not (
                    response.mimetype == "application/problem+json" and problem["detail"] and problem["reason"])):
                failures.append((name, how, response.status_code, response.get_data(as_text=True)[:300]))
    assert failures == []
    assert statuses == {202, 400, 401, 403}, "the corpus has follows, wrong objects, other actors and other activities"
    assert db.session.scalar(select(func.count()).select_from(Received)) == 0
    assert db.session.scalar(select(func.count()).select_from(Replica)) == 0
    assert list(db.session.scalars(select(Follower.actor))) in ([], [mastodon.actor])
