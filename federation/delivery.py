"""Push and pull: how changes travel between active peers.

Push is for speed. Each peer has a cursor in this node's change log; a delivery sends the changes after
it to the peer's inbox, a few requests at once, and moves the cursor over those the peer accepted (or
refused for good: a 4xx other than 401, 408 and 429 puts the change in the dead letters, which the
administrator sees). A connection error, a timeout, a 408, 429 or 5xx stops the delivery; the next
waits with exponential backoff and jitter, or as long as the peer's Retry-After says.

Pull is to be sure. Every node reads each peer's change log from its own cursor, periodically even
while pushes succeed, so a lost push, or a week of being down, loses nothing.

Deliveries and pulls run in threads of their own, so one slow or silent peer delays no other peer and
no other job. A peer is held by one delivery (and one pull) at a time, across processes too: the
`*_busy_until` columns are claimed with one conditional UPDATE.
"""
from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import delete, or_, update

from federation import changelog, client, discovery, keys, peers, protocol, replicas
from federation.models import DeadLetter, HourlyStats, Peer
from knet import jobs
from knet.db import as_utc, db, utcnow

logger = logging.getLogger(__name__)

PUSH_JOB = changelog.PUSH_JOB
PULL_JOB = "federation.pull"
#: Changes read from the log for one round of a delivery.
PUSH_BATCH = 64
#: Requests in flight to one peer.
IN_FLIGHT = 4
#: Changes asked for in one page of a pull.
PULL_PAGE = 500
#: Seconds to connect, and to wait for a peer's answer, when delivering.
PUSH_TIMEOUT = (3.0, 5.0)
#: The longest wait between tries: a peer that has been down for long is still probed this often.
MAX_BACKOFF = 600.0
#: How long a delivery or a pull holds its peer (it is released at the end; this covers a crash).
HOLD = timedelta(minutes=2)
#: Threads for deliveries and pulls in this process (at most one of each per peer).
THREADS = 16
#: Answers that say "not now" rather than "never": 401 too, as it speaks of the agreement (the peer
#: removed us, or has not learnt our new key yet), not of the change.
RETRYABLE = {401, 408, 425, 429}

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@dataclass(frozen=True)
class Outcome:
    """What became of one change sent to a peer."""

    #: The peer took it (2xx) or refused it for good (a 4xx that retrying will not change).
    done: bool
    status: int | None = None
    reason: str = ""
    retry_after: float | None = None

    @property
    def dead(self) -> bool:
        return self.done and self.status is not None and self.status >= 300


# --- jobs: start deliveries and pulls in threads ----------------------------------------------------

def push_job() -> None:
    """Job handler: start a delivery to each active peer that has changes waiting and is not waiting
    out a backoff."""
    head, now = changelog.last_seq(), utcnow()
    for peer in _active_peers():
        due = peer.next_push_at is None or as_utc(peer.next_push_at) <= now
        if peer.pushed_seq < head and due:
            _in_thread(push, peer.id)


def pull_job() -> None:
    """Job handler: start a pull from each active peer."""
    for peer in _active_peers():
        _in_thread(pull, peer.id)


def _active_peers() -> list[Peer]:
    return [peer for peer in peers.all_peers() if peer.state == "active"]


def _in_thread(work, peer_id: int) -> None:
    global _pool
    app = current_app._get_current_object()
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="knet-federation")
        _pool.submit(_run, app, work, peer_id)


def _run(app: Flask, work, peer_id: int) -> None:
    with app.app_context():
        try:
            work(peer_id)
        except Exception:  # noqa: BLE001 - a thread's failure is logged; the next job tries again
            logger.exception("Federation work with peer %d failed", peer_id)
            db.session.rollback()
        finally:
            db.session.remove()


# --- push ---------------------------------------------------------------------------------------------

def push(peer_id: int) -> int:
    """Deliver the changes the peer has not accepted yet, until none is left or the peer fails.
    Returns how many it accepted or refused for good (0 when another delivery holds the peer)."""
    if not _hold(peer_id, Peer.push_busy_until):
        return 0
    delivered = 0
    try:
        ring = keys.load(Path(current_app.instance_path))
        while True:
            peer = db.session.get(Peer, peer_id)
            if peer is None or peer.state != "active":
                break
            batch = [(change.seq, change.uri, changelog.activity(change))
                     for change in changelog.after(peer.pushed_seq, PUSH_BATCH)]
            db.session.commit()  # no transaction stays open while the peer is asked
            if not batch:
                break
            inbox, own = f"{peer.url}/federation/inbox", peers.own_url()
            with ThreadPoolExecutor(IN_FLIGHT) as senders:  # (threads without the app: they only send)
                outcomes = list(senders.map(lambda item: _send(inbox, item[2], ring, own), batch))
            peer = db.session.get(Peer, peer_id)
            if peer is None:
                break
            delivered += _record(peer, batch, outcomes)
            peer.push_busy_until = utcnow() + HOLD
            db.session.commit()
            if not all(outcome.done for outcome in outcomes):
                break
    finally:
        _release(peer_id, Peer.push_busy_until)
    if _more_waiting(peer_id):  # recorded while this delivery was ending, when a new one could not start
        delivered += push(peer_id)
    return delivered


def _more_waiting(peer_id: int) -> bool:
    peer = db.session.get(Peer, peer_id)
    return (peer is not None and peer.state == "active" and peer.push_failures == 0
            and peer.pushed_seq < changelog.last_seq())


def _send(inbox: str, activity: dict, ring: keys.KeyRing, own_url: str) -> Outcome:
    try:
        answer = client.post_signed(inbox, activity, ring, own_url, timeout=PUSH_TIMEOUT)
    except client.PeerUnreachable as exc:
        return Outcome(False, None, str(exc))
    return outcome_of(inbox, answer)


def outcome_of(inbox: str, answer: client.Answer) -> Outcome:
    """What an inbox's answer means for a delivery: done (accepted, or refused for good) or to be tried again."""
    if 200 <= answer.status < 300:
        return Outcome(True, answer.status)
    detail = str((answer.document or {}).get("detail") or "")[:300]
    reason = f"{inbox} answered {answer.status}" + (f": {detail}" if detail else "")
    if answer.status in RETRYABLE or answer.status >= 500 or answer.status < 400:
        return Outcome(False, answer.status, reason, answer.retry_after)
    return Outcome(True, answer.status, reason)


def _record(peer: Peer, batch: list[tuple[int, str, dict]], outcomes: list[Outcome]) -> int:
    """Move the peer's cursor over the changes done in order; note dead letters, the first failure and
    the hour's figures."""
    stats = _this_hour(peer)
    stats.most_waiting = max(stats.most_waiting, peers.health(peer).waiting)
    done = 0
    for (seq, uri, _), outcome in zip(batch, outcomes):
        if not outcome.done:
            _failed(peer, outcome)
            stats.failed += 1
            return done
        stats.delivered += not outcome.dead
        stats.dead += outcome.dead
        if outcome.dead:
            db.session.add(DeadLetter(peer_id=peer.id, seq=seq, uri=uri, status=outcome.status,
                                      reason=outcome.reason[:500]))
            logger.warning("Peer %s refused change %d for good: %s", peer.url, seq, outcome.reason)
        peer.pushed_seq = max(peer.pushed_seq, seq)
        done += 1
    peer.push_failures, peer.next_push_at, peer.failing_since = 0, None, None
    peer.last_contact_at, peer.last_error = utcnow(), ""
    return done


#: How long the hourly figures are kept (the admin page shows the last day).
KEEP_STATS = timedelta(days=2)


def _this_hour(peer: Peer) -> HourlyStats:
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    stats = db.session.get(HourlyStats, (peer.id, hour))
    if stats is None:
        db.session.execute(delete(HourlyStats).where(HourlyStats.hour < hour - KEEP_STATS))
        stats = HourlyStats(peer_id=peer.id, hour=hour, delivered=0, failed=0, dead=0, most_waiting=0)
        db.session.add(stats)
    return stats


def _failed(peer: Peer, outcome: Outcome) -> None:
    peer.push_failures += 1
    wait = backoff(peer.push_failures) if outcome.retry_after is None else min(outcome.retry_after, MAX_BACKOFF)
    peer.next_push_at = utcnow() + timedelta(seconds=wait)
    peer.failing_since = peer.failing_since or utcnow()
    peer.last_error = outcome.reason[:500]
    logger.info("Delivery to %s failed (%d in a row), next try in %.1f s: %s", peer.url, peer.push_failures, wait,
                outcome.reason)


def backoff(failures: int) -> float:
    """Seconds before the next try after this many failures in a row: doubling from 1 s up to
    MAX_BACKOFF, each with up to half again of random jitter (so peers do not retry in step)."""
    base = min(2.0 ** (failures - 1), MAX_BACKOFF)
    return min(base * (1 + random.random() / 2), MAX_BACKOFF)


# --- pull ---------------------------------------------------------------------------------------------

class PullFailed(Exception):
    """A pull stopped; the message says why."""


def pull(peer_id: int) -> int:
    """Apply the peer's changes after our cursor, a page (one transaction) at a time, until none is left.
    Returns how many changed a replica; PullFailed says why a pull stopped early."""
    if not _hold(peer_id, Peer.pull_busy_until):
        return 0
    applied = 0
    try:
        ring = keys.load(Path(current_app.instance_path))
        while True:
            peer = db.session.get(Peer, peer_id)
            if peer is None or peer.state != "active":
                break
            url, after = f"{peer.url}/federation/changes?after={peer.pulled_seq}&limit={PULL_PAGE}", peer.pulled_seq
            db.session.commit()
            try:
                page = _page(client.get_signed(url, ring, peers.own_url()), url, after)
            except (client.PeerUnreachable, PullFailed) as exc:
                peer = db.session.get(Peer, peer_id)
                if peer is not None:
                    peer.last_error = str(exc)[:500]
                    db.session.commit()
                raise PullFailed(str(exc)) from None
            peer = db.session.get(Peer, peer_id)
            if peer is None or peer.pulled_seq != after:
                break  # removed, or purged and reset, while the page was on its way
            applied += _apply_page(peer, page["orderedItems"])
            peer.pulled_seq, peer.last_pull_at, peer.last_contact_at = page["knet:last"], utcnow(), utcnow()
            peer.pull_busy_until = utcnow() + HOLD
            db.session.commit()
            if not page.get("next"):
                break
    finally:
        _release(peer_id, Peer.pull_busy_until)
    return applied


def _page(answer: client.Answer, url: str, after: int) -> dict:
    page = answer.document
    if answer.status != 200 or page is None:
        detail = str((page or {}).get("detail") or "")[:300]
        raise PullFailed(f"{url} answered {answer.status}" + (f": {detail}" if detail else " without a change log."))
    last, items = page.get("knet:last"), page.get("orderedItems")
    if not isinstance(items, list) or isinstance(last, bool) or not isinstance(last, int) or last < after:
        raise PullFailed(f"{url} did not answer with a page of its change log.")
    return page


def _apply_page(peer: Peer, items: list) -> int:
    applied = 0
    actor = discovery.actor_url(peer.url)
    for item in items:
        try:
            incoming = protocol.parse(item, peer.url, actor)
        except protocol.Refused as exc:
            logger.warning("Skipped a change pulled from %s: %s", peer.url, exc.message)
            continue
        applied += replicas.apply(peer, incoming)
    return applied


# --- holding a peer -----------------------------------------------------------------------------------

def _hold(peer_id: int, column) -> bool:
    now = utcnow()
    held = db.session.execute(update(Peer).where(Peer.id == peer_id, or_(column.is_(None), column < now))
                              .values({column: now + HOLD}).execution_options(synchronize_session=False))
    db.session.commit()
    return held.rowcount == 1


def _release(peer_id: int, column) -> None:
    db.session.rollback()
    db.session.execute(update(Peer).where(Peer.id == peer_id).values({column: None})
                       .execution_options(synchronize_session=False))
    db.session.commit()


def init_app(app: Flask) -> None:
    settings = app.config["KNET"]["federation"]
    jobs.register(app, PUSH_JOB, push_job, every=float(settings["push_seconds"]))
    if settings["pull_seconds"]:
        jobs.register(app, PULL_JOB, pull_job, every=float(settings["pull_seconds"]))

