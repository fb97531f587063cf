"""Signing in with a national public-sector provider ([upstream] in knet.toml): plain OAuth2 (authorization
code, with PKCE S256 for providers that take it) and a userinfo endpoint, through requests-oauthlib, as
another way for this node's own staff to sign in.

The userinfo answer is read for one field, `username_claim` (the person's user name here, their LDAP uid),
which must name an active member of this node's staff: the national sign-in opens no new accounts. Nothing
else it says (a tax number, a social security number) is stored, logged or passed to peers: the person's
account stays as it was, and peers learn only what the ID token of auth/provider.py carries.

The flow's secrets are kept like a peer sign-in's (auth.models.PeerSignIn), under the `state`, with the
provider's authorize address as the issuer the answer must belong to.
"""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from oauthlib.oauth2 import OAuth2Error, WebApplicationClient
from requests_oauthlib import OAuth2Session
from sqlalchemy import delete

from auth import audit
from auth.models import PeerSignIn, User
from auth.peer_signin import allow_loopback_http
from knet.db import as_utc, db, utcnow
from knet.errors import Forbidden, Invalid, KnetError, NotFound, Unauthorized
from knet.views import local_path

logger = logging.getLogger(__name__)

#: A flow of the national sign-in is kept with this before the provider's address as its issuer.
ISSUER_PREFIX = "upstream "
PENDING = timedelta(minutes=10)
TIMEOUT = 10


class ProviderDown(KnetError):
    status = 503
    title = "Sign-in provider unavailable"


def settings() -> dict | None:
    """The [upstream] settings, when the node has a provider (None otherwise)."""
    found = current_app.config["KNET"]["upstream"]
    return found if found["authorize_url"] else None


def callback_url() -> str:
    return current_app.config["KNET"]["url"] + url_for("upstream.callback")


def start(next_path: str | None) -> str:
    """Begin a national sign-in: the address at the provider to send the person to."""
    provider = _required()
    client = WebApplicationClient(provider["client_id"])
    verifier = client.create_code_verifier(64)
    pending = PeerSignIn(state=secrets.token_urlsafe(32), issuer=(ISSUER_PREFIX + provider["authorize_url"])[:300],
                         code_verifier=verifier, nonce="", next=local_path(next_path)[:500],
                         expires_at=utcnow() + PENDING)
    db.session.execute(delete(PeerSignIn).where(PeerSignIn.expires_at < utcnow()))
    db.session.add(pending)
    db.session.flush()
    allow_loopback_http(provider["authorize_url"])
    session = OAuth2Session(client=client, redirect_uri=callback_url(), scope=provider["scope"].split() or None)
    address, _state = session.authorization_url(provider["authorize_url"], state=pending.state,
                                                code_challenge=client.create_code_challenge(verifier, "S256"),
                                                code_challenge_method="S256")
    return address


def finish(answer: dict[str, str], address: str = "") -> tuple[User, str]:
    """The member of staff the provider's answer (the callback's query) signs in, and where they wanted to go.
    The flow is used up whatever happens: the caller commits on failure too."""
    provider = _required()
    state = answer.get("state") or ""
    pending = db.session.get(PeerSignIn, state[:64]) if state else None
    if pending is None or pending.state != state or pending.issuer != (ISSUER_PREFIX + provider["authorize_url"])[:300]:
        raise Invalid(_l("This sign-in was not started on this node, or it is already finished; start signing "
                         "in again."), reason="state_unknown", field="state")
    db.session.delete(pending)
    db.session.flush()
    if as_utc(pending.expires_at) <= utcnow():
        raise Invalid(_l("This sign-in took too long and expired; start signing in again."),
                      reason="state_expired", field="state")
    if answer.get("error"):
        raise Forbidden(_l("%(provider)s did not sign you in (%(error)s).", provider=provider["name"],
                           error=answer["error"][:60]), reason=answer["error"][:60])
    if not answer.get("code"):
        raise Invalid(_l("The answer of %(provider)s has no code; start signing in again.",
                         provider=provider["name"]), reason="code_missing", field="code")
    username = _username(provider, answer["code"], pending.code_verifier)
    user = User.by_username(username)
    if user is None or user.is_visitor or not user.active:
        audit.record("upstream_sign_in_failed", username.casefold()[:100], address=address, detail="no account")
        raise Forbidden(_l("%(provider)s signed you in as “%(name)s”, but this node has no active account of "
                           "that name. Sign in once with your user name and password, or ask the IT office.",
                           provider=provider["name"], name=username[:100]), reason="no_account")
    user.last_sign_in_at = utcnow()
    audit.record("sign_in", username.casefold(), user=user, address=address, detail="national sign-in")
    return user, pending.next


def _username(provider: dict, code: str, verifier: str) -> str:
    """Exchange the code and read the person's user name from the userinfo answer (and nothing else of it)."""
    allow_loopback_http(provider["token_url"])
    session = OAuth2Session(provider["client_id"], redirect_uri=callback_url())
    try:
        session.fetch_token(provider["token_url"], code=code, client_secret=provider["client_secret"],
                            code_verifier=verifier, timeout=TIMEOUT)
        response = session.get(provider["userinfo_url"], timeout=TIMEOUT, headers={"Accept": "application/json"})
        info = response.json() if response.status_code == 200 else None
    except OAuth2Error as exc:
        logger.warning("The national sign-in refused to exchange a code: %s", exc.error)
        raise Unauthorized(_l("%(provider)s refused the sign-in (%(error)s).", provider=provider["name"],
                              error=exc.error), reason=exc.error) from None
    except (OSError, ValueError) as exc:  # requests' errors are OSErrors; ValueError: an answer that is not JSON
        logger.warning("Could not finish a national sign-in: %s", type(exc).__name__)
        raise ProviderDown(_l("%(provider)s could not be reached to finish signing you in; try again in a few "
                              "minutes.", provider=provider["name"]), reason="provider_unreachable") from None
    value = info.get(provider["username_claim"]) if isinstance(info, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise Unauthorized(_l("%(provider)s did not say who you are (its answer has no “%(claim)s”).",
                              provider=provider["name"], claim=provider["username_claim"]), reason="no_username")
    return value.strip()


def _required() -> dict:
    found = settings()
    if found is None:
        raise NotFound(_l("This node has no national sign-in."))
    return found
