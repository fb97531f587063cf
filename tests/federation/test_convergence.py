"""Convergence through outages between real nodes: a peer that was down catches up exactly, a node killed
in the middle of a delivery loses nothing, duplicates are no-ops, and a removed peer's replicas go (and
come back when it is added again)."""
from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import select

from federation import keys, signatures
from knet.db import db
from knet.jobs import Job
from tests.federation.network import (FAST, at, edit_page, eventually, live, peer_all, replicas, shared, whole_log,
                                      write_page)


def replica_index_jobs(node) -> int:
    """How many times the node changed a replica (each change queues one index job for it)."""
    with at(node):
        return sum(1 for payload in db.session.scalars(select(Job.payload).where(Job.kind == "search.index"))
                   if payload.get("type") == "federation.replica")


def converged(node, home) -> bool:
    return replicas(node, home) == shared(home)


@pytest.fixture
def two_towns(make_node):
    towns = make_node("Δήμος Αθηναίων", worker=True, **FAST), make_node("Δήμος Θεσσαλονίκης", worker=True, **FAST)
    peer_all(*towns)
    return towns


def test_a_peer_that_was_down_converges_exactly_and_the_others_are_not_held_up(make_node):
    athens, thessaloniki, heraklion = (make_node(name, worker=True, **FAST) for name in (
        "Δήμος Αθηναίων", "Δήμος Θεσσαλονίκης", "Δήμος Ηρακλείου"))
    peer_all(athens, thessaloniki, heraklion)
    thessaloniki.stop()
    with at(athens):  # 500 changes: 100 pages, each written and then edited four times
        ids = [write_page(f"Διαδικασία {number}", "Πρώτη μορφή.")[0] for number in range(100)]
        for round_ in range(4):
            for page_id in ids:
                edit_page(page_id, body=f"Μορφή {round_ + 2}.")
    eventually(lambda: converged(heraklion, athens), "Heraklion has every change while Thessaloniki is down")
    assert len(live(replicas(heraklion, athens))) == 100
    assert replicas(thessaloniki, athens) == {}

    thessaloniki.start()
    eventually(lambda: converged(thessaloniki, athens), "Thessaloniki catches up after its restart", seconds=60)
    # Each page was applied once, in its newest version (push and pull both brought it: one did nothing).
    assert replica_index_jobs(thessaloniki) == 100


def test_a_node_killed_in_the_middle_of_a_delivery_loses_nothing(two_towns):
    athens, thessaloniki = two_towns
    with at(athens):
        for number in range(200):
            write_page(f"Εγκύκλιος {number}", "Κείμενο εγκυκλίου.")
    eventually(lambda: replicas(thessaloniki, athens), "the first deliveries arrive", seconds=30)
    athens.process.kill()  # SIGKILL: no clean shutdown
    athens.process.wait()
    athens.start()
    eventually(lambda: converged(thessaloniki, athens) and len(live(replicas(thessaloniki, athens))) == 200,
               "Thessaloniki has all 200 pages after Athens's restart", seconds=60)
    assert replica_index_jobs(thessaloniki) == 200


def test_the_same_activity_by_push_by_pull_and_a_day_later_is_applied_once(two_towns):
    athens, thessaloniki = two_towns
    with at(athens):
        _page_id, uri = write_page("Ωράριο δημαρχείου", "08:00–15:00.")
    eventually(lambda: uri in replicas(thessaloniki, athens), "the page arrives")
    [activity] = whole_log(thessaloniki, athens)

    def deliver_again():
        body = json.dumps(activity).encode()
        url, key = f"{thessaloniki.url}/federation/inbox", keys.load(athens.instance).current
        headers = {"Content-Type": "application/activity+json"}
        headers.update(signatures.sign_request("POST", url, headers, body, keys.key_url(athens.url, key.id),
                                               key.private_key))
        return requests.post(url, data=body, headers=headers, timeout=10)

    # It came by push (the inbox keeps its id) and by pull (the same version, again).
    eventually(lambda: deliver_again().json().get("duplicate") is True, "the push was received")
    # A day later the inbox may have forgotten the id; the version alone keeps it from applying again.
    with at(thessaloniki):
        db.session.execute(db.text("DELETE FROM federation_received"))
        db.session.commit()
    later = deliver_again()
    assert later.status_code == 202 and later.json()["duplicate"] is False
    eventually(lambda: _jobs_done(thessaloniki), "Thessaloniki's worker applies what it received")
    assert replica_index_jobs(thessaloniki) == 1
    assert replicas(thessaloniki, athens) == shared(athens)


def _jobs_done(node) -> bool:
    with at(node):
        return not db.session.scalar(select(Job.id).where(Job.kind == "federation.apply", Job.state == "pending"))


def test_removing_a_peer_purges_its_replicas_and_adding_it_again_resyncs(two_towns):
    athens, thessaloniki = two_towns
    with at(athens):
        for number in range(5):
            write_page(f"Ανακοίνωση {number}", "Ανακοίνωση για τους πολίτες.")
    eventually(lambda: len(live(replicas(thessaloniki, athens))) == 5, "the five pages arrive")
    removed = thessaloniki.knet("peer", "remove", athens.url)
    assert removed.returncode == 0 and "its 5 replica(s) were removed" in removed.stdout
    eventually(lambda: _network_hits(thessaloniki, "ανακοίνωση") == 0, "the pages leave Thessaloniki's search")
    with at(thessaloniki):
        assert db.session.scalar(db.text("SELECT count(*) FROM federation_replicas")) == 0
    # Athens's deliveries are refused meanwhile; nothing comes back until Thessaloniki adds Athens again.
    with at(athens):
        write_page("Ανακοίνωση μετά τη διακοπή", "Νέα ανακοίνωση.")
    eventually(lambda: len(live(shared(athens))) == 6, "Athens records its new page")
    assert replicas(thessaloniki, athens) == {}
    assert thessaloniki.knet("peer", "add", athens.url, "--yes").returncode == 0
    eventually(lambda: converged(thessaloniki, athens) and len(live(replicas(thessaloniki, athens))) == 6,
               "a pull brings everything back")
    eventually(lambda: _network_hits(thessaloniki, "ανακοίνωση") == 6, "and search finds it again")


def _network_hits(node, words: str) -> int:
    answer = requests.get(f"{node.url}/api/v1/search", params={"q": words, "scope": "network"}, timeout=10)
    return answer.json()["total"]
