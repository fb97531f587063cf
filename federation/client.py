"""Requests to other nodes: the only outbound HTTP of knet (and the only importer of `requests`).

Every request has a timeout and a size limit, a JSON answer is checked to be JSON, and every failure is a
`PeerUnreachable` with a sentence an administrator can act on.
"""
from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from federation import cavage, signatures
from federation.keys import KeyRing, key_url

ACTIVITY_JSON = "application/activity+json"
#: Seconds to connect, and to wait for each part of the answer.
TIMEOUT = (3.0, 10.0)
#: The largest answer read from a peer.
MAX_ANSWER_BYTES = 2 * 1024 * 1024
USER_AGENT = "knet/0.1 (+federation)"


class PeerUnreachable(Exception):
    """A request to another node failed; the message says how."""


@dataclass(frozen=True)
class Answer:
    status: int
    #: The answer's JSON (None when it was not JSON).
    document: dict | None
    #: Seconds the peer asked us to wait (its Retry-After), if it said.
    retry_after: float | None = None


def get_json(url: str, signed_by: tuple[str, RSAPrivateKey] | None = None) -> dict:
    """GET a JSON document from another node (its node document…) or another server; `signed_by` (a key
    id and the node's RSA key) signs the request for servers that answer only signed ones (draft-cavage)."""
    headers = {"Accept": f"{ACTIVITY_JSON}, application/json"}
    if signed_by is not None:
        headers.update(cavage.sign_request("GET", url, b"", *signed_by))
    answer = _send("GET", url, headers, None)
    if answer.status != 200:
        raise PeerUnreachable(f"{url} answered {answer.status} instead of the document.")
    if answer.document is None:
        raise PeerUnreachable(f"{url} did not answer with a JSON document.")
    return answer.document


def require_reachable_from(url: str, own_url: str) -> None:
    """Refuse (PeerUnreachable) a stranger's address that leads into the node's own networks: a server of
    the fediverse, which anyone may claim to be, must be on a public address, so that a request naming
    http://10.0.0.5/… or http://localhost:5432/ cannot make the node probe its own network. A node that is
    itself on a loopback or private address (a test, a demonstration, a closed municipal network) may reach
    strangers there too."""
    try:
        own = _addresses(urlsplit(own_url).hostname or "")
    except PeerUnreachable:  # a name only its proxy knows: the node is on the internet
        own = set()
    allowed = {"global"} | {_kind(address) for address in own}
    for address in _addresses(urlsplit(url).hostname or ""):
        if _kind(address) not in allowed:
            raise PeerUnreachable(f"{url} is on a {_kind(address)} address, which this node does not contact "
                                  "for servers outside its network.")


def _addresses(host: str) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise PeerUnreachable(f"The name {host[:200]} could not be resolved.") from None
    return {ipaddress.ip_address(entry[4][0].split("%", 1)[0]) for entry in found}


def _kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if address.is_loopback:
        return "loopback"
    if address.is_global:
        return "global"
    return "private"


def post_signed(url: str, document: dict, ring: KeyRing, node_url: str, timeout: tuple = TIMEOUT) -> Answer:
    """POST a document to another node, signed with this node's current key (RFC 9421)."""
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": ACTIVITY_JSON, "Accept": f"{ACTIVITY_JSON}, application/json"}
    return _send("POST", url, _signed("POST", url, headers, body, ring, node_url), body, timeout)


def post_cavage(url: str, document: dict, key_id: str, private_key: RSAPrivateKey,
                timeout: tuple = TIMEOUT) -> Answer:
    """POST an activity to a fediverse server's inbox, signed as Mastodon signs (draft-cavage, RSA-SHA256)."""
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": ACTIVITY_JSON, "Accept": f"{ACTIVITY_JSON}, application/json",
               **cavage.sign_request("POST", url, body, key_id, private_key)}
    return _send("POST", url, headers, body, timeout)


def post_security_event(url: str, token: str, timeout: tuple = TIMEOUT) -> Answer:
    """POST a Security Event Token to another node (RFC 8935); the token, a JWT signed with this node's
    federation key, is what authenticates the request."""
    headers = {"Content-Type": "application/secevent+jwt", "Accept": "application/json"}
    return _send("POST", url, headers, token.encode("ascii"), timeout)


def get_signed(url: str, ring: KeyRing, node_url: str, timeout: tuple = TIMEOUT) -> Answer:
    """GET from another node, signed (the change log answers only its peers)."""
    headers = {"Accept": f"{ACTIVITY_JSON}, application/json"}
    return _send("GET", url, _signed("GET", url, headers, b"", ring, node_url), None, timeout)


def _signed(method: str, url: str, headers: dict, body: bytes, ring: KeyRing, node_url: str) -> dict:
    key = ring.current
    return {**headers, **signatures.sign_request(method, url, headers, body, key_url(node_url, key.id),
                                                 key.private_key)}


def _send(method: str, url: str, headers: dict, body: bytes | None, timeout: tuple = TIMEOUT) -> Answer:
    try:
        with requests.request(method, url, headers={"User-Agent": USER_AGENT, **headers}, data=body,
                              timeout=timeout, stream=True, allow_redirects=False) as response:
            content = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
            status, content_type = response.status_code, response.headers.get("Content-Type", "")
            retry_after = _seconds(response.headers.get("Retry-After"))
    except requests.exceptions.Timeout:
        raise PeerUnreachable(f"{url} did not answer within {timeout[1]:.0f} seconds.") from None
    except requests.exceptions.RequestException as exc:
        raise PeerUnreachable(f"Could not reach {url}: {_reason(exc)}.") from None
    if len(content) > MAX_ANSWER_BYTES:
        raise PeerUnreachable(f"{url} answered with more than {MAX_ANSWER_BYTES // 1024 // 1024} MB.")
    return Answer(status, _json(content) if "json" in content_type else None, retry_after)


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After as seconds from now: it is either a number of seconds or an HTTP date."""
    if not retry_after:
        return None
    if retry_after.strip().isdigit():
        return float(retry_after.strip())
    try:
        moment = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


def _json(content: bytes) -> dict | None:
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if "Connection refused" in text:
        return "the connection was refused (is the node running, at that address?)"
    if "Name or service not known" in text or "NameResolutionError" in text:
        return "its name could not be resolved"
    return type(exc).__name__
