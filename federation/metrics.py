"""Federation's figures on /metrics, read from the database at each scrape: for each active peer, how far
behind it is, when it last answered, and what it refused for good."""
from __future__ import annotations

from sqlalchemy import func, select

from federation.models import Change, DeadLetter, Peer
from knet.db import as_utc, db, utcnow
from knet.metrics import Gauge


def peer_gauges() -> list[Gauge]:
    """One value per active peer (both nodes have added each other, not suspended), labelled by its address."""
    active = list(db.session.scalars(select(Peer).where(Peer.added_us.is_(True), Peer.suspended.is_(False))))
    ids = [peer.id for peer in active]
    waiting = dict(db.session.execute(
        select(Peer.id, func.count(Change.seq)).outerjoin(Change, Change.seq > Peer.pushed_seq)
        .where(Peer.id.in_(ids)).group_by(Peer.id)).all())
    dead = dict(db.session.execute(select(DeadLetter.peer_id, func.count()).where(DeadLetter.peer_id.in_(ids))
                                   .group_by(DeadLetter.peer_id)).all())
    now = utcnow()
    return [
        Gauge("knet_federation_lag_activities",
              "Changes of this node's log the peer has not accepted yet (what is waiting to be pushed to it).",
              "peer", {peer.url: float(waiting.get(peer.id, 0)) for peer in active}),
        Gauge("knet_federation_last_contact_age_seconds",
              "Seconds since a request to or from the peer last succeeded (peers never reached are left out).",
              "peer", {peer.url: max(0.0, (now - as_utc(peer.last_contact_at)).total_seconds())
                       for peer in active if peer.last_contact_at is not None}),
        Gauge("knet_federation_push_failures", "Pushes to the peer that failed in a row (0 while it answers).",
              "peer", {peer.url: float(peer.push_failures) for peer in active}),
        Gauge("knet_federation_dead_letters", "Changes the peer refused for good (listed on the federation page).",
              "peer", {peer.url: float(dead.get(peer.id, 0)) for peer in active}),
    ]
