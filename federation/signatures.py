"""Signed node-to-node requests: RFC 9421 HTTP Message Signatures (Ed25519) and an RFC 9530 Content-Digest.

The ``http-message-signatures`` library builds and checks the signature base; this module adds knet's
policy and turns every failure into a :class:`SignatureRefused` with one of these reasons:

``unsigned``         no Signature / Signature-Input headers at all
``malformed``        the headers are not valid RFC 9421 fields, or lack ``keyid`` / ``created``
``wrong-algorithm``  ``alg`` is not ``ed25519`` (or the signer's key is not an Ed25519 key)
``not-covered``      the signature does not cover ``@method``, ``@target-uri`` and ``content-digest``
``too-old``          ``created`` is more than ``max_skew`` seconds ago (or ``expires`` has passed)
``in-future``        ``created`` is more than ``max_skew`` seconds ahead
``unknown-key``      the ``keyid`` resolves to no key
``bad-signature``    the signature does not match the request (method, URI, headers or another key)
``missing-digest``   no Content-Digest header
``digest-mismatch``  the Content-Digest is not the digest of the body (sha-256; sha-512 is accepted too)

The clock check is symmetric: ``created`` may be up to ``max_skew`` (300 s) behind or ahead of our clock,
as two nodes' clocks may each be a little off; further ahead is refused as ``in-future``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask_babel import lazy_gettext as _l
from http_message_signatures import (ContentDigest, HTTPMessageSigner, HTTPMessageSignaturesException,
                                     HTTPMessageVerifier, HTTPSignatureKeyResolver, MappingKeyResolver, algorithms)

from knet.errors import Unauthorized

logger = logging.getLogger(__name__)

#: What every signed request must cover.
REQUIRED_COMPONENTS = ("@method", "@target-uri", "content-digest")
#: The label of our signature in the Signature and Signature-Input dictionaries.
LABEL = "knet"
#: How far ``created`` may be from our clock, either way, in seconds.
MAX_SKEW = 300
ALGORITHM = algorithms.ED25519
SIGNATURE_HEADERS = ("signature", "signature-input")
#: Every reason a signature is refused for (see the module's docstring).
REASONS = ("unsigned", "malformed", "wrong-algorithm", "not-covered", "too-old", "in-future", "unknown-key",
           "bad-signature", "missing-digest", "digest-mismatch")
#: The signature parameters RFC 9421 defines; any other one makes the header malformed.
PARAMETERS = {"alg", "created", "expires", "keyid", "nonce", "tag"}


class SignatureRefused(Unauthorized):
    """A request whose signature we do not accept; ``reason`` is a stable code, the message a sentence."""

    def __init__(self, reason: str, sentence: object) -> None:
        super().__init__(sentence, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class Verified:
    """Who signed a request (the ``keyid``), and when they say they did."""

    key_id: str
    created: datetime


@dataclass
class _Message:
    """A request as the library reads it: an upper-case method, an encoded absolute URL and headers."""

    method: str
    url: str
    headers: dict[str, str]


def content_digest(body: bytes) -> str:
    """The Content-Digest header value of a body (sha-256)."""
    return ContentDigest.create(body)


def sign_request(method: str, url: str, headers: Mapping[str, str], body: bytes, key_id: str,
                 private_key: Ed25519PrivateKey, now: datetime | None = None) -> dict[str, str]:
    """The headers to add to a request so that a peer accepts it: Content-Digest, Signature-Input, Signature.

    ``url`` is the absolute URL the request goes to, exactly as sent (scheme, host, port, path and query);
    ``key_id`` is our key's URL in the node document (:func:`federation.keys.key_url`).
    """
    kept = {name: value for name, value in headers.items()
            if name.lower() not in {"content-digest", *SIGNATURE_HEADERS}}
    message = _Message(method.upper(), url, kept)
    signer = HTTPMessageSigner(signature_algorithm=ALGORITHM,
                               key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: private_key}))
    signer.sign(message, key_id=key_id, created=now or datetime.now(UTC), label=LABEL,
                covered_component_ids=REQUIRED_COMPONENTS, body=body)
    return {name: message.headers[name] for name in ("Content-Digest", "Signature-Input", "Signature")}


def verify_request(method: str, url: str, headers: Mapping[str, str], body: bytes,
                   resolve_key: Callable[[str], Ed25519PublicKey | None], now: datetime | None = None,
                   max_skew: int = MAX_SKEW, *, required: tuple[str, ...] = REQUIRED_COMPONENTS) -> Verified:
    """Check a signed request and say who signed it; raise :class:`SignatureRefused` otherwise.

    ``url`` must be the absolute URL the request was sent to, as the sender saw it (the node's public
    URL and the request's raw path and query), ``headers`` its headers (names in any case), ``body`` its
    bytes before any decoding. ``resolve_key`` maps a ``keyid`` to that peer's public key, or None.
    ``required`` is only narrowed to verify other implementations' examples.
    """
    fields = _fields(headers)
    if not any(name in fields for name in SIGNATURE_HEADERS):
        raise SignatureRefused("unsigned", _l("The request is not signed: node-to-node requests need RFC 9421 "
                                              "Signature and Signature-Input headers."))
    verifier = _Verifier(fields, resolve_key, now or datetime.now(UTC), timedelta(seconds=max_skew), required)
    try:
        (result,) = verifier.verify(_Message(method.upper(), url, fields), max_age=None)
    except HTTPMessageSignaturesException as exc:
        logger.info("Refused a signature on %s %s: %s", method, url, exc)
        if "signature-input" not in fields:
            raise SignatureRefused("malformed", _l("The request has a Signature header but no Signature-Input: "
                                                   "knet nodes accept RFC 9421 signatures, not the older "
                                                   "draft-cavage ones.")) from None
        if not verifier.checked:
            raise SignatureRefused("malformed", _l("The request's Signature or Signature-Input header is not "
                                                   "a valid RFC 9421 signature with one label.")) from None
        raise SignatureRefused("bad-signature", _l("The signature does not match the request: its method, "
                                                   "address, headers or key differ from what was signed.")) from None
    if "content-digest" in fields:
        _check_digest(fields["content-digest"], body)
    return Verified(str(result.parameters["keyid"]), _moment(result.parameters["created"]))


class _Verifier(HTTPMessageVerifier):
    """The library's verifier with our clock, our policy and our reasons for refusing."""

    def __init__(self, fields: dict[str, str], resolve_key: Callable[[str], Ed25519PublicKey | None], now: datetime,
                 max_skew: timedelta, required: tuple[str, ...]) -> None:
        self.keys = _Keys()
        super().__init__(signature_algorithm=ALGORITHM, key_resolver=self.keys)
        self.fields = fields
        self.resolve_key = resolve_key
        self.now = now
        self.max_skew = max_skew
        self.required = required
        #: Whether the signature passed our checks, so that what fails after is the signature itself.
        self.checked = False

    def validate_created_and_expires(self, sig_input, max_age=None) -> None:
        # The library calls this for the signature it selected, with its parsed Signature-Input member,
        # after parsing the headers and before resolving the key or building the signature base: the
        # one place to apply our policy with distinct reasons (its own errors are all InvalidSignature).
        params = sig_input.params
        if set(params) - PARAMETERS or "keyid" not in params or "created" not in params:
            raise SignatureRefused("malformed", _l("The Signature-Input header must have keyid and created "
                                                   "parameters, and no parameters RFC 9421 does not define."))
        if params.get("alg", ALGORITHM.algorithm_id) != ALGORITHM.algorithm_id:
            raise SignatureRefused("wrong-algorithm", _l("The request is signed with %(alg)s; knet nodes accept "
                                                         "only ed25519.", alg=str(params["alg"])[:40]))
        if "content-digest" in self.required and "content-digest" not in self.fields:
            raise SignatureRefused("missing-digest", _l("The request has no Content-Digest header: sign the "
                                                        "sha-256 digest of the body with the request."))
        covered = {item.value for item in sig_input if not item.params}
        missing = [name for name in self.required if name not in covered]
        if missing:
            raise SignatureRefused("not-covered", _l("The signature does not cover %(missing)s; it must cover "
                                                     "%(required)s.", missing=", ".join(missing),
                                                     required=", ".join(self.required)))
        self._check_time(params)
        key = self.resolve_key(params["keyid"])
        if key is None:
            raise SignatureRefused("unknown-key", _l("The key %(key)s is not the key of a peer of this node.",
                                                     key=params["keyid"][:200]))
        if not isinstance(key, Ed25519PublicKey):
            raise SignatureRefused("wrong-algorithm", _l("The key %(key)s is not an Ed25519 key; knet nodes "
                                                         "accept only ed25519.", key=params["keyid"][:200]))
        self.keys.found = key
        self.checked = True

    def _check_time(self, params) -> None:
        created = _moment(params["created"])
        if created < self.now - self.max_skew:
            raise SignatureRefused("too-old", _l("The signature was created %(seconds)d seconds ago; it must be "
                                                 "at most %(limit)d. Check the sending node's clock, or resend.",
                                                 seconds=(self.now - created).total_seconds(),
                                                 limit=self.max_skew.total_seconds()))
        if created > self.now + self.max_skew:
            raise SignatureRefused("in-future", _l("The signature was created %(seconds)d seconds in the future; "
                                                   "at most %(limit)d is allowed. Check the sending node's clock.",
                                                   seconds=(created - self.now).total_seconds(),
                                                   limit=self.max_skew.total_seconds()))
        if "expires" in params and _moment(params["expires"]) <= self.now:
            raise SignatureRefused("too-old", _l("The signature has expired."))


class _Keys(HTTPSignatureKeyResolver):
    """Hands the library the key our policy resolved."""

    found: Ed25519PublicKey | None = None

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self.found


def _fields(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers by lower-case name; repeated names (in any case) are joined with commas, as HTTP does."""
    fields: dict[str, str] = {}
    for name, value in headers.items():
        name = name.lower()
        fields[name] = f"{fields[name]}, {value}" if name in fields else value
    return fields


def _moment(seconds: object) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        raise SignatureRefused("malformed", _l("The created or expires parameter of the signature is not "
                                               "a time.")) from None


def _check_digest(value: str, body: bytes) -> None:
    try:
        ContentDigest.verify(value, body)
    except HTTPMessageSignaturesException:
        raise SignatureRefused("digest-mismatch", _l("The Content-Digest header is not the digest of the body: "
                                                     "the body was changed on the way, or the digest is not a "
                                                     "valid sha-256 or sha-512 digest.")) from None
