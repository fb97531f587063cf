"""Certificates as Open Badges 2.0: the Assertion, the course's BadgeClass and the node's issuer
Profile, as JSON-LD documents for hosted verification (https://www.imsglobal.org/spec/ob/v2p0/).

Every document lives at its `id` on this node, so a verifier fetches the assertion, follows `badge`
to the BadgeClass and `issuer` to the Profile, and checks that the assertion's address lies within
the issuer's verification policy (`startsWith`). A revoked assertion is cut down to its `id`,
`revoked` and `revocationReason`, as the specification allows.

Privacy: the recipient is never named in clear. The identity is the SHA-256 of the person's e-mail
address (lower case) followed by a salt, and the salt is the certificate's own random id, so one
person's certificates cannot be linked to each other by their hashes. Without an e-mail address the
identity is the hashed address of the person's profile on this node.
"""
from __future__ import annotations

import hashlib
import textwrap
from urllib.parse import quote

from flask import current_app
from flask_babel import force_locale, gettext as _

from knet.db import as_utc
from knet.mail import mailbox
from learning.courses import course_uri
from learning.models import Certificate, Course

CONTEXT = "https://w3id.org/openbadges/v2"
#: The SVG badge shows the course title on at most this many lines of this many characters.
IMAGE_LINES, IMAGE_LINE_CHARS = 3, 18


# Addresses ---------------------------------------------------------------------------------------

def node_url() -> str:
    return str(current_app.config["KNET"]["url"]).rstrip("/")


def page_url(certificate_id: str) -> str:
    return f"{node_url()}/learning/certificates/{certificate_id}"


def assertion_url(certificate_id: str) -> str:
    return f"{page_url(certificate_id)}.json"


def badge_class_url(course_id: int) -> str:
    return f"{node_url()}/learning/courses/{course_id}/badge.json"


def badge_image_url(course_id: int) -> str:
    return f"{node_url()}/learning/courses/{course_id}/badge.svg"


def issuer_url() -> str:
    return f"{node_url()}/learning/issuer.json"


# Documents ---------------------------------------------------------------------------------------

def assertion(certificate: Certificate) -> dict:
    """The certificate as an Open Badges Assertion (only its id and the revocation, once revoked)."""
    if certificate.revoked_at is not None:
        return {"@context": CONTEXT, "type": "Assertion", "id": assertion_url(certificate.id), "revoked": True,
                "revocationReason": certificate.revoked_reason}
    document = {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": assertion_url(certificate.id),
        "recipient": recipient(certificate),
        "issuedOn": timestamp(certificate),
        "verification": {"type": "hosted"},
    }
    if certificate.course_id is not None:  # courses are archived, not deleted; a deleted one has no BadgeClass
        document["badge"] = badge_class_url(certificate.course_id)
    return document


def recipient(certificate: Certificate) -> dict:
    """Who earned it, as a salted hash (never the address itself)."""
    if certificate.recipient_email:
        kind, identity = "email", certificate.recipient_email.strip().lower()
    elif certificate.user is not None:
        kind, identity = "url", f"{node_url()}/people/{quote(certificate.user.username)}"
    else:  # the account is gone and there was no e-mail address: the certificate's own page names them
        kind, identity = "url", page_url(certificate.id)
    digest = hashlib.sha256((identity + certificate.id).encode("utf-8")).hexdigest()
    return {"type": kind, "hashed": True, "salt": certificate.id, "identity": f"sha256${digest}"}


def timestamp(certificate: Certificate) -> str:
    return as_utc(certificate.issued_at).isoformat(timespec="seconds")


def badge_class(course: Course) -> dict:
    """What completing the course means, in the course's language."""
    with force_locale(course.language):
        if course.visibility == "public" and course.summary:
            description = course.summary
        else:  # a course staff alone may read: its title is on every certificate, its summary need not be
            description = _("Completion of the course “%(title)s” at %(node)s.", title=course.title,
                            node=node_name())
        narrative = completion_rule()
    return {
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": badge_class_url(course.id),
        "name": course.title,
        "description": description,
        "image": badge_image_url(course.id),
        "criteria": {"id": course_uri(course.id), "narrative": narrative},
        "issuer": issuer_url(),
    }


def completion_rule() -> str:
    return _("Read every lesson and pass every quiz of the course's newest version.")


def issuer() -> dict:
    """The node as the organisation that issues every certificate."""
    document = {
        "@context": CONTEXT,
        "type": "Profile",
        "id": issuer_url(),
        "name": node_name(),
        "url": node_url(),
        # Only addresses of certificates count as this issuer's assertions, not any file on the node.
        "verification": {"type": "VerificationObject", "startsWith": f"{node_url()}/learning/certificates/"},
    }
    email = contact_email()
    if email:
        document["email"] = email
    return document


def node_name() -> str:
    return str(current_app.config["KNET"]["name"])


def contact_email() -> str | None:
    """Whom to ask about the node's certificates: [learning] issuer_email, or else the sender of the
    node's e-mails, if it sends any."""
    settings = current_app.config["KNET"]
    sender = mailbox(str(settings["learning"]["issuer_email"] or settings["mail"]["sender"] or ""))
    return sender.addr_spec if sender is not None else None


def image_lines(text: str, width: int = IMAGE_LINE_CHARS, count: int = IMAGE_LINES) -> list[str]:
    """The text broken into the few short lines the badge image has room for."""
    lines = textwrap.wrap(text, width) or [text]
    if len(lines) > count:
        lines = lines[:count]
        lines[-1] = lines[-1][:width - 1].rstrip() + "…"
    return lines
