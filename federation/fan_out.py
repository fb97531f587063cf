"""Network search's live part: every active peer is asked at once, and what has come back by the deadline
([federation] search_deadline_ms, 1,500 by default) is used. A peer that answered nothing in time, or
answered something other than a search answer, is named as silent, and its circuit breaker leaves it out
of the next searches for a while (federation.breaker).

Requests run in a pool of threads of their own. A request still running at the deadline is left to end by
its timeout (the deadline too), so a peer that accepts and never answers holds a thread for at most that.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from flask import Flask, current_app

from federation import client, keys, peers, search_protocol
from federation.breaker import Breakers
from federation.models import Peer
from federation.protocol import Malformed
from knet.search.network import Answer, Question, Replies, ask_peers_with

logger = logging.getLogger(__name__)

#: Requests to peers in flight at once, for all the searches of this process.
THREADS = 32


class PeerSearch:
    """Asks the active peers a question, within the deadline; one per application."""

    def __init__(self) -> None:
        self.breakers = Breakers()
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __call__(self, question: Question) -> Replies:
        deadline = time.monotonic() + current_app.config["KNET"]["federation"]["search_deadline_ms"] / 1000
        targets = [peer for peer in peers.all_peers()
                   if peer.state == "active" and question.filters.home in (None, peer.url)]
        if not targets:
            return Replies([])
        ring = keys.load(Path(current_app.instance_path))
        own, seconds = peers.own_url(), max(0.1, deadline - time.monotonic())
        asked: dict[Future, tuple[Peer, int, threading.Event]] = {}
        silent = []
        for peer in targets:
            generation = self.breakers.allows(peer.url)
            if generation is None:
                silent.append(peer.name)
                continue
            started = threading.Event()
            future = self._threads().submit(_ask, peer.url, question, ring, own, seconds, started)
            asked[future] = (peer, generation, started)
        done, _ = wait(asked, timeout=max(0.0, deadline - time.monotonic()))
        answers = []
        for future, (peer, generation, started) in asked.items():
            if future in done and future.exception() is None:
                answers.append(future.result())
                self.breakers.succeeded(peer.url, generation)
                continue
            if future in done:
                logger.info("Peer %s gave no search answer: %s", peer.url, future.exception())
                self.breakers.failed(peer.url, generation)
            elif future.cancel() or not started.is_set():
                self.breakers.abandoned(peer.url, generation)  # never sent: this node was too busy, not the peer
            else:
                logger.info("Peer %s did not answer a search within the deadline", peer.url)
                self.breakers.failed(peer.url, generation)
            silent.append(peer.name)
        return Replies(answers, silent)

    def _threads(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="knet-search")
            return self._pool


def _ask(peer_url: str, question: Question, ring: keys.KeyRing, own_url: str, seconds: float,
         started: threading.Event) -> Answer:
    started.set()
    url = search_protocol.question_url(peer_url, question)
    answer = client.get_signed(url, ring, own_url, timeout=(seconds, seconds))
    if answer.status != 200 or answer.document is None:
        raise client.PeerUnreachable(f"{url} answered {answer.status} instead of a search answer.")
    try:
        return search_protocol.parse_answer(answer.document, peer_url)
    except Malformed as exc:
        raise client.PeerUnreachable(f"{url} answered something other than a search answer ({exc.reason}).") from None


def init_app(app: Flask) -> None:
    ask_peers_with(app, PeerSearch())
