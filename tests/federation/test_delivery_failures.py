"""Deliveries to peers that misbehave (fake peers on loopback that answer 429 with Retry-After, 503, 410,
401, an HTML error page, or never), all at once beside a good peer: each is retried with backoff or
dead-lettered as its answer says, shown to the administrator, and none holds up the good peer."""
from __future__ import annotations

import time
from contextlib import ExitStack
from datetime import UTC

import pytest
from sqlalchemy import select

from federation.models import DeadLetter, Peer
from knet.db import db
from tests.federation.fake_peer import FakePeer
from tests.federation.network import at, eventually, live, peer_all, peer_row, replicas, write_page

#: Push alone (no pulls), so that what reaches the good peer came by push.
PUSH_ONLY = {"federation": {"pull_seconds": 0, "push_seconds": 1}}
BEHAVIOURS = ("busy", "unavailable", "gone", "refused", "html", "silent")


def dead_letters(node) -> dict[str, list[tuple[int, str]]]:
    with at(node):
        rows = db.session.execute(select(Peer.url, DeadLetter.status, DeadLetter.reason).join(Peer))
        found: dict[str, list[tuple[int, str]]] = {}
        for url, status, reason in rows:
            found.setdefault(url, []).append((status, reason))
        return found


def seconds(moment) -> float:
    return moment.replace(tzinfo=moment.tzinfo or UTC).timestamp()


@pytest.mark.sqlite_only  # what misbehaving peers answer over HTTP does not depend on the database
def test_misbehaving_peers_get_backoff_or_dead_letters_and_hold_up_nobody(make_node, tmp_path):
    athens = make_node("Δήμος Αθηναίων", worker=True, **PUSH_ONLY)
    heraklion = make_node("Δήμος Ηρακλείου", worker=True, **PUSH_ONLY)
    peer_all(athens, heraklion)
    with ExitStack() as stack:
        fakes = {}
        for behaviour in BEHAVIOURS:
            fake = fakes[behaviour] = stack.enter_context(FakePeer(tmp_path / behaviour, name=f"Δήμος {behaviour}"))
            added = athens.knet("peer", "add", fake.url, "--yes")
            assert "the agreement is active" in added.stdout, added.stdout
            fake.behaviour = behaviour
        with at(athens):
            _id, uri = write_page("Κανονισμός καθαριότητας", "Ώρες αποκομιδής.")
        started = time.monotonic()
        eventually(lambda: uri in live(replicas(heraklion, athens)), "Heraklion receives the page", seconds=10)
        assert time.monotonic() - started < 4, "the good peer waited for the bad ones"
        for behaviour, fake in fakes.items():
            eventually(lambda: fake.deliveries >= 1, f"the page is delivered to the {behaviour} peer too")

        # Refused for good (410): a dead letter, and the cursor moves on.
        eventually(lambda: fakes["gone"].url in dead_letters(athens), "a dead letter is kept")
        [(status, reason)] = dead_letters(athens)[fakes["gone"].url]
        assert status == 410 and "This node is closed" in reason
        gone = peer_row(athens, fakes["gone"])
        assert gone.push_failures == 0 and gone.pushed_seq >= 1
        # The others: retried later, never dead-lettered.
        for behaviour in ("busy", "unavailable", "refused", "html", "silent"):
            row = eventually(lambda: (found := peer_row(athens, fakes[behaviour])).push_failures >= 1 and found,
                             f"a failure is noted for the {behaviour} peer")
            wait = seconds(row.next_push_at) - seconds(row.failing_since)
            if behaviour == "busy":
                assert 25 <= wait <= 31, wait  # its Retry-After: 30
            elif behaviour == "silent":
                assert "did not answer within 5 seconds" in row.last_error
            else:
                # Backoffs of 1 s, 2 s, 4 s… each with up to half again of jitter, from the first failure to the
                # next try: on a busy machine the row may be read after the second or third failure already.
                failures = row.push_failures
                least, most = 2 ** failures - 1, 1.5 * (2 ** failures - 1) + 2 * (failures - 1)
                assert least - 0.5 <= wait <= most + 0.5, (behaviour, failures, wait)
        for behaviour in ("unavailable", "refused", "html"):
            eventually(lambda: peer_row(athens, fakes[behaviour]).push_failures >= 3,
                       f"the {behaviour} peer is tried again, waiting longer each time")
            assert fakes[behaviour].deliveries <= 4
        assert fakes["busy"].deliveries == 1 and peer_row(athens, fakes["busy"]).push_failures == 1
        assert set(dead_letters(athens)) == {fakes["gone"].url}
        listed = athens.knet("peer", "list").stdout
        assert "dead letters: 1" in listed and listed.count("deliveries failing since") == 5
        assert listed.count("waiting to be sent: 1 change(s)") == 5
        # And the good peer still gets new changes at once.
        with at(athens):
            _id, second = write_page("Δεύτερος κανονισμός", "Κι άλλο κείμενο.")
        started = time.monotonic()
        eventually(lambda: second in live(replicas(heraklion, athens)), "Heraklion receives the next page")
        assert time.monotonic() - started < 4
