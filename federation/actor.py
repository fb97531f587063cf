"""The node document: the node as an ActivityPub actor (an `Organization`, the municipality), with the
public keys its requests are signed with and the addresses peers use (a pure builder).

Peers read the Ed25519 keys from `knet:keys`, which lists every key still accepted, so a peer that fetched
the document during a rotation's overlap verifies requests signed with the old key as well as the new one.
`publicKey` is what the rest of the fediverse reads (one key per actor): the node's RSA key, which signs
what followers outside the network receive (federation.cavage).
"""
from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from federation import discovery, keys
from federation.keys import KeyRing

ACTIVITY_STREAMS = "https://www.w3.org/ns/activitystreams"
SECURITY = "https://w3id.org/security/v1"
#: knet's own terms (knet:visibility, knet:version…): a URN, as knet has no web home of its own.
KNET_NS = "urn:knet:ns#"
CONTEXT = [ACTIVITY_STREAMS, SECURITY, {"knet": KNET_NS}]


def node_document(name: str, node_url: str, ring: KeyRing, now: datetime | None = None,
                  fediverse_key: RSAPublicKey | None = None) -> dict:
    """The node document; without ``fediverse_key`` (a test's fake peer) `publicKey` is the current Ed25519 key."""
    actor = discovery.actor_url(node_url)
    public_key = _key(node_url, actor, ring.current)
    if fediverse_key is not None:
        public_key = {"id": fediverse_key_url(node_url), "owner": actor, "publicKeyPem": keys.public_pem(fediverse_key)}
    return {
        "@context": CONTEXT,
        "id": actor,
        "type": "Organization",
        "preferredUsername": discovery.host_of(node_url),
        "name": name,
        "url": node_url + "/",
        "inbox": f"{node_url}/federation/inbox",
        "outbox": f"{node_url}/federation/outbox",
        "followers": followers_url(node_url),
        "publicKey": public_key,
        "knet:keys": [_key(node_url, actor, key) for key in ring.valid(now)],
        "knet:protocolVersion": discovery.PROTOCOL_VERSION,
        "endpoints": {"sharedInbox": f"{node_url}/federation/inbox",
                      "knet:changes": f"{node_url}/federation/changes",
                      "knet:search": f"{node_url}/federation/search"},
    }


def fediverse_key_url(node_url: str) -> str:
    """The id of the node's RSA key, as Mastodon names an actor's key."""
    return f"{discovery.actor_url(node_url)}#main-key"


def followers_url(node_url: str) -> str:
    return f"{node_url}/federation/followers"


def _key(node_url: str, actor: str, key: keys.Key) -> dict:
    return {"id": keys.key_url(node_url, key.id), "owner": actor, "publicKeyPem": keys.public_pem(key.public_key),
            "knet:fingerprint": keys.fingerprint(key.public_key),
            "knet:expires": key.retired_at.isoformat() if key.retired_at else None}
