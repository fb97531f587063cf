"""Who sent a request to this node's federation endpoints: the peer whose key signed it, checked."""
from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l

from federation import peers, signatures
from federation.models import Peer
from knet.errors import Unauthorized


def signing_peer() -> Peer:
    """The peer (added by this node, not suspended) whose valid key signed the current request;
    Unauthorized with a reason otherwise."""
    body = request.get_data(cache=True)
    query = request.query_string.decode("latin-1")
    url = peers.own_url() + request.path + (f"?{query}" if query else "")

    def key_of(key_id: str):
        found = peers.signer(key_id)
        return found[1] if found else None

    verified = signatures.verify_request(request.method, url, dict(request.headers), body, key_of)
    found = peers.signer(verified.key_id)
    if found is None:  # removed or suspended since its key was looked up
        raise Unauthorized(_l("The key %(key)s is not the key of a peer of this node.", key=verified.key_id),
                           reason="unknown-key")
    return found[0]


def active_peer() -> Peer:
    """The signing peer, when the agreement with it is active (both sides added each other)."""
    return require_active(signing_peer())


def require_active(peer: Peer) -> Peer:
    """The peer, if the agreement with it is active; Unauthorized (reason not-active) otherwise."""
    if peer.state != "active":
        raise Unauthorized(_l("The agreement between this node and yours is not active: both administrators "
                              "must add each other's node, and neither may have suspended it."), reason="not-active")
    return peer
