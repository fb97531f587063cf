"""E-mail digests of unread notifications, for people who asked for them daily or weekly.

A recurring job (every [mail] digest_minutes) e-mails each person who is due the notifications
they have neither read nor been e-mailed, and deletes read notifications older than KEEP_READ.
Each person's e-mail is committed on its own as soon as the server has it, so a failure later in
the run loses nothing and nobody is told twice.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage

from flask import Flask, current_app
from flask_babel import force_locale, gettext as _, lazy_gettext as _l, ngettext
from markupsafe import Markup
from sqlalchemy import and_, delete, exists, or_, select

from auth.models import Notification, User
from auth.notifications import KEEP_READ, message
from knet import jobs
from knet.db import db, utcnow
from knet.mail import MailError, Outbox, Refused, compose, mailbox

logger = logging.getLogger(__name__)

DIGEST_JOB = "auth.digest"
#: How long after one digest the next may come, by the person's choice.
PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
#: An e-mail lists at most this many notifications and links to the rest.
MAX_LISTED = 50
#: A run commits after each e-mail; no other worker starts the job for this long (see knet.jobs.Handler.claim).
CLAIM_SECONDS = 30 * 60
#: The anchor of the form on the notifications page where people choose how often.
SETTINGS_PATH = "/notifications#digest"
_CADENCE = {"daily": _l("You get this e-mail at most once a day, when something is waiting for you."),
            "weekly": _l("You get this e-mail at most once a week, when something is waiting for you.")}


def init_app(app: Flask) -> None:
    """Register the digest job when the node has [mail] set up."""
    settings = app.config["KNET"]["mail"]
    if settings["host"] and settings["digest_minutes"]:
        jobs.register(app, DIGEST_JOB, run_digest_job, max_attempts=3, every=settings["digest_minutes"] * 60,
                      claim=CLAIM_SECONDS)


def run_digest_job() -> None:
    """The scheduled run (see [mail] digest_minutes); an unreachable server waits for the next one."""
    try:
        run_digests()
    except MailError as exc:
        db.session.rollback()
        logger.warning("No e-mail digests were sent this time; the next run tries again. %s", exc)


def run_digests(now: datetime | None = None) -> int:
    """E-mail everyone who is due their unread notifications and forget old read ones; return how many
    people were e-mailed. Raises MailError when the server cannot be used (those sent so far stay sent)."""
    now = now or utcnow()
    forget_old_read(now)
    db.session.commit()
    settings = current_app.config["KNET"]["mail"]
    if not settings["host"]:
        return 0
    waiting = db.session.scalars(select(User.id).where(_due(now)).order_by(User.id)).all()
    if not waiting:
        return 0  # no connection to the server at all
    sent = 0
    with Outbox(settings) as outbox:
        for person_id in waiting:
            sent += _send_one(outbox, settings, person_id, now)
    return sent


def forget_old_read(now: datetime) -> int:
    """Delete read notifications older than KEEP_READ (unread ones stay however old)."""
    deleted = db.session.execute(delete(Notification).where(
        Notification.read_at.is_not(None), Notification.created_at < now - KEEP_READ)
        .execution_options(synchronize_session=False)).rowcount or 0
    if deleted:
        logger.info("Deleted %d read notifications older than %d days", deleted, KEEP_READ.days)
    return deleted


def _due(now: datetime):
    """People who want digests, have an address, have something new and had no digest for a period."""
    never_or_long_ago = or_(User.last_digest_at.is_(None), *(
        and_(User.digest == choice, User.last_digest_at <= now - period) for choice, period in PERIODS.items()))
    return and_(User.active.is_(True), User.digest.in_(PERIODS), User.email.is_not(None), User.email != "",
                never_or_long_ago, exists().where(*_waiting_for(User.id)))


def _waiting_for(person_id) -> tuple:
    return Notification.user_id == person_id, Notification.read_at.is_(None), Notification.emailed_at.is_(None)


def _send_one(outbox: Outbox, settings: Mapping[str, object], person_id: int, now: datetime) -> int:
    """E-mail one person (1) or nobody (0), in a transaction of its own."""
    # Lock the person and ask again whether they are due: another worker may have just e-mailed them.
    person = db.session.scalars(select(User).where(User.id == person_id, _due(now))
                                .with_for_update(skip_locked=True)).first()
    if person is None:
        db.session.rollback()
        return 0
    recipient = mailbox(person.email, person.name)
    if recipient is None:
        logger.warning("No digest for %s: %r is not an e-mail address", person.username, person.email)
        db.session.rollback()
        return 0
    news = db.session.scalars(select(Notification).where(*_waiting_for(person.id))
                              .order_by(Notification.created_at.desc(), Notification.id.desc())).all()
    try:
        outbox.send(_digest(settings, recipient, person, news))
    except Refused as exc:
        logger.warning("No digest for %s: %s", person.username, exc)
        db.session.rollback()
        return 0
    for notification in news:
        notification.emailed_at = now
    person.last_digest_at = now
    db.session.commit()
    logger.info("E-mailed %s a digest of %d notifications", person.username, len(news))
    return 1


def _digest(settings: Mapping[str, object], recipient: Address, person: User,
            news: list[Notification]) -> EmailMessage:
    """The e-mail, in the node's language (people have no language of their own yet)."""
    node = current_app.config["KNET"]
    base, language = str(node["url"]).rstrip("/"), node["default_language"]
    with force_locale(language):
        subject = ngettext("%(num)d new notification on %(node)s", "%(num)d new notifications on %(node)s",
                           len(news), node=node["name"])
        greeting = _("Hello %(name)s,", name=person.name)
        intro = _("This is what is waiting for you on %(node)s:", node=node["name"])
        # Through the notifications page, so that following a link marks the notification read.
        listed = [(message(notification), f"{base}/notifications/{notification.id}")
                  for notification in news[:MAX_LISTED]]
        more = len(news) - len(listed)
        rest = ngettext("…and %(num)d more:", "…and %(num)d more:", more) if more else ""
        cadence = str(_CADENCE[person.digest])
        change = _("To change how often, or to stop these e-mails:")
    everything, preferences = base + "/notifications", base + SETTINGS_PATH
    text = "\n\n".join([greeting, intro, *(f"- {sentence}\n  {link}" for sentence, link in listed),
                        *([f"{rest} {everything}"] if rest else []), f"{cadence}\n{change} {preferences}"]) + "\n"
    html = Markup("\n").join([
        Markup("<p>{}</p>\n<p>{}</p>").format(greeting, intro),
        Markup("<ul>\n{}\n</ul>").format(Markup("\n").join(
            Markup('<li><a href="{}">{}</a></li>').format(link, sentence) for sentence, link in listed)),
        *([Markup('<p>{} <a href="{}">{}</a></p>').format(rest, everything, everything)] if rest else []),
        Markup('<p>{}<br>\n{} <a href="{}">{}</a></p>').format(cadence, change, preferences, preferences),
    ])
    return compose(settings, recipient, subject, text, html, language)
