"""The audit log: sign-ins, refused sign-ins, sign-outs everywhere, role changes and deactivations."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from auth.models import AuditEvent, User
from knet.db import db, utcnow

logger = logging.getLogger(__name__)


def record(action: str, username: str, *, user: User | None = None, address: str = "", detail: str = "") -> None:
    """Add an entry in the caller's transaction (and to the log, for the IT officer's log collector)."""
    db.session.add(AuditEvent(action=action, username=storable(username)[:200], address=storable(address)[:64],
                              detail=storable(detail)[:500], user_id=user.id if user is not None else None))
    logger.info("audit %s user=%r address=%s %s", action, username[:200], address, detail)


def storable(text: str) -> str:
    """Text any database keeps: PostgreSQL refuses NUL characters, which an attacker may well type."""
    return text.replace("\x00", "\ufffd")


def failures_since(since: datetime, *, username: str | None = None, address: str | None = None,
                   detail_prefix: str | None = None) -> tuple[int, datetime | None]:
    """How many sign-ins failed since then for a name and/or from an address, and when the first of them was."""
    query = select(func.count(), func.min(AuditEvent.at)).where(AuditEvent.action == "sign_in_failed",
                                                                 AuditEvent.at >= since)
    if username is not None:
        query = query.where(AuditEvent.username == username)
    if address is not None:
        query = query.where(AuditEvent.address == address)
    if detail_prefix is not None:
        query = query.where(AuditEvent.detail.startswith(detail_prefix, autoescape=True))
    count, first = db.session.execute(query).one()
    return count, first


def recent(limit: int = 100, *, within: timedelta | None = None) -> list[AuditEvent]:
    """The newest entries first (for administrators)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if within is not None:
        query = query.where(AuditEvent.at >= utcnow() - within)
    return list(db.session.scalars(query))
