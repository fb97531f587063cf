"""Deliveries to a peer that misbehaves (a fake peer on loopback that answers 429 with Retry-After, 503,
410, 401, an HTML error page, or never): retried with backoff or dead-lettered as its answer says, shown to
the administrator, and never holding up deliveries to the other peers."""
from __future__ import annotations

import time
from datetime import UTC

import pytest
from sqlalchemy import select

from federation.models import DeadLetter
from knet.db import db
from tests.federation.fake_peer import FakePeer
from tests.federation.network import at, eventually, live, peer_all, peer_row, replicas, write_page

#: Push alone (no pulls), so that what reaches the good peer came by push.
PUSH_ONLY = {"federation": {"pull_seconds": 0, "push_seconds": 1}}


def dead_letters(node) -> list[tuple[int, str]]:
    with at(node):
        return [(letter.status, letter.reason) for letter in db.session.scalars(select(DeadLetter))]


@pytest.mark.parametrize("behaviour", ["busy", "unavailable", "gone", "refused", "html", "silent"])
def test_a_misbehaving_peer_gets_backoff_or_dead_letters_and_holds_up_nobody(make_node, tmp_path, behaviour):
    athens = make_node("Δήμος Αθηναίων", worker=True, **PUSH_ONLY)
    heraklion = make_node("Δήμος Ηρακλείου", worker=True, **PUSH_ONLY)
    peer_all(athens, heraklion)
    with FakePeer(tmp_path / "fake") as fake:
        added = athens.knet("peer", "add", fake.url, "--yes")
        assert "the agreement is active" in added.stdout, added.stdout
        fake.behaviour = behaviour
        with at(athens):
            _id, uri = write_page("Κανονισμός καθαριότητας", "Ώρες αποκομιδής.")
        started = time.monotonic()
        eventually(lambda: uri in live(replicas(heraklion, athens)), "Heraklion receives the page", seconds=10)
        assert time.monotonic() - started < 4, "the good peer waited for the bad one"
        eventually(lambda: fake.deliveries >= 1, "the page is delivered to the fake peer too")

        if behaviour == "gone":  # refused for good: a dead letter, and the cursor moves on
            eventually(lambda: dead_letters(athens), "a dead letter is kept")
            [(status, reason)] = dead_letters(athens)
            assert status == 410 and "This node is closed" in reason
            row = peer_row(athens, fake)
            assert row.push_failures == 0 and row.pushed_seq >= 1
            assert "dead letters: 1" in athens.knet("peer", "list").stdout
            return

        # Otherwise: retried later, never dead-lettered.
        row = eventually(lambda: (found := peer_row(athens, fake)).push_failures >= 1 and found, "a failure is noted")
        wait = (row.next_push_at.replace(tzinfo=row.next_push_at.tzinfo or UTC) - row.failing_since.replace(
            tzinfo=row.failing_since.tzinfo or UTC)).total_seconds()
        if behaviour == "busy":
            assert 25 <= wait <= 31, wait  # the peer's Retry-After: 30
            time.sleep(3)
            assert fake.deliveries == 1 and peer_row(athens, fake).push_failures == 1
        elif behaviour == "silent":
            assert "did not answer within 5 seconds" in row.last_error
        else:
            assert 0.5 <= wait <= 2, wait  # the first backoff: 1 s and up to half again of jitter
            eventually(lambda: peer_row(athens, fake).push_failures >= 3, "it is tried again, waiting longer each time")
            assert fake.deliveries <= 4
        assert dead_letters(athens) == []
        listed = athens.knet("peer", "list").stdout
        assert "deliveries failing since" in listed and "waiting to be sent: 1 change(s)" in listed
        # And the good peer still gets new changes at once.
        with at(athens):
            _id, second = write_page("Δεύτερος κανονισμός", "Κι άλλο κείμενο.")
        started = time.monotonic()
        eventually(lambda: second in live(replicas(heraklion, athens)), "Heraklion receives the next page")
        assert time.monotonic() - started < 4
