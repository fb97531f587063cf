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


def left_out_for(breakers: Breakers, clock: Clock, seconds: float) -> bool:
    """Whether the peer is left out until `seconds` from now and asked (probed) then."""
    start = clock.now
    clock.now = start + seconds - 0.01
    refused = breakers.allows(PEER) is None
    clock.now = start + seconds
    return refused


def test_a_failing_peer_is_left_out_longer_each_time_and_probed_once():
    clock = Clock()
    breakers = Breakers(clock)
    sent = breakers.allows(PEER)
    assert sent is not None
    breakers.failed(PEER, sent)
    assert left_out_for(breakers, clock, 5.0)
    probe = breakers.allows(PEER)
    assert probe is not None
    assert breakers.allows(PEER) is None  # others wait for the probe's outcome
    breakers.failed(PEER, probe)
    assert left_out_for(breakers, clock, 10.0)
    probe = breakers.allows(PEER)
    breakers.succeeded(PEER, probe)
    assert breakers.allows(PEER) is not None and breakers.allows(PEER) is not None


def test_searches_that_fail_together_count_as_one_failure():
    clock = Clock()
    breakers = Breakers(clock)
    waiting = [breakers.allows(PEER) for _ in range(8)]  # eight searches asked it before it failed
    for generation in waiting:
        breakers.failed(PEER, generation)
    assert left_out_for(breakers, clock, 5.0)
    # A late success of a request sent before the failure closes the circuit: the peer is back, for every search.
    breakers.succeeded(PEER, waiting[0])
    assert breakers.allows(PEER) is not None and breakers.allows(PEER) is not None


def test_the_wait_is_capped_and_other_peers_are_not_affected():
    clock = Clock()
    breakers = Breakers(clock)
    for _ in range(20):
        clock.now += CAP
        breakers.failed(PEER, breakers.allows(PEER))
    assert left_out_for(breakers, clock, CAP)
    assert breakers.allows("http://127.0.0.1:5002") is not None


def test_a_probe_that_never_went_out_lets_the_next_search_probe():
    clock = Clock()
    breakers = Breakers(clock)
    breakers.failed(PEER, breakers.allows(PEER))
    clock.now += 5.0
    probe = breakers.allows(PEER)
    breakers.abandoned(PEER, probe)
    assert breakers.allows(PEER) is not None
