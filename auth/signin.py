"""Signing in: local accounts first, then the directory; failures limited per name and per address.

Limits count failed attempts in a sliding window, so a lock always ends WINDOW after the last
counted failure, and refused attempts are not counted. A browser in which a person has signed in
before carries a *known device* mark for them (see auth/routes.py): their attempts are counted on
their own, so somebody guessing at a name from elsewhere cannot keep its owner out.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l, lazy_ngettext

from auth import audit
from auth.directory import configured_directory, record_person
from auth.ldap import BadCredentials, Disabled, Unavailable
from auth.models import User
from auth.services import authenticate_local
from knet.db import as_utc, utcnow
from knet.errors import Conflict, KnetError

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)
#: Failed attempts allowed per user name (and per known device) within WINDOW.
PER_USERNAME = 10
#: Failed attempts allowed from one address within WINDOW. Higher than per name: a town hall's
#: staff often reach the node through one address, and one person's typos must not lock out the rest.
PER_ADDRESS = 30
MAX_USERNAME = 256


class SignInRefused(KnetError):
    status = 401
    title = "Sign-in refused"


class TooManyAttempts(KnetError):
    status = 429
    title = "Too many attempts"


class DirectoryDown(KnetError):
    status = 503
    title = "Directory unavailable"


@dataclass(frozen=True)
class Attempt:
    username: str
    password: str
    #: The client's address, as the web server sees it.
    address: str = ""
    #: The known-device id of this browser for this name, when it has one.
    device: str | None = None

    @property
    def key(self) -> str:
        """The name as counted and logged: case and surrounding spaces do not make a new name."""
        return audit.storable(self.username.strip().casefold())[:200]


INCORRECT = _l("The username or password is incorrect.")


def sign_in(attempt: Attempt) -> User:
    """The person this attempt proves to be, or SignInRefused / TooManyAttempts / DirectoryDown.

    Every outcome is written to the audit log in the caller's transaction (commit it on failure too)."""
    username = attempt.username.strip()
    if not username or len(username) > MAX_USERNAME or not attempt.password:
        audit.record("sign_in_failed", attempt.key, address=attempt.address, detail="empty or over-long field")
        raise SignInRefused(_l("Enter your username and your password."))
    _check_limits(attempt)
    local = User.by_username(username) if "\x00" not in username else None
    if local is not None and local.source == "local":
        user = authenticate_local(username, attempt.password)
        if user is None:
            _failed(attempt, "wrong password or inactive local account")
        return _succeeded(user, attempt, "local")
    directory = configured_directory()
    if directory is None:
        _failed(attempt, "no such account")
    try:
        person = directory.authenticate(username, attempt.password)
    except Unavailable as exc:
        logger.error("Directory unavailable at sign-in of %r: %s", attempt.key, exc)
        audit.record("sign_in_unavailable", attempt.key, address=attempt.address, detail=str(exc))
        raise DirectoryDown(_l("The municipality's staff directory cannot be reached right now, so staff accounts "
                               "cannot sign in. Please try again in a few minutes; if this goes on, tell the IT "
                               "office.")) from None
    except Disabled as exc:
        _failed(attempt, f"disabled in the directory: {exc}")
    except BadCredentials as exc:
        _failed(attempt, str(exc))
    try:
        user = record_person(person)
    except Conflict as exc:
        _failed(attempt, str(exc))
    return _succeeded(user, attempt, "directory")


def _check_limits(attempt: Attempt) -> None:
    since = utcnow() - WINDOW
    if attempt.device:
        counts = [audit.failures_since(since, username=attempt.key, detail_prefix=_device_detail(attempt.device))]
        limits = [PER_USERNAME]
    else:
        counts = [audit.failures_since(since, username=attempt.key),
                  audit.failures_since(since, address=attempt.address)]
        limits = [PER_USERNAME, PER_ADDRESS]
    for (count, first), limit in zip(counts, limits):
        if count >= limit:
            wait = as_utc(first) + WINDOW - utcnow()
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            audit.record("sign_in_throttled", attempt.key, address=attempt.address,
                         detail=f"{count} failures in {WINDOW}")
            message = lazy_ngettext(
                "Too many failed sign-ins for this account or from this computer. Wait %(num)d minute and try "
                "again, or ask the IT office for help.",
                "Too many failed sign-ins for this account or from this computer. Wait %(num)d minutes and try "
                "again, or ask the IT office for help.", minutes)
            raise TooManyAttempts(message, retry_after=minutes * 60)


def _failed(attempt: Attempt, why: str) -> None:
    detail = f"{_device_detail(attempt.device)} {why}" if attempt.device else why
    audit.record("sign_in_failed", attempt.key, address=attempt.address, detail=detail)
    logger.info("Sign-in of %r from %s failed: %s", attempt.key, attempt.address, why)
    raise SignInRefused(INCORRECT)


def _succeeded(user: User, attempt: Attempt, how: str) -> User:
    user.last_sign_in_at = utcnow()
    audit.record("sign_in", attempt.key, user=user, address=attempt.address, detail=how)
    return user


def _device_detail(device: str) -> str:
    return f"known device {device}:"
