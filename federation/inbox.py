"""Activities peers deliver: stored once by id (a replay is a no-op) and applied by a job."""
from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from federation import replicas
from federation.models import Peer, Received
from federation.protocol import Incoming
from knet import jobs
from knet.db import db

logger = logging.getLogger(__name__)

APPLY_JOB = "federation.apply"
#: Activities applied in one transaction.
APPLY_BATCH = 200


def receive(peer: Peer, incoming: Incoming) -> bool:
    """Keep an activity for the apply job and commit; False (and nothing kept) when its id came before."""
    if db.session.get(Received, incoming.id) is not None:
        return False
    db.session.add(Received(activity_id=incoming.id, peer_id=peer.id))
    jobs.enqueue(APPLY_JOB, peer_id=peer.id, id=incoming.id, type=incoming.type, uri=incoming.uri,
                 version=incoming.version, document=incoming.document)
    try:
        db.session.commit()
    except IntegrityError:  # the same activity, delivered twice at once: the other delivery keeps it
        db.session.rollback()
        return False
    return True


def apply_received(payloads: list[dict]) -> None:
    """Job handler: apply stored activities (those of a peer removed meanwhile are dropped)."""
    applied = 0
    for payload in payloads:
        peer = db.session.get(Peer, payload["peer_id"])
        if peer is None or peer.state != "active":
            continue
        incoming = Incoming(payload["id"], payload["type"], payload["uri"], payload["version"], payload["document"])
        applied += replicas.apply(peer, incoming)
    logger.debug("Applied %d of %d activities", applied, len(payloads))
