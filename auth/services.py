"""Local accounts and personal API tokens."""
from __future__ import annotations

import hashlib
import logging
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from auth import audit
from auth.models import ROLES, TOKEN_SCOPES, ApiToken, User
from knet.db import db, utcnow
from knet.errors import Conflict, Invalid, NotFound

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "knet_"
MIN_PASSWORD_LENGTH = 10


def create_local_user(username: str, password: str, *, role: str = "reader", email: str | None = None,
                      display_name: str = "") -> User:
    """Create an account that signs in with a password kept on this node."""
    username = username.strip()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise Invalid("A username needs 1 to 64 characters and no spaces.")
    if role not in ROLES:
        raise Invalid(f"Unknown role '{role}'; choose one of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if User.by_username(username):
        raise Conflict(f"There is already an account called '{username}'.")
    user = User(username=username, password_hash=generate_password_hash(password),
                granted_roles="" if role == "reader" else role, email=email, display_name=display_name)
    db.session.add(user)
    db.session.flush()
    audit.record("account_created", username.casefold(), user=user, detail=f"local account, role {role}")
    logger.info("Created local account %s with role %s", username, role)
    return user


def authenticate_local(username: str, password: str) -> User | None:
    """The active local account with this username and password, or None."""
    if "\x00" in username:  # no account has one, and PostgreSQL refuses it in a query
        return None
    user = User.by_username(username.strip())
    if user is None or not user.active or not user.password_hash or not password:
        return None
    return user if check_password_hash(user.password_hash, password) else None


def issue_token(user: User, scope: str = "read") -> str:
    """Create a personal API token and return it; only its digest is stored."""
    if scope not in TOKEN_SCOPES:
        raise Invalid(f"Unknown scope '{scope}'; choose read or write.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, prefix=raw[:12], digest=_digest(raw), scope=scope))
    db.session.flush()
    audit.record("token_issued", user.username.casefold(), user=user, detail=f"{scope} token {raw[:12]}…")
    logger.info("Issued a %s token to %s", scope, user.username)
    return raw


def revoke_tokens(user: User, prefix: str | None = None) -> int:
    """Revoke one token (by its first characters) or all of a person's tokens; return how many."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if prefix is not None:
        query = query.where(ApiToken.prefix == prefix[:12])
    tokens = list(db.session.scalars(query))
    if prefix is not None and len(tokens) != 1:
        raise NotFound(f"No single active token of {user.username} starts with '{prefix}'.")
    for token in tokens:
        token.revoked_at = utcnow()
    db.session.flush()
    if tokens:
        audit.record("tokens_revoked", user.username.casefold(), user=user,
                     detail=", ".join(f"{token.prefix}…" for token in tokens))
    logger.info("Revoked %d token(s) of %s", len(tokens), user.username)
    return len(tokens)


def token_owner(raw: str) -> ApiToken | None:
    """The active token matching a presented bearer token, or None."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.digest == _digest(raw)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
