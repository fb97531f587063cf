"""The circuit breaker that spares network searches a peer that does not answer (federation.breaker)."""
from __future__ import annotations

from federation.breaker import CAP, Breakers

PEER = "http://127.0.0.1:5001"


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_failing_peer_is_left_out_longer_each_time_and_probed_once():
    clock = Clock()
    breakers = Breakers(clock)
    assert breakers.allows(PEER)
    breakers.failed(PEER)
    assert not breakers.allows(PEER) and breakers.waiting(PEER) == 5.0
    clock.now += 5.0
    assert breakers.allows(PEER)  # the probe
    assert not breakers.allows(PEER)  # others wait for the probe's outcome
    breakers.failed(PEER)
    assert breakers.waiting(PEER) == 10.0
    clock.now += 10.0
    assert breakers.allows(PEER)
    breakers.succeeded(PEER)
    assert breakers.allows(PEER) and breakers.allows(PEER) and breakers.waiting(PEER) == 0.0


def test_the_wait_is_capped_and_other_peers_are_not_affected():
    clock = Clock()
    breakers = Breakers(clock)
    for _ in range(20):
        breakers.failed(PEER)
    assert breakers.waiting(PEER) == CAP
    assert breakers.allows("http://127.0.0.1:5002")


def test_a_probe_that_never_went_out_lets_the_next_search_probe():
    clock = Clock()
    breakers = Breakers(clock)
    breakers.failed(PEER)
    clock.now += 5.0
    assert breakers.allows(PEER)
    breakers.abandoned(PEER)
    assert breakers.allows(PEER)
