"""draft-cavage HTTP Signatures, the scheme Mastodon and most of the fediverse sign requests with:
a ``Signature: keyId="…",algorithm="…",headers="(request-target) host date digest",signature="…"`` header
over a signing string of the covered headers, RSA-SHA256 (PKCS#1 v1.5), with a ``Digest: SHA-256=…`` of
the body. knet nodes sign to each other with RFC 9421 (federation.signatures); this is only for servers
outside the network, which follow the node actor.

``cryptography`` does the RSA; this module builds the signing string, parses the header and applies
knet's policy, turning every failure into a :class:`SignatureRefused` with one of these reasons:

``unsigned``         no Signature header (nor an ``Authorization: Signature …`` one)
``malformed``        the header is not a list of keyId, algorithm, headers and signature parameters
``wrong-algorithm``  the algorithm is not rsa-sha256 or hs2019 (or the key is not an RSA key)
``not-covered``      the signature does not cover what the policy requires, or a header it covers is absent
``missing-date``     no Date header, or one that is not an HTTP date
``too-old``          Date is more than ``MAX_AGE`` seconds ago
``in-future``        Date is more than ``MAX_AHEAD`` seconds ahead
``missing-digest``   a request with a body has no Digest header
``digest-mismatch``  the Digest is not the SHA-256 (or SHA-512) of the body
``unknown-key``      the keyId resolves to no key
``bad-signature``    the signature does not match the request

The clock check may be turned off (``check_clock=False``) only to verify recorded requests and the
draft's test vectors, whose dates are years old.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from flask_babel import lazy_gettext as _l

from knet.errors import Unauthorized

logger = logging.getLogger(__name__)

#: What this node signs its requests with, and what it asks of requests that reach its inbox.
SIGNED_HEADERS = ("(request-target)", "host", "date", "digest")
#: Without a body there is nothing to digest.
SIGNED_HEADERS_WITHOUT_BODY = ("(request-target)", "host", "date")
#: The draft's default when a signature names no headers (draft -09; Mastodon always names them).
DEFAULT_HEADERS = ("date",)
#: hs2019 leaves the algorithm to the key; for RSA keys the fediverse means RSA-SHA256 by it, as Mastodon does.
ALGORITHMS = ("rsa-sha256", "hs2019")
ALGORITHM = "rsa-sha256"
#: How old a request's Date may be (Mastodon allows 12 hours; a delivery is signed when it is sent).
MAX_AGE = 3600
#: How far ahead of our clock a request's Date may be.
MAX_AHEAD = 300
REASONS = ("unsigned", "malformed", "wrong-algorithm", "not-covered", "missing-date", "too-old", "in-future",
           "missing-digest", "digest-mismatch", "unknown-key", "bad-signature")
#: Digest algorithms accepted in a Digest header, by their RFC 3230 names.
DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
#: One parameter of a Signature header: name="quoted value" or name=number (created, expires).
_PARAMETER = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|(\d+))\s*(?:,|$)')
_PARAMETERS = {"keyid", "algorithm", "headers", "signature", "created", "expires"}
#: The longest Signature header read (a 4096-bit signature is 700 characters).
MAX_HEADER = 8192


class SignatureRefused(Unauthorized):
    """A request whose signature we do not accept; ``reason`` is a stable code, the message a sentence."""

    def __init__(self, reason: str, sentence: object) -> None:
        super().__init__(sentence, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class Signature:
    """A parsed Signature header."""

    key_id: str
    #: As the header names it, lower-case ("" when it names none).
    algorithm: str
    #: The covered headers, lower-case, in order.
    headers: tuple[str, ...]
    signature: bytes
    params: dict[str, str]


@dataclass(frozen=True)
class Verified:
    """Who signed a request (the keyId), what the signature covered, and the request's Date."""

    key_id: str
    headers: tuple[str, ...]
    date: datetime | None


def digest(body: bytes) -> str:
    """The Digest header value of a body: ``SHA-256=<base64>``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def http_date(moment: datetime) -> str:
    """A time as the Date header carries it: ``Sun, 05 Jan 2014 21:31:40 GMT``."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def signing_string(method: str, target: str, headers: Mapping[str, str], covered: tuple[str, ...],
                   params: Mapping[str, str] | None = None) -> str:
    """The text that is signed: one ``name: value`` line per covered header, in order.

    ``target`` is the request's path and query, exactly as sent; ``headers`` its headers (names in any
    case; repeated names already joined with ", "). SignatureRefused (not-covered) names a covered
    header the request does not have."""
    fields = _fields(headers)
    lines = []
    for name in covered:
        if name == "(request-target)":
            value = f"{method.lower()} {target}"
        elif name in ("(created)", "(expires)"):
            value = (params or {}).get(name[1:-1], "")
            if not value:
                raise SignatureRefused("not-covered", _l("The signature covers %(name)s but has no such parameter.",
                                                         name=name))
        elif name in fields:
            value = fields[name]
        else:
            raise SignatureRefused("not-covered", _l("The signature covers the %(name)s header, which the request "
                                                     "does not have.", name=name[:60]))
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def sign(method: str, target: str, headers: Mapping[str, str], key_id: str, private_key: RSAPrivateKey,
         covered: tuple[str, ...] | None = SIGNED_HEADERS, algorithm: str = ALGORITHM) -> str:
    """The Signature header value for a request whose headers are already all there.

    ``covered=None`` leaves the headers parameter out (the draft's default, Date only)."""
    text = signing_string(method, target, headers, covered or DEFAULT_HEADERS)
    value = base64.b64encode(private_key.sign(text.encode("latin-1"), padding.PKCS1v15(), hashes.SHA256()))
    listed = f'headers="{" ".join(covered)}",' if covered is not None else ""
    return f'keyId="{key_id}",algorithm="{algorithm}",{listed}signature="{value.decode("ascii")}"'


def sign_request(method: str, url: str, body: bytes, key_id: str, private_key: RSAPrivateKey,
                 now: datetime | None = None) -> dict[str, str]:
    """The headers to add to a request so that Mastodon and its kin accept it: Host, Date, Digest (with a
    body) and Signature, covering ``(request-target) host date digest``."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    added = {"Host": parts.netloc, "Date": http_date(now or datetime.now(UTC))}
    covered = SIGNED_HEADERS_WITHOUT_BODY
    if body or method.upper() not in ("GET", "HEAD"):
        added["Digest"] = digest(body)
        covered = SIGNED_HEADERS
    added["Signature"] = sign(method, target, added, key_id, private_key, covered)
    return added


def parse(value: str) -> Signature:
    """Read a Signature header (or the credentials of an ``Authorization: Signature …`` header)."""
    if len(value) > MAX_HEADER:
        raise _malformed()
    text = value.strip()
    if text[:10].lower() == "signature ":
        text = text[10:]
    params: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _PARAMETER.match(text, position)
        if match is None or match.end() == position:
            raise _malformed()
        name = match.group(1).lower()
        if name in params or name not in _PARAMETERS:
            raise _malformed()
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
    if not params.get("keyid") or not params.get("signature"):
        raise _malformed()
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise _malformed() from None
    covered = tuple(params["headers"].lower().split()) if "headers" in params else DEFAULT_HEADERS
    if not covered:
        raise _malformed()
    return Signature(params["keyid"], params.get("algorithm", "").lower(), covered, signature, params)


def verify_request(method: str, target: str, headers: Mapping[str, str], body: bytes,
                   resolve_key: Callable[[str], RSAPublicKey | None], *, now: datetime | None = None,
                   check_clock: bool = True, required: tuple[str, ...] | None = None) -> Verified:
    """Check a request's draft-cavage signature and say who signed it; raise SignatureRefused otherwise.

    ``target`` is the path and query the request was sent to, ``headers`` its headers as received (the
    caller may set Host to the address it is known by), ``body`` its bytes. ``resolve_key`` maps a keyId
    to the signer's public key (or None), and is asked only once everything that can be checked without
    it has been: the algorithm, what is covered, the Date and the Digest. ``required`` defaults to
    ``(request-target) host date`` and, when there is a body, ``digest``; narrow it, and turn
    ``check_clock`` off, only to verify recorded requests and test vectors."""
    fields = _fields(headers)
    value = fields.get("signature")
    if value is None and fields.get("authorization", "")[:10].lower() == "signature ":
        value = fields["authorization"]
    if value is None:
        raise SignatureRefused("unsigned", _l("The request is not signed: servers that follow this node sign "
                                              "their requests with a Signature header (draft-cavage)."))
    signature = parse(value)
    if signature.algorithm and signature.algorithm not in ALGORITHMS:
        raise SignatureRefused("wrong-algorithm", _l("The request is signed with %(alg)s; this node accepts "
                                                     "rsa-sha256 and hs2019 (with an RSA key).",
                                                     alg=signature.algorithm[:40]))
    if required is None:
        required = SIGNED_HEADERS if body else SIGNED_HEADERS_WITHOUT_BODY
    missing = [name for name in required if name not in signature.headers]
    if missing:
        raise SignatureRefused("not-covered", _l("The signature does not cover %(missing)s; it must cover "
                                                 "%(required)s.", missing=", ".join(missing),
                                                 required=", ".join(required)))
    date = _date(fields) if "date" in fields or check_clock else None
    if check_clock:
        _check_clock(date, now or datetime.now(UTC))
    if body or "digest" in fields:
        _check_digest(fields.get("digest"), body)
    text = signing_string(method, target, fields, signature.headers, signature.params)
    key = resolve_key(signature.key_id)
    if key is None:
        raise SignatureRefused("unknown-key", _l("The key %(key)s could not be found.", key=signature.key_id[:200]))
    if not isinstance(key, RSAPublicKey):
        raise SignatureRefused("wrong-algorithm", _l("The key %(key)s is not an RSA key; this node accepts "
                                                     "rsa-sha256 signatures only.", key=signature.key_id[:200]))
    try:
        key.verify(signature.signature, _bytes(text), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        logger.info("Refused a draft-cavage signature by %s on %s %s", signature.key_id, method, target)
        raise SignatureRefused("bad-signature", _l("The signature does not match the request: its method, "
                                                   "address, headers or key differ from what was signed.")) from None
    return Verified(signature.key_id, signature.headers, date)


def _fields(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers by lower-case name, values trimmed; repeated names are joined with ", ", as the draft says."""
    fields: dict[str, str] = {}
    for name, value in headers.items():
        name, value = name.lower(), str(value).strip()
        fields[name] = f"{fields[name]}, {value}" if name in fields else value
    return fields


def _bytes(text: str) -> bytes:
    # Header values arrive as WSGI gives them (each byte a latin-1 character), so this gives back the bytes sent.
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise SignatureRefused("malformed", _l("A signed header holds characters that cannot be sent in HTTP.")) \
            from None


def _malformed() -> SignatureRefused:
    return SignatureRefused("malformed", _l("The Signature header is not a draft-cavage signature: "
                                            "keyId=\"…\",algorithm=\"…\",headers=\"…\",signature=\"…\"."))


def _date(fields: dict[str, str]) -> datetime:
    try:
        moment = parsedate_to_datetime(fields.get("date", ""))
    except (TypeError, ValueError, IndexError):
        moment = None
    if moment is None:
        raise SignatureRefused("missing-date", _l("The request has no Date header with an HTTP date; the signature "
                                                  "must cover one."))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_clock(date: datetime | None, now: datetime) -> None:
    if date is None:  # (only when no Date was there to read, which _date already refused)
        return
    if date < now - timedelta(seconds=MAX_AGE):
        raise SignatureRefused("too-old", _l("The request is dated %(seconds)d seconds ago; it may be at most "
                                             "%(limit)d. Check the sending server's clock, or resend.",
                                             seconds=(now - date).total_seconds(), limit=MAX_AGE))
    if date > now + timedelta(seconds=MAX_AHEAD):
        raise SignatureRefused("in-future", _l("The request is dated %(seconds)d seconds in the future; at most "
                                               "%(limit)d is allowed. Check the sending server's clock.",
                                               seconds=(date - now).total_seconds(), limit=MAX_AHEAD))


def _check_digest(value: str | None, body: bytes) -> None:
    if not value:
        raise SignatureRefused("missing-digest", _l("The request has no Digest header: sign the SHA-256 digest "
                                                    "of the body with the request."))
    checked = False
    for part in value.split(","):
        name, _, encoded = part.strip().partition("=")
        algorithm = DIGESTS.get(name.lower())
        if algorithm is None:
            continue
        try:
            expected = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            expected = b""
        if not hmac.compare_digest(expected, algorithm(body).digest()):
            checked = False
            break
        checked = True
    if not checked:
        raise SignatureRefused("digest-mismatch", _l("The Digest header is not the digest of the body: the body "
                                                     "was changed on the way, or the digest is not a valid SHA-256 "
                                                     "or SHA-512 digest."))
