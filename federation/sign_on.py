"""Tell sign-on (auth/sign_on.py) about this node's peers and keys: peers are the OAuth clients of this
node's provider and the providers its visitors come from, and federation keys sign ID tokens and client
assertions, so peering needs no other secret."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Flask, current_app

from auth.sign_on import Federation, NodeKey, PeerNode, set_federation
from federation import client, keys, peers
from federation.models import Peer
from knet.db import utcnow


def init_app(app: Flask) -> None:
    set_federation(app, Federation(peers=_peers, peer=_peer, signing_key=_signing_key, public_keys=_public_keys,
                                   send_security_event=_send_security_event))


def peer_node(peer: Peer, now: datetime | None = None) -> PeerNode:
    """The peer as sign-on sees it, with the keys it published that have not expired."""
    now = now or utcnow()
    valid = {}
    for key in peer.keys:
        expires = key.get("expires")
        if not expires or datetime.fromisoformat(expires) > now:
            public_key = keys.public_key_from_pem(key["pem"])
            valid[keys.key_id(public_key)] = public_key
    return PeerNode(peer.url, peer.name, peer.state, valid)


def _peers() -> list[PeerNode]:
    return [peer_node(peer) for peer in peers.all_peers()]


def _peer(url: str) -> PeerNode | None:
    found = peers.get(url)
    return peer_node(found) if found is not None else None


def _ring() -> keys.KeyRing:
    return keys.load(Path(current_app.instance_path))


def _signing_key() -> NodeKey:
    current = _ring().current
    return NodeKey(current.id, current.private_key)


def _public_keys() -> list[NodeKey]:
    return [NodeKey(key.id, key.private_key) for key in _ring().valid()]


def _send_security_event(url: str, token: str) -> str | None:
    try:
        answer = client.post_security_event(url, token)
    except client.PeerUnreachable as exc:
        return str(exc)
    if answer.status == 202:
        return None
    said = answer.document or {}
    return f"{url} answered {answer.status}" + (f": {said.get('err')} ({said.get('description')})" if said else ".")
