"""The node actor's followers in the fediverse: a Follow adds one (and is answered with an Accept, sent by a
job), its Undo removes it. Following is open to anyone: what followers receive is public anyway."""
from __future__ import annotations

import logging

from sqlalchemy import func, select

from federation import fediverse, fediverse_delivery, peers
from federation.fediverse import FollowRequest
from federation.fediverse_inbox import RemoteActor
from federation.models import Follower
from knet.db import db

logger = logging.getLogger(__name__)


def follow(remote: RemoteActor, request: FollowRequest) -> Follower:
    """Add (or refresh) a follower and queue the Accept to its inbox. A repeated Follow is accepted again, as
    its server may not have received the first Accept."""
    follower = db.session.scalar(select(Follower).where(Follower.actor == remote.id))
    if follower is None:
        follower = Follower(actor=remote.id)
        db.session.add(follower)
        logger.info("%s follows the node actor", remote.id)
    follower.inbox, follower.shared_inbox, follower.follow_id = remote.inbox, remote.shared_inbox, request.follow_id
    db.session.flush()
    fediverse_delivery.send(remote.inbox, fediverse.accept(request, peers.own_url()))
    return follower


def unfollow(remote: RemoteActor) -> bool:
    """Remove a follower (its Undo of its Follow); False when it was not following."""
    follower = db.session.scalar(select(Follower).where(Follower.actor == remote.id))
    if follower is None:
        return False
    db.session.delete(follower)
    db.session.flush()
    logger.info("%s no longer follows the node actor", remote.id)
    return True


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Follower)) or 0


def inboxes() -> list[str]:
    """Where to deliver to every follower: each server's shared inbox once, or each follower's own inbox."""
    rows = db.session.execute(select(Follower.shared_inbox, Follower.inbox).order_by(Follower.id))
    return list(dict.fromkeys(shared or own for shared, own in rows))
