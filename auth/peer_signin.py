"""Signing in here through one's home node (this node as an OpenID Connect client of its peers, with
requests-oauthlib; the only module that imports it).

`start` keeps the flow's secrets on the server, under its `state`: the PKCE verifier, the nonce, the
peer it was started with and where to go afterwards. `finish` takes the peer's answer: the state must be
one of ours and fresh, the answer must come from the issuer the flow began with (RFC 9207's `iss`: no
mix-up), the code is exchanged with a JWT signed by this node's federation key (`private_key_jwt`) and
the PKCE verifier, and the ID token's signature (by a key the peer published when the administrators
peered), `iss`, `aud`, `nonce` and `exp` are checked before anyone is signed in.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import os
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import KeySet, OKPKey
from joserfc.jws import extract_compact
from oauthlib.oauth2 import OAuth2Error, WebApplicationClient
from requests_oauthlib import OAuth2Session
from sqlalchemy import delete

from auth import audit
from auth.models import PeerSignIn, User
from auth.sign_on import (ALGORITHM, AUTHORIZE_PATH, CALLBACK_PATH, TOKEN_PATH, PeerNode, federation, own_url,
                          peer)
from auth.visitors import visitor_for
from knet.db import as_utc, db, utcnow
from knet.errors import Forbidden, Invalid, KnetError, Unauthorized
from knet.views import local_path

logger = logging.getLogger(__name__)

SCOPE = "openid"
#: How long the person may take to sign in at home and come back.
PENDING = timedelta(minutes=10)
#: Seconds a request to the peer's token endpoint may take.
TIMEOUT = 10
#: Clock difference between nodes tolerated when checking an ID token's times.
LEEWAY = 30
#: Seconds between a security event's issue and its arrival tolerated either way (it is sent as soon as made).
SECURITY_EVENT_LEEWAY = 300
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_SECONDS = 60


class PeerDown(KnetError):
    status = 503
    title = "Peer unavailable"


def callback_url() -> str:
    return own_url() + CALLBACK_PATH


def start(url: str, next_path: str | None) -> str:
    """Begin signing someone in through their home node at `url`: the address to send them to."""
    home = _active_peer(url)
    client = WebApplicationClient(own_url())
    verifier = client.create_code_verifier(64)
    pending = PeerSignIn(state=secrets.token_urlsafe(32), issuer=home.url, code_verifier=verifier,
                         nonce=secrets.token_urlsafe(32), next=local_path(next_path)[:500],
                         expires_at=utcnow() + PENDING)
    db.session.execute(delete(PeerSignIn).where(PeerSignIn.expires_at < utcnow()))
    db.session.add(pending)
    db.session.flush()
    session = OAuth2Session(client=client, redirect_uri=callback_url(), scope=[SCOPE])
    allow_loopback_http(home.url)
    address, _state = session.authorization_url(
        home.url + AUTHORIZE_PATH, state=pending.state, nonce=pending.nonce,
        code_challenge=client.create_code_challenge(verifier, "S256"), code_challenge_method="S256")
    return address


def finish(answer: dict[str, str], address: str = "") -> tuple[User, str]:
    """The visitor the peer's answer (the callback's query) signs in, and where they wanted to go.

    The flow is used up whatever happens: the caller commits on failure too."""
    state = answer.get("state") or ""
    if not state:
        raise Invalid(_l("The answer from your home municipality has no “state”; start signing in again."),
                      reason="state_missing", field="state")
    pending = db.session.get(PeerSignIn, state[:64])
    if pending is None or pending.state != state:
        raise Invalid(_l("This sign-in was not started on this node, or it is already finished; start signing "
                         "in again."), reason="state_unknown", field="state")
    db.session.delete(pending)
    db.session.flush()
    try:
        return _finish(pending, answer, address), pending.next
    except KnetError as exc:
        audit.record("peer_sign_in_failed", "", address=address,
                     detail=f"{pending.issuer}: {exc.extra.get('reason', '')} {exc.message}"[:500])
        raise


def _finish(pending: PeerSignIn, answer: dict[str, str], address: str) -> User:
    if as_utc(pending.expires_at) <= utcnow():
        raise Invalid(_l("This sign-in took too long and expired; start signing in again."),
                      reason="state_expired", field="state")
    if answer.get("iss") != pending.issuer:
        # RFC 9207: an answer from another provider than the one we sent the person to is a mix-up attack.
        raise Unauthorized(_l("The answer did not come from the municipality you chose to sign in with, so it "
                              "was refused; start signing in again."), reason="issuer_mismatch", field="iss")
    home = _active_peer(pending.issuer)
    if answer.get("error"):
        if answer["error"] == "access_denied":
            raise Forbidden(_l("You were not signed in: your home municipality says you did not allow it, or "
                               "could not."), reason="access_denied")
        raise Unauthorized(_l("%(peer)s refused the sign-in (%(error)s).", peer=home.name,
                              error=answer["error"][:60]), reason=answer["error"][:60])
    if not answer.get("code"):
        raise Invalid(_l("The answer from your home municipality has no code; start signing in again."),
                      reason="code_missing", field="code")
    token = _exchange(home, pending, answer["code"])
    claims = verify_id_token(token.get("id_token"), home, own_url(), pending.nonce)
    return visitor_for(home, claims, address)


def verify_id_token(id_token: object, home: PeerNode, audience: str, nonce: str) -> dict:
    """The claims of an ID token, once its signature (by one of `home`'s keys), issuer, audience, nonce and
    times are checked; Unauthorized naming what failed (reason id_token_…) otherwise."""
    if not isinstance(id_token, str) or not id_token:
        raise _not_trusted(home, "id_token_missing")
    keys = KeySet([OKPKey.import_key(key, {"kid": kid}) for kid, key in home.keys.items()])
    try:
        token = jwt.decode(id_token, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as exc:
        logger.warning("ID token from %s refused: %s", home.url, exc)
        raise _not_trusted(home, "id_token_signature") from None
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY, iss={"essential": True, "value": home.url}, aud={"essential": True, "value": audience},
        sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
        nonce={"essential": True, "value": nonce})
    try:
        registry.validate(token.claims)
    except ExpiredTokenError:
        raise _not_trusted(home, "id_token_expired") from None
    except ClaimError as exc:
        logger.warning("ID token from %s refused: %s", home.url, exc)
        raise _not_trusted(home, f"id_token_{exc.claim}") from None
    return token.claims


class EventRefused(Exception):
    """A security event that is not taken: RFC 8935's error code, and a sentence for the sender's log."""

    def __init__(self, err: str, description: str):
        super().__init__(description)
        self.err, self.description = err, description


def verify_security_event(token: bytes) -> tuple[PeerNode, dict]:
    """The peer that sent this Security Event Token (RFC 8417) and the token's claims, once its signature
    (by a key of its issuer, which must be a peer, even one whose agreement is suspended), audience (this
    node) and time (within SECURITY_EVENT_LEEWAY of now) check out; EventRefused otherwise."""
    try:
        issuer = json.loads(extract_compact(token).payload).get("iss")
    except (JoseError, ValueError, AttributeError):
        raise EventRefused("invalid_request", "The event is not a signed JWT.") from None
    home = peer(issuer) if isinstance(issuer, str) else None
    if home is None:
        raise EventRefused("invalid_issuer", "The event's issuer is not a peer of this node.")
    keys = KeySet([OKPKey.import_key(key, {"kid": kid}) for kid, key in home.keys.items()])
    try:
        claims = jwt.decode(token, keys, algorithms=[ALGORITHM]).claims
    except (JoseError, ValueError):
        raise EventRefused("invalid_key", f"The event is not signed by a key of {home.url}.") from None
    now = int(time.time())
    registry = jwt.JWTClaimsRegistry(now=now, leeway=SECURITY_EVENT_LEEWAY, iss={"essential": True, "value": home.url},
                                     jti={"essential": True}, iat={"essential": True})
    try:
        registry.validate(claims)
    except ClaimError as exc:
        raise EventRefused("invalid_request", f"The event's {exc.claim} does not check out.") from None
    audience = claims.get("aud")
    if audience != own_url() and not (isinstance(audience, list) and own_url() in audience):
        raise EventRefused("invalid_audience", f"The event is not addressed to this node ({own_url()}).")
    if not now - SECURITY_EVENT_LEEWAY <= claims["iat"] <= now + SECURITY_EVENT_LEEWAY:
        raise EventRefused("invalid_request", "The event was not issued within five minutes of now.")
    return home, claims


def _not_trusted(home: PeerNode, reason: str) -> Unauthorized:
    return Unauthorized(_l("The answer from %(peer)s could not be trusted, so you were not signed in. Try again; if "
                           "this goes on, tell the IT office.", peer=home.name), reason=reason)


def _active_peer(url: str) -> PeerNode:
    home = peer(url)
    if home is None or not home.active:
        raise Forbidden(_l("This node has no active agreement with that municipality, so its staff cannot sign in "
                           "here through it."), reason="peer_not_active")
    parts = urlsplit(home.url)
    if parts.scheme != "https" and not _loopback(parts.hostname):
        raise Forbidden(_l("Signing in through %(peer)s needs an https:// address, and the agreement names "
                           "%(url)s.", peer=home.name, url=home.url), reason="insecure_transport")
    return home


def _exchange(home: PeerNode, pending: PeerSignIn, code: str) -> dict:
    session = OAuth2Session(client=WebApplicationClient(own_url()), redirect_uri=callback_url(), scope=[SCOPE])
    allow_loopback_http(home.url)
    try:
        return session.fetch_token(home.url + TOKEN_PATH, code=code, code_verifier=pending.code_verifier,
                                   include_client_id=True, client_assertion_type=ASSERTION_TYPE,
                                   client_assertion=_assertion(home), timeout=TIMEOUT)
    except OAuth2Error as exc:
        logger.warning("%s refused to exchange a code: %s %s", home.url, exc.error, exc.description)
        raise Unauthorized(_l("%(peer)s refused the sign-in (%(error)s).", peer=home.name, error=exc.error),
                           reason=exc.error) from None
    except (OSError, ValueError) as exc:  # requests' errors are OSErrors; ValueError: not a token answer
        logger.warning("Could not exchange a code at %s: %s", home.url, exc)
        raise PeerDown(_l("%(peer)s could not be reached to finish signing you in; try again in a few minutes.",
                          peer=home.name), reason="peer_unreachable") from None


def _assertion(home: PeerNode) -> str:
    """private_key_jwt: this node's proof, signed with its federation key, that it is the client."""
    key = federation().signing_key()
    now = int(time.time())
    claims = {"iss": own_url(), "sub": own_url(), "aud": home.url + TOKEN_PATH, "jti": secrets.token_urlsafe(16),
              "iat": now, "exp": now + ASSERTION_SECONDS}
    return jwt.encode({"alg": ALGORITHM, "kid": key.id}, claims, OKPKey.import_key(key.private_key),
                      algorithms=[ALGORITHM])


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def allow_loopback_http(url: str) -> None:
    """oauthlib refuses every http:// address unless told otherwise through the environment. _active_peer has
    already checked the peer's address (https, or http to a loopback address only: a test or demonstration
    network, as Authlib allows on the provider's side), and oauthlib serves only this module, so tell it."""
    if not url.startswith("https://"):
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
