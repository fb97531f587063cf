"""A person erased at home is erased at the peers where they signed in, too.

Each node is the OpenID provider of its own staff at its peers (auth/provider.py). A person agrees once
to sign in at each peer (a Consent here), and that peer then keeps a visitor account for them, known by
this node's URL and the person's subject here (auth/visitors.py). When the person is erased here
(auth/erasure.py), each peer they agreed to is sent a Security Event Token (RFC 8417) holding the event
"account purged" of the OpenID RISC profile, pushed as RFC 8935 describes: ``POST <peer>/auth/peers/events``
with the type ``application/secevent+jwt``, answered 202. The token is a JWT signed with this node's
federation key (the key that signs its ID tokens), names the person by issuer and subject alone, and is
good for a few minutes around its ``iat``. A job per peer sends it, and tries again for days while the
peer is down or refuses it (and waits, without counting tries, while the agreement is suspended).

A peer checks the token as it checks an ID token (a key of the issuer, which must be one of its peers,
even one whose agreement it has suspended, since an erasure only takes data away; its own URL as
audience; the times) and erases the visitor account as its own administrator would: what
the visitor wrote there stays, by "former staff". A token sent again erases nothing more, so no record of
tokens seen is kept.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from auth import provider
from auth.models import Consent, User
from auth.peer_signin import EventRefused as Refused, verify_security_event
from auth.sign_on import PeerNode, federation, own_url, peer
from knet import jobs
from knet.db import db

logger = logging.getLogger(__name__)

EVENTS_PATH = "/auth/peers/events"
CONTENT_TYPE = "application/secevent+jwt"
PURGED = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
TELL_JOB = "auth.tell_peer_of_erasure"
#: How often a peer whose agreement is suspended or pending is looked at again, to be told once it is active.
SUSPENDED_RETRY_SECONDS = 3600.0
#: The longest a token may be; an erasure event is a few hundred bytes.
MAX_TOKEN = 8192


def peers_to_tell(person: User) -> list[PeerNode]:
    """The peers the person agreed to sign in at, and so keep a visitor account for them."""
    urls = db.session.scalars(select(Consent.client_id).where(Consent.user_id == person.id)
                              .order_by(Consent.client_id)).all()
    return [node for node in map(peer, urls) if node is not None]


def tell_peers(person: User) -> list[PeerNode]:
    """Queue, in the caller's transaction, a job per peer that keeps a visitor account for the person
    to be told of their erasure; return those peers."""
    told = peers_to_tell(person)
    for node in told:
        jobs.enqueue(TELL_JOB, peer_url=node.url, subject=str(person.id))
    return told


class PeerRefused(Exception):
    """The peer did not take the event (the job tries again later)."""


def tell_peer(peer_url: str, subject: str) -> None:
    """Job handler: send the peer the event that the person with this subject here was erased."""
    node = peer(peer_url)
    if node is None:
        logger.info("%s is no longer a peer: it was not told of the erasure of subject %s", peer_url, subject)
        return
    if not node.active:  # nothing is sent to a peer while the agreement is not active; it is told once it is
        raise jobs.Postpone(f"the agreement with {node.url} is {node.state}", seconds=SUSPENDED_RETRY_SECONDS)
    event = provider.security_event(node.url, {PURGED: {"subject": {"format": "iss_sub", "iss": own_url(),
                                                                   "sub": subject}}})
    problem = federation().send_security_event(node.url + EVENTS_PATH, event)
    if problem is not None:
        raise PeerRefused(problem)
    logger.info("Told %s that subject %s was erased here", node.url, subject)


@dataclass(frozen=True)
class Purge:
    """A checked "account purged" event: the peer it came from, and the visitor account to erase
    (None when there is none: the person never visited, or was erased already)."""

    home: PeerNode
    visitor: User | None


def received(body: bytes, content_type: str) -> Purge:
    """Check an event a peer pushed; Refused says what is wrong with it."""
    if content_type.split(";")[0].strip().lower() != CONTENT_TYPE:
        raise Refused("invalid_request", f"The event must be sent as {CONTENT_TYPE}.")
    if not body or len(body) > MAX_TOKEN:
        raise Refused("invalid_request", "The event is empty or too long.")
    home, claims = verify_security_event(body.strip())
    subject = _subject(claims.get("events"))
    if not isinstance(subject, dict) or subject.get("format") != "iss_sub" or subject.get("iss") != home.url \
            or not isinstance(subject.get("sub"), str) or not subject["sub"]:
        raise Refused("invalid_request", "The event is not an account-purged event naming a person of its issuer.")
    visitor = db.session.scalar(select(User).where(User.home_issuer == home.url,
                                                   User.home_subject == subject["sub"]))
    return Purge(home, visitor)


def _subject(events: object) -> object:
    """The subject of the account-purged event among `events`, or None."""
    event = events.get(PURGED) if isinstance(events, dict) else None
    return event.get("subject") if isinstance(event, dict) else None


def init_app(app: Flask) -> None:
    # Tried for about a week: 1, 2, 4… minutes, then every six hours (a peer may be down for days).
    jobs.register(app, TELL_JOB, tell_peer, max_attempts=40,
                  retry_after=lambda attempts: min(30 * 2 ** attempts, 6 * 3600))
