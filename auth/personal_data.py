"""What `auth` keeps about a person, for an export (right of access) and an erasure (see auth.erasure).

The export holds the profile, the account (never a password hash), the API tokens (their first
characters, scopes and dates, never the secret), the notifications the person received (without who
caused them: that is someone else), their directory groups, the peers they allowed to learn their name,
and the audit entries about them; the photo travels as a file.

The erasure here removes what belongs to the person alone: notifications, tokens, photo, skills, groups,
consents and pending sign-in codes. The account itself becomes a pseudonym last (auth.erasure), after
every feature has had its turn.
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, or_, select

from auth.models import (ApiToken, AuditEvent, AuthorizationCode, Consent, GroupMembership, Notification,
                         ProfilePhoto, User)
from knet import personal_data
from knet.content import iso
from knet.db import db

#: A photo's file name inside an export, by its type.
PHOTO_NAMES = {"image/jpeg": "photo.jpg", "image/png": "photo.png", "image/webp": "photo.webp"}


def init_app(app: Flask) -> None:
    personal_data.register(app, "auth", export=export, erase=erase, files=files)


def export(person: User) -> dict:
    return {
        "account": {
            "username": person.username, "display_name": person.display_name, "email": person.email,
            "source": person.source, "directory_dn": person.directory_dn, "roles": list(person.roles),
            "active": person.active, "deactivated_reason": person.deactivated_reason,
            "created_at": iso(person.created_at), "last_sign_in_at": iso(person.last_sign_in_at),
            "home_issuer": person.home_issuer, "home_subject": person.home_subject,
            "home_municipality": person.home_municipality, "digest": person.digest,
        },
        "profile": {
            "title": person.title, "phone": person.phone, "about": person.about,
            "department": " › ".join(unit.name for unit in person.department.path) if person.department else "",
            "skills": [skill.name for skill in person.skills], "languages": person.languages.split(),
            "visibility": person.profile_visibility, "updated_at": iso(person.profile_updated_at),
            "photo": PHOTO_NAMES.get(person.photo.content_type) if person.photo else None,
        },
        "api_tokens": [{"prefix": token.prefix, "scope": token.scope, "created_at": iso(token.created_at),
                        "revoked_at": iso(token.revoked_at)}
                       for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == person.id)
                                                       .order_by(ApiToken.id))],
        "notifications": [{"kind": note.kind, "subject": note.subject, "url": note.url,
                           "created_at": iso(note.created_at), "read_at": iso(note.read_at)}
                          for note in db.session.scalars(select(Notification).where(
                              Notification.user_id == person.id).order_by(Notification.id))],
        "directory_groups": list(db.session.scalars(select(GroupMembership.dn).where(
            GroupMembership.user_id == person.id).order_by(GroupMembership.dn))),
        "peers_allowed_to_know_me": [{"peer": consent.client_id, "granted_at": iso(consent.granted_at)}
                                     for consent in db.session.scalars(select(Consent).where(
                                         Consent.user_id == person.id).order_by(Consent.client_id))],
        "audit_events": [{"at": iso(event.at), "action": event.action, "username": event.username,
                          "address": event.address, "detail": event.detail}
                         for event in db.session.scalars(select(AuditEvent).where(about(person))
                                                         .order_by(AuditEvent.id))],
    }


def about(person: User):
    """The audit entries about a person: linked to the account, or naming it (refused sign-ins as typed)."""
    return or_(AuditEvent.user_id == person.id,
               AuditEvent.username.in_({person.username, person.username.casefold()}))


def files(person: User) -> dict[str, bytes]:
    photo = db.session.get(ProfilePhoto, person.id)
    return {PHOTO_NAMES.get(photo.content_type, "photo"): photo.data} if photo is not None else {}


def erase(person: User) -> None:
    for model in (Notification, ApiToken, GroupMembership, Consent, AuthorizationCode, ProfilePhoto):
        db.session.execute(delete(model).where(model.user_id == person.id))
    person.skills = []
    db.session.expire(person, ["tokens", "photo"])
    db.session.flush()
