"""federation.replicas and federation.protocol in one node: activities from a peer (built as the peer's
change log builds them) applied in any order end in the right state, a tombstone holds, a peer's HTML is
sanitised, replicas are found by `scope=network` searches with their home, and removing a peer purges them."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from federation import discovery, protocol, replicas
from federation.models import Peer, Replica
from knet import content, jobs
from knet.db import db
from knet.search.indexing import node_index
from knet.search.index import Viewer, search

PEER = "http://127.0.0.1:7"
WHEN = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def peer(app):
    found = Peer(url=PEER, name="Δήμος Ηρακλείου", keys=[], added_us=True)
    db.session.add(found)
    db.session.commit()
    return found


def page(number: int, title: str, body: str = "Κείμενο", visibility: str = "public") -> dict:
    return content.document(id=f"{PEER}/pages/{number}", type="Article", name=title, url=f"{PEER}/wiki/{number}",
                            content=f"<p>{body}</p>", source=body, language="el", visibility=visibility,
                            updated=WHEN)


def activity(kind: str, seq: int, document: dict | None, uri: str | None = None) -> dict:
    return protocol.build(PEER, discovery.actor_url(PEER), seq, kind, uri or document["id"], document, WHEN)


def apply(peer: Peer, built: dict) -> bool:
    changed = replicas.apply(peer, protocol.parse(built, PEER, discovery.actor_url(PEER)))
    db.session.commit()
    return changed


def state(uri: str) -> tuple[int, str | None] | None:
    replica = replicas.get(uri)
    return None if replica is None else (replica.version, (replica.document or {}).get("name"))


def index_now() -> None:
    jobs.run_pending()


URI = f"{PEER}/pages/1"


@pytest.mark.parametrize("order, expected", [
    # Update before Create: the Create is older and changes nothing.
    ([("Update", 2, "Δεύτερη"), ("Create", 1, "Πρώτη")], (2, "Δεύτερη")),
    # Two Updates swapped.
    ([("Create", 1, "Πρώτη"), ("Update", 3, "Τρίτη"), ("Update", 2, "Δεύτερη")], (3, "Τρίτη")),
    # Delete before Create, and Create after Delete: the tombstone holds.
    ([("Delete", 4, None), ("Create", 1, "Πρώτη")], (4, None)),
    ([("Create", 1, "Πρώτη"), ("Delete", 2, None), ("Update", 1, "Πρώτη ξανά"), ("Create", 1, "Πρώτη")], (2, None)),
    # Shared again after a Delete (visibility widened): a higher version comes back.
    ([("Create", 1, "Πρώτη"), ("Delete", 2, None), ("Create", 3, "Ξανά δημόσια")], (3, "Ξανά δημόσια")),
])
def test_any_order_ends_in_the_newest_state(peer, order, expected):
    for kind, seq, title in order:
        apply(peer, activity(kind, seq, page(1, title) if title else None, uri=URI))
    assert state(URI) == expected


def test_a_replay_changes_nothing(peer):
    built = activity("Create", 5, page(1, "Οδηγός προμηθειών"))
    assert apply(peer, built) is True
    assert apply(peer, built) is False and state(URI) == (5, "Οδηγός προμηθειών")


def test_a_peers_html_is_sanitised_again(peer):
    document = page(1, "Σελίδα") | {"content": '<p onclick="steal()">Γεια<script>alert(1)</script>'
                                               '<a href="javascript:alert(2)">x</a></p>'}
    apply(peer, activity("Create", 1, document))
    kept = replicas.get(URI).document["content"]
    assert "Γεια" in kept and "<script" not in kept and "onclick" not in kept and "javascript:" not in kept


def test_links_within_the_home_node_lead_there(peer):
    document = page(1, "Σελίδα") | {"content": '<p><a href="/wiki/ωράριο">Ωράριο</a> <a href="//cdn.example/x">x</a></p>'}
    apply(peer, activity("Create", 1, document))
    kept = replicas.get(URI).document["content"]
    assert f'href="{PEER}/wiki/ωράριο"' in kept and 'href="//cdn.example/x"' in kept


def test_replicas_are_found_by_network_searches_with_their_home(app, peer):
    apply(peer, activity("Create", 1, page(1, "Ανακύκλωση στο Ηράκλειο", "Πρόγραμμα ανακύκλωσης")))
    apply(peer, activity("Create", 2, page(2, "Εσωτερικό", "ανακύκλωση"), ))
    index_now()
    local = Viewer(home=app.config["KNET"]["url"])
    assert search(node_index(), "ανακύκλωση", viewer=local).total == 0
    found = search(node_index(), "ανακύκλωση", viewer=Viewer())
    assert {hit.uri for hit in found.hits} == {URI, f"{PEER}/pages/2"}
    assert all(hit.home == PEER for hit in found.hits)
    # Deleted at home: gone from search.
    apply(peer, activity("Delete", 3, None, uri=URI))
    index_now()
    assert [hit.uri for hit in search(node_index(), "ανακύκλωση", viewer=Viewer()).hits] == [f"{PEER}/pages/2"]


def test_the_search_api_takes_a_scope(client, peer):
    apply(peer, activity("Create", 1, page(1, "Ανακύκλωση στο Ηράκλειο")))
    index_now()
    local = client.get("/api/v1/search", query_string={"q": "ανακύκλωση"}).json
    network = client.get("/api/v1/search", query_string={"q": "ανακύκλωση", "scope": "network"}).json
    assert local["total"] == 0
    assert [(hit["uri"], hit["home"]) for hit in network["results"]] == [(URI, PEER)]


def test_removing_a_peer_purges_its_replicas_and_their_index_entries(peer):
    apply(peer, activity("Create", 1, page(1, "Ανακύκλωση")))
    apply(peer, activity("Delete", 2, None, uri=f"{PEER}/pages/9"))
    index_now()
    assert replicas.purge(peer) == 2
    db.session.delete(peer)
    db.session.commit()
    index_now()
    assert db.session.query(Replica).count() == 0
    assert search(node_index(), "ανακύκλωση", viewer=Viewer()).total == 0


@pytest.mark.parametrize("change, error, reason", [
    (lambda a: a | {"type": "Like"}, protocol.Malformed, "unsupported-type"),
    (lambda a: a | {"actor": "http://127.0.0.1:8/federation/actor"}, protocol.NotItsOwn, "actor-mismatch"),
    (lambda a: a | {"id": "http://127.0.0.1:8/federation/changes/1"}, protocol.NotItsOwn, "id-mismatch"),
    (lambda a: a | {"object": a["object"] | {"id": "http://127.0.0.1:8/pages/1"}}, protocol.NotItsOwn,
     "object-mismatch"),
    (lambda a: a | {"object": a["object"] | {"knet:version": "7"}, "knet:version": None}, protocol.Malformed,
     "no-version"),
    (lambda a: a | {"object": a["object"] | {"knet:visibility": "internal"}}, protocol.Malformed, "not-shareable"),
    (lambda a: a | {"object": a["object"] | {"type": "Question"}}, protocol.Malformed, "unsupported-object"),
    (lambda a: a | {"object": a["object"] | {"content": ["x"]}}, protocol.Malformed, "bad-field"),
    (lambda a: a | {"object": None}, protocol.Malformed, "no-object"),
    (lambda a: a | {"id": "javascript:alert(1)"}, protocol.Malformed, "bad-id"),
])
def test_bad_activities_are_refused_with_a_reason(change, error, reason):
    built = change(activity("Create", 1, page(1, "Σελίδα")))
    with pytest.raises(error) as refused:
        protocol.parse(built, PEER, discovery.actor_url(PEER))
    assert refused.value.reason == reason and str(refused.value.message)


def test_a_replica_page_is_read_only_with_its_home_and_a_link_home(client, peer):
    document = page(1, "Οδηγός ανακύκλωσης", "Πώς <em>ανακυκλώνουμε</em>.") | {
        "content": '<p>Πώς ανακυκλώνουμε<script>alert(1)</script><img src=x onerror="alert(2)"></p>'}
    apply(peer, activity("Create", 1, document))
    response = client.get("/network/object", query_string={"uri": URI})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Οδηγός ανακύκλωσης" in html and "Δήμος Ηρακλείου" in html and "Πώς ανακυκλώνουμε" in html
    assert f'href="{PEER}/wiki/1"' in html  # edit at home
    assert "<script>alert" not in html and "onerror" not in html


def test_a_network_replica_needs_a_signed_in_member(client, peer, make_user, sign_in):
    apply(peer, activity("Create", 1, page(1, "Πρακτικές προμηθειών", visibility="network")))
    assert client.get("/network/object", query_string={"uri": URI}).status_code == 404
    sign_in(make_user("eleni", role="reader"))
    assert client.get("/network/object", query_string={"uri": URI}).status_code == 200


def test_a_deleted_or_unknown_replica_says_so(client, peer):
    apply(peer, activity("Create", 1, page(1, "Παλιά σελίδα")))
    apply(peer, activity("Delete", 2, None, uri=URI))
    gone = client.get("/network/object", query_string={"uri": URI})
    assert gone.status_code == 410 and "Δήμος Ηρακλείου" in gone.get_data(as_text=True)
    for uri in (f"{PEER}/pages/404", "", "javascript:alert(1)", "x" * 5000):
        assert client.get("/network/object", query_string={"uri": uri}).status_code == 404


def test_a_question_replica_shows_its_answers_and_a_link_to_answer_at_home(client, peer):
    question = content.document(id=f"{PEER}/questions/5", type="Page", name="Πώς δηλώνω βλάβη;",
                                url=f"{PEER}/questions/5", content="<p>Ερώτηση</p>", visibility="public")
    answer = content.document(id=f"{PEER}/answers/8", type="Note", name="", url=f"{PEER}/questions/5#a8",
                              content="<p>Από την εφαρμογή.</p>", visibility="public", author="Νίκος",
                              in_reply_to=f"{PEER}/questions/5")
    apply(peer, activity("Create", 1, question))
    apply(peer, activity("Create", 2, answer))
    html = client.get("/network/object", query_string={"uri": f"{PEER}/questions/5"}).get_data(as_text=True)
    assert "Από την εφαρμογή." in html and "Νίκος" in html and f'href="{PEER}/questions/5"' in html


def test_search_results_lead_to_the_copy_here(client, peer):
    apply(peer, activity("Create", 1, page(1, "Ανακύκλωση στο Ηράκλειο")))
    index_now()
    html = client.get("/search", query_string={"q": "ανακύκλωση", "scope": "network"}).get_data(as_text=True)
    assert "/network/object?uri=http" in html and "Ανακύκλωση στο Ηράκλειο" in html
    assert "Δήμος Ηρακλείου" in html  # where it comes from
    local = client.get("/search", query_string={"q": "ανακύκλωση"}).get_data(as_text=True)
    assert "Ανακύκλωση στο Ηράκλειο" not in local
