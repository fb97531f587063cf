"""Peering agreements: adding a peer (after its administrator's node document was fetched and its key
shown), the handshake that makes an agreement active once both sides have added each other, suspending,
resuming and removing.

The handshake: each side, when its administrator adds the other, sends the other a signed `Follow` of
its node actor. A node answers 202 only to a signer it has added itself, and so learns that the signer
added it; the signer learns the same from the 202. Whichever side adds second makes both active.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from sqlalchemy import func, select

from auth import audit
from auth.models import User
from federation import client, discovery, keys, replicas
from federation.actor import CONTEXT
from federation.models import Change, DeadLetter, Peer, Replica
from knet.db import db, utcnow

logger = logging.getLogger(__name__)


class PeeringError(Exception):
    """Peering cannot go on; the message is a sentence for the administrator."""


@dataclass(frozen=True)
class NodeDocument:
    """What a peer's node document says, checked."""

    url: str
    name: str
    actor: str
    inbox: str
    keys: list[dict]

    @property
    def fingerprints(self) -> list[str]:
        return [keys.fingerprint(keys.public_key_from_pem(key["pem"])) for key in self.keys]


def node_url(text: str) -> str:
    """A node's address as peers are named: http(s)://host[:port], without a path; PeeringError otherwise."""
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - reading it checks it (a port over 65535, or not a number, raises)
    except ValueError:  # an unclosed IPv6 bracket…
        raise PeeringError(f"{text!r} is not a node's address, such as https://knet.example.gr.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise PeeringError(f"{text!r} is not a node's address, such as https://knet.example.gr.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise PeeringError(f"Give the node's address alone, such as {parts.scheme}://{parts.netloc}, not {text!r}.")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def fetch_node(url: str) -> NodeDocument:
    """The peer's node document, fetched and checked: an Organization at its own address with Ed25519 keys."""
    url = node_url(url)
    if url == own_url():
        raise PeeringError("That is this node's own address: a node does not peer with itself.")
    try:
        document = client.get_json(discovery.actor_url(url))
    except client.PeerUnreachable as exc:
        raise PeeringError(str(exc)) from None
    actor = discovery.actor_url(url)
    if document.get("id") != actor or document.get("type") not in ("Organization", "Service"):
        raise PeeringError(f"{url} does not publish a knet node document at {actor}.")
    inbox = document.get("inbox")
    if not isinstance(inbox, str) or not _same_node(inbox, url):
        raise PeeringError(f"The node document of {url} names an inbox on another host.")
    published = document.get("knet:keys") or [document.get("publicKey")]
    found = []
    for key in published:
        if not isinstance(key, dict) or not isinstance(key.get("id"), str) or not _same_node(key["id"], url):
            raise PeeringError(f"The node document of {url} publishes a key that is not its own.")
        try:
            keys.public_key_from_pem(str(key.get("publicKeyPem", "")))
        except ValueError as exc:
            raise PeeringError(f"{url}: {exc}") from None
        found.append({"id": key["id"], "pem": key["publicKeyPem"], "expires": key.get("knet:expires")})
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PeeringError(f"The node document of {url} has no name.")
    return NodeDocument(url, name.strip()[:200], actor, inbox, found)


def add(actor: User | None, found: NodeDocument, address: str = "") -> Peer:
    """Record the agreement on this side (or refresh a known peer's name and keys). `actor` is None for the
    command line; `address` is where an administrator's request came from, for the audit log."""
    known = get(found.url)
    peer = known or Peer(url=found.url, added_by_id=actor.id if actor is not None else None)
    peer.name, peer.keys = found.name, found.keys
    db.session.add(peer)
    db.session.flush()
    _audit("peer_keys_updated" if known else "peer_added", peer, actor, address,
           f" with the keys {' '.join(found.fingerprints)}")
    logger.info("Peer %s (%s) added; state %s", peer.url, peer.name, peer.state)
    return peer


def handshake(peer: Peer) -> str:
    """Tell the peer we added it (a signed Follow of its node actor). Returns the agreement's state; a
    peer that has not added us yet answers 401 and the agreement stays pending."""
    ring = keys.load(Path(current_app.instance_path))
    follow = {"@context": CONTEXT, "id": f"{discovery.actor_url(own_url())}#peering-{uuid.uuid4().hex}",
              "type": "Follow", "actor": discovery.actor_url(own_url()), "object": discovery.actor_url(peer.url)}
    try:
        answer = client.post_signed(f"{peer.url}/federation/inbox", follow, ring, own_url())
    except client.PeerUnreachable as exc:
        peer.last_error = str(exc)[:500]
        return peer.state
    if answer.status in (200, 202):
        peer.added_us, peer.last_contact_at, peer.last_error = True, utcnow(), ""
    elif answer.status in (401, 403):
        peer.last_contact_at = utcnow()
        peer.last_error = "" if not peer.added_us else _detail(answer)
    else:
        peer.last_error = f"{peer.url} answered {answer.status}: {_detail(answer)}"[:500]
    return peer.state


def peering_requested(peer: Peer) -> None:
    """A peer we added sent us its signed Follow: it has added us, so the agreement is active."""
    peer.added_us, peer.last_contact_at, peer.last_error = True, utcnow(), ""
    logger.info("Peer %s added this node too: the agreement is %s", peer.url, peer.state)


def get(url: str) -> Peer | None:
    return db.session.scalar(select(Peer).where(Peer.url == url))


def require(url: str) -> Peer:
    peer = get(node_url(url))
    if peer is None:
        raise PeeringError(f"{url} is not a peer of this node (knet peer list shows them).")
    return peer


def all_peers() -> list[Peer]:
    return list(db.session.scalars(select(Peer).order_by(Peer.name, Peer.url)))


def set_suspended(actor: User | None, peer: Peer, suspended: bool, address: str = "") -> None:
    """Stop all traffic with a peer for now, keeping the agreement (or let it go on)."""
    if peer.suspended != suspended:
        peer.suspended = suspended
        _audit("peer_suspended" if suspended else "peer_resumed", peer, actor, address)
    db.session.flush()


def remove(peer: Peer, actor: User | None = None, address: str = "") -> int:
    """End the agreement on this side: nothing more is accepted from the peer or sent to it, and its
    replicas leave the database and (by the jobs this queues) the index. Returns how many there were."""
    purged = replicas.purge(peer)
    _audit("peer_removed", peer, actor, address, f", with its {purged} replica(s)")
    db.session.delete(peer)
    db.session.flush()
    logger.info("Peer %s removed, with its %d replica(s)", peer.url, purged)
    return purged


def _audit(action: str, peer: Peer, actor: User | None, address: str, more: str = "") -> None:
    """An entry in the audit log: who (an administrator, or the command line) changed which agreement."""
    by = "" if actor is not None else ", from the command line"
    audit.record(action, actor.username.casefold() if actor is not None else "", user=actor, address=address,
                 detail=f"{peer.url} ({peer.name}){more}{by}")


@dataclass(frozen=True)
class Health:
    """How replication with a peer is doing, as its administrator sees it."""

    #: Changes of our log the peer has not accepted yet (its lag, and our queue for it: the log holds one
    #: entry per object, so this is bounded by the objects we share, however long the peer is away).
    waiting: int
    dead_letters: int
    #: Its objects we keep (tombstones included).
    replicas: int


def health(peer: Peer) -> Health:
    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return Health(count(Change, Change.seq > peer.pushed_seq), count(DeadLetter, DeadLetter.peer_id == peer.id),
                  count(Replica, Replica.peer_id == peer.id))


def signer(key_id: str, now: datetime | None = None) -> tuple[Peer, Ed25519PublicKey] | None:
    """The peer (not suspended) that publishes this key, and the key, while it is valid; None otherwise."""
    parts = urlsplit(key_id)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    peer = get(f"{parts.scheme}://{parts.netloc.lower()}")
    if peer is None or peer.suspended:
        return None
    now = now or utcnow()
    for key in peer.keys:
        expires = key.get("expires")
        if key.get("id") == key_id and (not expires or datetime.fromisoformat(expires) > now):
            return peer, keys.public_key_from_pem(key["pem"])
    return None


def own_url() -> str:
    return str(current_app.config["KNET"]["url"])


def _same_node(url: str, node: str) -> bool:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}" == node


def _detail(answer: client.Answer) -> str:
    document = answer.document or {}
    return str(document.get("detail") or document.get("title") or f"status {answer.status}")[:400]
