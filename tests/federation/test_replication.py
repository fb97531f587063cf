"""Replication between real nodes (separate `knet run` processes with their workers, over real HTTP):
what one municipality shares appears at every peer, changes and deletions follow, and nothing internal
or private ever leaves."""
from __future__ import annotations

import pytest
import requests

from knet.db import db
from tests.federation.network import (FAST, at, delete_page, edit_page, eventually, live, peer_all, replicas,
                                      shared, whole_log, write_page)


@pytest.fixture
def three_towns(make_node):
    towns = [make_node(name, worker=True, **FAST) for name in ("Δήμος Αθηναίων", "Δήμος Θεσσαλονίκης",
                                                              "Δήμος Ηρακλείου")]
    peer_all(*towns)
    return towns


def network_search(node, words: str) -> list[tuple[str, str]]:
    answer = requests.get(f"{node.url}/api/v1/search", params={"q": words, "scope": "network"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return [(hit["uri"], hit["home"]) for hit in answer.json()["results"]]


def test_what_a_town_shares_reaches_every_peer_and_nothing_else_does(three_towns):
    athens, thessaloniki, heraklion = three_towns
    with at(athens):
        public_id, public = write_page("Οδηγός ανακύκλωσης", "Πώς οργανώνουμε την ανακύκλωση.", "public")
        network_id, network = write_page("Πρακτικές προμηθειών", "Για συναδέλφους άλλων δήμων.", "network")
        _internal_id, internal = write_page("Εσωτερικός κανονισμός", "Μυστικό εσωτερικό κείμενο.", "internal")
        _private_id, private = write_page("Προσωπικές σημειώσεις", "Ιδιωτικό κείμενο.", "private")
    expected = {public: "Οδηγός ανακύκλωσης", network: "Πρακτικές προμηθειών"}
    for town in (thessaloniki, heraklion):
        eventually(lambda: live(replicas(town, athens)) == expected, f"{town.name} has Athens's two shared pages")
    eventually(lambda: network_search(thessaloniki, "ανακύκλωση") == [(public, athens.url)],
               "a network search at Thessaloniki finds Athens's page, with Athens as its home")
    assert network_search(thessaloniki, "εσωτερικό μυστικό") == []

    # Edit with a new title (a rename), narrow one page's visibility, and delete the other.
    with at(athens):
        edit_page(public_id, title="Οδηγός ανακύκλωσης 2027", body="Νέοι κάδοι.")
    for town in (thessaloniki, heraklion):
        eventually(lambda: live(replicas(town, athens)).get(public) == "Οδηγός ανακύκλωσης 2027",
                   f"the new title reaches {town.name}")
    with at(athens):
        edit_page(network_id, visibility="internal")
        delete_page(public_id)
    for town in (thessaloniki, heraklion):
        eventually(lambda: live(replicas(town, athens)) == {}, f"{town.name} drops what Athens no longer shares")
        assert replicas(town, athens)[network][1] is None  # a tombstone stays
    eventually(lambda: network_search(thessaloniki, "ανακύκλωση") == [], "the deleted page leaves search")

    # Nothing internal or private was ever in a federation answer, nor is it at a peer.
    log = repr(whole_log(thessaloniki, athens))
    for secret in ("Εσωτερικός κανονισμός", "Μυστικό", "Προσωπικές σημειώσεις", "Ιδιωτικό", internal, private):
        assert secret not in log
    assert '"internal"' not in log and '"private"' not in log
    for town in (thessaloniki, heraklion):
        assert internal not in replicas(town, athens) and private not in replicas(town, athens)
    assert shared(athens)[network][1] is None


@pytest.mark.parametrize("only", ["push", "pull"])
def test_push_alone_and_pull_alone_each_deliver(make_node, only):
    """Either way on its own brings the change: push at once, pull at its next round."""
    settings = {"pull_seconds": 0, "push_seconds": 1} if only == "push" else {"pull_seconds": 1, "push_seconds": 3600}
    athens, thessaloniki = (make_node(name, worker=True, federation=settings)
                            for name in ("Δήμος Αθηναίων", "Δήμος Θεσσαλονίκης"))
    peer_all(athens, thessaloniki)
    if only == "pull":  # no push at all: Athens has suspended deliveries to Thessaloniki by a long backoff
        with at(athens):
            db.session.execute(db.text("UPDATE federation_peers SET next_push_at = '2999-01-01'"))
            db.session.commit()
    with at(athens):
        _id, uri = write_page("Ωράριο κοινωνικής υπηρεσίας", "Δευτέρα–Παρασκευή.")
    eventually(lambda: uri in live(replicas(thessaloniki, athens)), f"{only} alone delivers", seconds=15)
    with at(thessaloniki):
        received = db.session.scalar(db.text("SELECT count(*) FROM federation_received"))
    assert received == (1 if only == "push" else 0)


def test_the_change_log_answers_active_peers_only(make_node):
    athens, thessaloniki, stranger = (make_node(name) for name in ("Δήμος Αθηναίων", "Δήμος Θεσσαλονίκης",
                                                                     "Δήμος Ηρακλείου"))
    from tests.federation.network import signed_get
    url = f"{athens.url}/federation/changes"
    assert requests.get(url, timeout=10).status_code == 401
    assert signed_get(stranger, url).document["reason"] == "unknown-key"
    assert athens.knet("peer", "add", thessaloniki.url, "--yes").returncode == 0
    pending = signed_get(thessaloniki, url)
    assert pending.status == 401 and pending.document["reason"] == "not-active"
    assert thessaloniki.knet("peer", "add", athens.url, "--yes").returncode == 0
    assert signed_get(thessaloniki, url).status == 200
    outbox = signed_get(thessaloniki, f"{athens.url}/federation/outbox").document
    assert outbox["type"] == "OrderedCollection" and outbox["first"].startswith(url + "?after=0")
    # Anyone else reads the public outbox (the fediverse's), not the change log.
    public = signed_get(stranger, f"{athens.url}/federation/outbox")
    assert public.status == 200 and public.document["first"] == f"{athens.url}/federation/outbox?page=true"
    assert "knet:head" not in public.document
    for bad in ("after=-1", "after=abc", "limit=0", "limit=501", "after=99999999999"):
        answer = signed_get(thessaloniki, f"{url}?{bad}")
        assert answer.status == 400 and answer.document["field"] == bad.split("=")[0], bad
        assert str(2**31 - 1) in answer.document["detail"] or "500" in answer.document["detail"]
