"""Notifications: what happened that a person should hear about, kept until they read it.

A feature registers each kind of notification with the sentence that tells it (a lazy, translatable
string with %(actor)s and %(subject)s), and calls `notify` in the same transaction as the change,
so a notification exists exactly when what it tells of does. The sentence is made when it is read,
in the reader's language.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from flask import Flask, current_app
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import func, insert, select, update

from auth.models import DIGESTS, Notification, User
from knet.db import db, utcnow
from knet.errors import Invalid, NotFound, Unauthorized

EXTENSION = "auth.notification_kinds"
MAX_SUBJECT = 300
#: The largest id the databases store.
MAX_ID = 2**31 - 1
#: Read notifications older than this are deleted by the digest job; unread ones are kept.
KEEP_READ = timedelta(days=180)
DIGEST_NAMES = {"off": _l("Never"), "daily": _l("Once a day"), "weekly": _l("Once a week")}
_UNKNOWN_KIND = _l("Something happened about “%(subject)s”")


def register_kind(app: Flask, kind: str, message) -> None:
    """Say how a kind of notification reads: a lazy string with %(actor)s and %(subject)s."""
    app.extensions.setdefault(EXTENSION, {})[kind] = message


def notify(recipients: Iterable[User], kind: str, *, actor: User | None, subject: str, url: str,
           exclude: Iterable[int] = ()) -> set[int]:
    """Tell each recipient once, except the actor and those in `exclude` (already told of the same
    change in another way), and only active accounts. Returns the ids of those told."""
    if not url.startswith("/") or url.startswith("//"):
        raise ValueError(f"A notification leads to a path on this node, not {url!r}.")
    skip = set(exclude) | ({actor.id} if actor is not None else set())
    told = {person.id for person in recipients if person is not None and person.active and person.id not in skip}
    if told:
        # One INSERT of many rows: a question in a tag a thousand people follow tells them all at once.
        now, actor_id, subject = utcnow(), actor.id if actor is not None else None, subject[:MAX_SUBJECT]
        db.session.execute(insert(Notification), [
            {"user_id": person_id, "kind": kind, "actor_id": actor_id, "subject": subject, "url": url,
             "created_at": now} for person_id in sorted(told)])
    return told


def message(notification: Notification) -> str:
    """The notification as a sentence in the current language."""
    template = current_app.extensions.get(EXTENSION, {}).get(notification.kind, _UNKNOWN_KIND)
    actor = notification.actor.name if notification.actor is not None else gettext("Someone")
    return str(template) % {"actor": actor, "subject": notification.subject}


def unread_count(person: User | None) -> int:
    if person is None:
        return 0
    return db.session.scalar(select(func.count(Notification.id))
                             .where(Notification.user_id == person.id, Notification.read_at.is_(None))) or 0


def recent(person: User | None, page: int = 1, per_page: int = 25,
           unread_only: bool = False) -> tuple[list[Notification], int]:
    """One page of the person's notifications, newest first, and how many there are in all."""
    _signed_in(person)
    conditions = [Notification.user_id == person.id]
    if unread_only:
        conditions.append(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count(Notification.id)).where(*conditions)) or 0
    rows = db.session.scalars(select(Notification).where(*conditions)
                              .order_by(Notification.created_at.desc(), Notification.id.desc())
                              .limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def get(person: User | None, notification_id: int) -> Notification:
    """One of the person's own notifications (anybody else's is not found)."""
    _signed_in(person)
    found = db.session.get(Notification, notification_id) if 0 < notification_id <= MAX_ID else None
    if found is None or found.user_id != person.id:
        raise NotFound(_l("There is no such notification among yours."))
    return found


def mark_read(person: User | None, notification: Notification) -> None:
    if notification.user_id != getattr(person, "id", None):
        raise NotFound(_l("There is no such notification among yours."))
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(person: User | None, up_to_id: int | None = None) -> int:
    """Mark the person's unread notifications read (only those up to `up_to_id`, if given, so that
    one that arrived after the page was shown stays unread). Returns how many were marked."""
    _signed_in(person)
    condition = [Notification.user_id == person.id, Notification.read_at.is_(None)]
    if up_to_id is not None:
        condition.append(Notification.id <= up_to_id)
    marked = db.session.execute(update(Notification).where(*condition).values(read_at=utcnow())
                                .execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    return marked or 0


def set_digest(person: User | None, digest: object) -> None:
    """Choose how often unread notifications come by e-mail."""
    _signed_in(person)
    if digest not in DIGESTS:
        raise Invalid(_l("Choose how often: %(choices)s.", choices=", ".join(DIGESTS)), field="digest")
    person.digest = digest
    db.session.flush()


def _signed_in(person: User | None) -> None:
    if person is None:
        raise Unauthorized(_l("Sign in to see your notifications."))
