"""A circuit breaker per peer for live searches: a peer that failed to answer is left out for a while,
longer after each failure in a row, then asked again by one search (a probe) while the others still
leave it out; an answer closes the circuit.

Searches that were already waiting on the peer when it failed fail with it: each request carries the
circuit's generation it was sent under, and only the first failure of a generation counts, so one bad
moment is one failure however many searches it touched.

Each process keeps its own breakers: they spare this process's searches the wait, and a peer that
recovers is probed again within minutes by each.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Seconds a peer is left out after its first failure; doubled after each further one, up to CAP.
BASE = 5.0
CAP = 300.0


@dataclass
class _State:
    failures: int = 0
    open_until: float = 0.0
    probing: bool = False
    generation: int = 0


class Breakers:
    """The circuit of each peer (by URL), thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def allows(self, peer: str) -> int | None:
        """Whether to ask this peer now: the generation to report the outcome under, or None. Yes while
        its circuit is closed; once it is open, no until the wait is over, then yes for one probe at a time."""
        with self._lock:
            state = self._states.setdefault(peer, _State())
            if state.failures == 0:
                return state.generation
            if state.probing or self._clock() < state.open_until:
                return None
            state.probing = True
            return state.generation

    def succeeded(self, peer: str, generation: int) -> None:
        """The peer answered: its circuit closes."""
        with self._lock:
            state = self._states.setdefault(peer, _State())
            if state.failures:
                state.failures, state.probing, state.open_until = 0, False, 0.0
                state.generation += 1

    def failed(self, peer: str, generation: int) -> None:
        """A request sent under ``generation`` got no answer; it counts if nothing was counted since."""
        with self._lock:
            state = self._states.setdefault(peer, _State())
            if generation != state.generation:
                return
            state.failures += 1
            state.generation += 1
            state.probing = False
            state.open_until = self._clock() + min(BASE * 2 ** (state.failures - 1), CAP)

    def abandoned(self, peer: str, generation: int) -> None:
        """A request that never went out (this node was too busy): if it was the probe, the next search probes."""
        with self._lock:
            state = self._states.get(peer)
            if state is not None and state.generation == generation:
                state.probing = False
