"""Certificates: issued once when someone completes a course, shown to anyone at an unguessable
address, and revoked (never deleted) by an administrator with a reason.

A certificate keeps what it certifies as it was when it was issued (the person's name and e-mail
address, the course's title and version), so renaming a course or a person, or deleting either,
does not change what it says. Services flush; the caller commits.
"""
from __future__ import annotations

import logging
import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from auth import audit
from auth.access import require_role
from auth.models import User
from knet.db import db, utcnow
from knet.errors import Conflict, Invalid, NotFound
from learning import versions
from learning.courses import MAX_ID, checked_text
from learning.models import Certificate, Course, Enrolment

logger = logging.getLogger(__name__)

MAX_REASON = 500
#: What secrets.token_urlsafe(16) makes (22 characters of 128 random bits) fits; anything else is no certificate.
ID_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,32}")
NO_SUCH_CERTIFICATE = _l("There is no certificate at this address. Check that the address was copied whole.")
NO_BADGE = _l("This course has no badge: there is no such course, or nobody has a certificate of it yet.")


def new_id() -> str:
    return secrets.token_urlsafe(16)


def issue(enrolment: Enrolment) -> Certificate:
    """The certificate of a completed enrolment, issued the first time (one per person and course)."""
    if enrolment.completed_at is None:
        raise Conflict(_l("“%(title)s” is not completed yet, so it has no certificate.",
                          title=enrolment.course.title))
    # Two requests completing the same course at once wait for each other here (PostgreSQL), so the
    # second finds the first one's certificate.
    db.session.execute(select(Enrolment.id).where(Enrolment.id == enrolment.id).with_for_update())
    existing = certificate_of(enrolment.user, enrolment.course)
    if existing is not None:
        return existing
    course, person = enrolment.course, enrolment.user
    frozen = versions.get_version(course).snapshot
    certificate = Certificate(id=new_id(), user_id=person.id, course_id=course.id, recipient_name=person.name,
                              recipient_email=person.email or None, course_title=frozen["title"],
                              course_version=course.published_version, issued_at=enrolment.completed_at)
    db.session.add(certificate)
    db.session.flush()
    logger.info("issued certificate %s to user %d for course %d", certificate.id, person.id, course.id)
    return certificate


def certificate_of(person: User | None, course: Course) -> Certificate | None:
    """The person's certificate of this course, if they have one (revoked or not)."""
    if person is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.user_id == person.id,
                                                       Certificate.course_id == course.id))


def certificates_of(person: User) -> list[Certificate]:
    """Every certificate of a person, newest first ("My learning")."""
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == person.id)
                                   .order_by(Certificate.issued_at.desc())))


def get(certificate_id: str) -> Certificate:
    """A certificate by its address; anyone may look one up (that is what verifying means)."""
    found = db.session.get(Certificate, certificate_id) if ID_FORMAT.fullmatch(certificate_id) else None
    if found is None:
        raise NotFound(NO_SUCH_CERTIFICATE)
    return found


def revoke(actor: User | None, certificate: Certificate, reason: str) -> Certificate:
    """Withdraw a certificate (administrators only), saying why: it then verifies as revoked."""
    require_role(actor, "admin")
    reason = " ".join(checked_text(reason, "reason").split())
    if not reason:
        raise Invalid(_l("Give the reason for revoking: anyone who checks the certificate will read it."),
                      field="reason")
    if len(reason) > MAX_REASON:
        raise Invalid(_l("The reason may have at most %(max)d characters.", max=MAX_REASON), field="reason")
    if certificate.revoked_at is not None:
        raise Conflict(_l("This certificate was already revoked."))
    certificate.revoked_at, certificate.revoked_reason, certificate.revoked_by_id = utcnow(), reason, actor.id
    db.session.flush()
    audit.record("certificate_revoked", actor.username.casefold(), user=actor,
                 detail=f"certificate {certificate.id} of {certificate.recipient_name}: {reason}")
    logger.info("%s revoked certificate %s: %s", actor.username, certificate.id, reason)
    return certificate


def badge_course(course_id: int) -> Course:
    """A course whose badge (Open Badges BadgeClass and image) anyone may see: a published public
    course, or any course someone holds a certificate of (its title is on the certificate anyway)."""
    course = db.session.get(Course, course_id) if 0 < course_id <= MAX_ID else None
    if course is None or not course.published_version:
        raise NotFound(NO_BADGE)
    if course.visibility != "public" and not has_certificates(course):
        raise NotFound(NO_BADGE)
    return course


def has_certificates(course: Course) -> bool:
    return bool(db.session.scalar(select(exists().where(Certificate.course_id == course.id))))
