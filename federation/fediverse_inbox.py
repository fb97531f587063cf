"""Who sent a request from the fediverse: the actor whose RSA key signed it (draft-cavage), fetched from
its server and checked.

Everything that can be checked without the signer's key is checked first (what the signature covers,
the Date, the Digest), so a stale or altered request costs no request to its server. Then the key id's
document is fetched (an actor, as Mastodon publishes keys, or a key document naming its owner); the
actor, its key, its inbox and its shared inbox must all be on the key id's host, so that nobody can
make this node deliver to, or trust a key on, another host than the signer's own.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from flask import current_app, request
from flask_babel import lazy_gettext as _l

from federation import cavage, client, keys, peers, protocol
from federation.actor import fediverse_key_url
from federation.cavage import SignatureRefused

logger = logging.getLogger(__name__)

#: The shortest RSA key a follower's server may sign with.
MIN_KEY_BITS = 2048


@dataclass(frozen=True)
class RemoteActor:
    """A fediverse actor, as its server published it."""

    id: str
    inbox: str
    shared_inbox: str | None
    key: RSAPublicKey


def signing_actor() -> RemoteActor:
    """The actor whose key signed the current request (draft-cavage); SignatureRefused (401) with a reason
    otherwise: unsigned, badly signed, stale, a Digest that is not the body's, an actor that could not be
    fetched or does not publish that key on its own host."""
    body = request.get_data(cache=True)
    query = request.query_string.decode("latin-1")
    headers = dict(request.headers)
    # The host the node is known by, not the one the request says: a request signed for another server
    # (or relayed through a proxy that rewrote Host) must not verify here.
    headers.pop("Host", None)
    headers["Host"] = urlsplit(peers.own_url()).netloc
    found: list[RemoteActor] = []

    def key_of(key_id: str) -> RSAPublicKey:
        found.append(fetch_actor(key_id))
        return found[0].key

    cavage.verify_request(request.method, request.path + (f"?{query}" if query else ""), headers, body, key_of)
    return found[0]


def fetch_actor(key_id: str) -> RemoteActor:
    """The actor that publishes the key `key_id`, fetched from the key id's own host."""
    host = _node(key_id)
    if host is None or (peers.own_url().startswith("https:") and not key_id.startswith("https:")):
        raise SignatureRefused("unknown-key", _l("The key id %(key)s is not an https address.", key=key_id[:200]))
    document = _fetch(_without_fragment(key_id))
    if "inbox" not in document and isinstance(document.get("owner"), str):  # a key document: its owner is the actor
        if _node(document["owner"]) != host:
            raise _not_its_own(key_id)
        document = _fetch(document["owner"])
    actor = document.get("id")
    if not isinstance(actor, str) or _node(actor) != host:
        raise _not_its_own(key_id)
    inbox, shared_inbox = document.get("inbox"), (document.get("endpoints") or {}).get("sharedInbox")
    if not isinstance(shared_inbox, str):
        shared_inbox = None
    if not isinstance(inbox, str) or _node(inbox) != host or (shared_inbox and _node(shared_inbox) != host):
        raise SignatureRefused("not-an-actor", _l("The actor %(actor)s has no inbox on its own host.",
                                                  actor=actor[:200]))
    if max(len(actor), len(inbox), len(shared_inbox or "")) > protocol.MAX_URI:
        raise SignatureRefused("not-an-actor", _l("The actor %(actor)s has addresses longer than %(size)d "
                                                  "characters.", actor=actor[:200], size=protocol.MAX_URI))
    return RemoteActor(actor, inbox, shared_inbox, _key(document, key_id, actor))


def _fetch(url: str) -> dict:
    node = peers.own_url()
    try:
        client.require_reachable_from(url, node)
        return client.get_json(url, (fediverse_key_url(node), keys.fediverse_key(Path(current_app.instance_path))))
    except client.PeerUnreachable as exc:
        logger.info("Could not fetch the signer's document %s: %s", url, exc)
        raise SignatureRefused("actor-unreachable", _l("The signer's actor could not be fetched: %(why)s",
                                                       why=str(exc)[:300])) from None


def _key(document: dict, key_id: str, actor: str) -> RSAPublicKey:
    published = document.get("publicKey")
    candidates = published if isinstance(published, list) else [published]
    for key in candidates:
        if isinstance(key, dict) and key.get("id") == key_id and key.get("owner", actor) == actor:
            try:
                public_key = serialization.load_pem_public_key(str(key.get("publicKeyPem", "")).encode("ascii"))
            except (ValueError, TypeError, UnicodeError):
                break
            if not isinstance(public_key, RSAPublicKey):
                raise SignatureRefused("wrong-algorithm", _l("The key %(key)s is not an RSA key; this node accepts "
                                                             "rsa-sha256 signatures only.", key=key_id[:200]))
            if public_key.key_size < MIN_KEY_BITS:
                raise SignatureRefused("weak-key", _l("The key %(key)s has fewer than %(bits)d bits.",
                                                      key=key_id[:200], bits=MIN_KEY_BITS))
            return public_key
    raise SignatureRefused("unknown-key", _l("The actor %(actor)s does not publish the key %(key)s as a PEM "
                                             "public key.", actor=actor[:200], key=key_id[:200]))


def _not_its_own(key_id: str) -> SignatureRefused:
    return SignatureRefused("host-mismatch", _l("The key %(key)s does not belong to an actor on its own host.",
                                                key=key_id[:200]))


def _node(url: object) -> str | None:
    return protocol.node_of(url) if isinstance(url, str) else None


def _without_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))
