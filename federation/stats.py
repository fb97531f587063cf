"""What the federation admin page shows of each peer: its health, its last day hour by hour (written by
federation.delivery), and the changes it refused for good."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from federation import peers
from federation.models import DeadLetter, HourlyStats, Peer
from knet.db import as_utc, db, utcnow

#: The chart covers the current hour and the 23 before it.
HOURS = 24
#: How many of a peer's dead letters the page lists (the newest; it counts them all).
RECENT_DEAD_LETTERS = 5


@dataclass(frozen=True)
class Hour:
    """Deliveries to a peer in one hour (all zero for an hour without any), and the most changes that
    waited for it."""

    #: The hour's start (UTC).
    start: datetime
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    most_waiting: int = 0


@dataclass(frozen=True)
class PeerReport:
    peer: Peer
    health: peers.Health
    #: The last day, oldest hour first.
    hours: list[Hour]
    #: The newest dead letters first.
    dead_letters: list[DeadLetter]


def last_day(peer: Peer, now: datetime | None = None) -> list[Hour]:
    """The peer's figures for each of the last 24 hours, the current one last, with zeros for the hours
    in which nothing was delivered to it."""
    end = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=HOURS - 1)
    rows = db.session.scalars(select(HourlyStats).where(HourlyStats.peer_id == peer.id, HourlyStats.hour >= start,
                                                        HourlyStats.hour <= end))
    found = {as_utc(row.hour): Hour(as_utc(row.hour), row.delivered, row.failed, row.dead, row.most_waiting)
             for row in rows}
    hours = (start + timedelta(hours=number) for number in range(HOURS))
    return [found.get(hour, Hour(hour)) for hour in hours]


def recent_dead_letters(peer: Peer, limit: int = RECENT_DEAD_LETTERS) -> list[DeadLetter]:
    """The changes the peer refused for good most recently, the newest first."""
    return list(db.session.scalars(select(DeadLetter).where(DeadLetter.peer_id == peer.id)
                                   .order_by(DeadLetter.created_at.desc(), DeadLetter.id.desc()).limit(limit)))


def report(peer: Peer, now: datetime | None = None) -> PeerReport:
    return PeerReport(peer, peers.health(peer), last_day(peer, now), recent_dead_letters(peer))


def overview(now: datetime | None = None) -> list[PeerReport]:
    """Every peer's report, by name."""
    return [report(peer, now) for peer in peers.all_peers()]
