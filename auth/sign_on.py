"""What sign-on between municipalities needs to know about peers and this node's key, without importing
federation: federation describes its peers with these classes and hands them over with set_federation
(federation/sign_on.py); the provider (auth/provider.py) and the client (auth/peer_signin.py) read them here.

The addresses are fixed, so that a node needs nothing but a peer's URL to sign someone in there: a peer's
OAuth client_id is its node URL, its only redirect URI is ``<its URL>/auth/peers/callback``, and its
provider endpoints are ``<its URL>/oauth/authorize`` and ``<its URL>/oauth/token``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask, current_app

EXTENSION = "knet.sign_on"
AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"
JWKS_PATH = "/oauth/jwks"
CALLBACK_PATH = "/auth/peers/callback"
#: Where a peer sends its own staff to sign in here through it, on their way to one of our objects.
LOGIN_PATH = "/auth/peers/login"
#: ID tokens and client assertions are signed with Ed25519 keys: RFC 9864's name for EdDSA over Ed25519
#: (joserfc treats the older, curve-less "EdDSA" as deprecated).
ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class PeerNode:
    """A peer as sign-on sees it: an OAuth client of this node, and a provider for its own staff."""

    url: str
    name: str
    #: pending, active or suspended (federation.models.Peer.state).
    state: str
    #: Its federation keys that are valid now, by key id (the keys it signs ID tokens and assertions with).
    keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict, compare=False, repr=False)

    @property
    def active(self) -> bool:
        return self.state == "active"

    @property
    def host(self) -> str:
        """host[:port], as visitors from it are named (maria@knet.athens.gr)."""
        return urlsplit(self.url).netloc

    @property
    def redirect_uri(self) -> str:
        return self.url + CALLBACK_PATH


@dataclass(frozen=True)
class NodeKey:
    """One of this node's signing keys."""

    id: str
    private_key: Ed25519PrivateKey = field(compare=False, repr=False)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True)
class Federation:
    """What federation tells sign-on, each asked when needed (peers and keys change while the node runs)."""

    #: Every peer, in the order to list them.
    peers: Callable[[], list[PeerNode]]
    #: The peer at this URL, or None.
    peer: Callable[[str], PeerNode | None]
    #: The key this node signs with now.
    signing_key: Callable[[], NodeKey]
    #: Every key peers may still see signatures of (the current one and retired ones still in their overlap).
    public_keys: Callable[[], list[NodeKey]]
    #: POST a Security Event Token (RFC 8935) to an address of a peer: None when it was taken (202),
    #: else a sentence saying why not.
    send_security_event: Callable[[str, str], str | None]


def set_federation(app: Flask, federation: Federation) -> None:
    """Let sign-on see this node's peers and keys (called by federation's init_app)."""
    app.extensions[EXTENSION] = federation


def federation() -> Federation | None:
    """What federation registered, or None on a node without it (then there is nobody to sign in with)."""
    return current_app.extensions.get(EXTENSION)


def own_url() -> str:
    return str(current_app.config["KNET"]["url"])


def peer(url: str) -> PeerNode | None:
    found = federation()
    return found.peer(url) if found is not None and url else None


def active_peers() -> list[PeerNode]:
    found = federation()
    return [node for node in found.peers() if node.active] if found is not None else []
