"""A person's data protection rights, as an administrator carries them out: an export of everything the
node keeps about them (right of access), and their erasure (right to erasure).

Erasure keeps what the person wrote (pages, questions, answers, courses are the municipality's records, and
others built on them) but cuts it from the person:

- The account stays, as a pseudonym: its username becomes ``former-<id>`` and ``erased_at`` is set, so pages
  show the author as "former staff" in the reader's language (User.name), and every personal field is emptied
  (name, e-mail, password, title, phone, department, directory entry, skills, "ask me about", languages, photo).
- It can never sign in again: it is deactivated, its sessions end and its API tokens are deleted. Because the
  username changed, a directory (LDAP) sign-in or sync of the same uid finds no account and creates a NEW one,
  with nothing of the old content; a visitor from a peer who signs in again likewise gets a new account (the
  link to their home, issuer and subject, is emptied too). auth.directory refuses to reuse an erased account.
- Each feature erases its own part (knet.personal_data): notifications, follows and memberships go; learning
  records (enrolments, progress, quiz attempts, certificates) go, being about the person alone; votes stay,
  attached to the pseudonym, since removing them would change the scores, and so the ranking, of other
  people's questions and answers, and a vote no longer says anything about an identifiable person.
- The audit log keeps every entry (security records are kept for their retention period: who signed in from
  where, what was done), but its entries about the person name the pseudonym instead of the username,
  including "… by <username>" in what they did to others.
- Peers hear of it through the ordinary content events: the profile is withdrawn (a Delete, so a Tombstone
  at every peer), and every document that names the person as author is sent again (an Update naming
  "former staff"). The peers where the person signed in are also told to erase their visitor account
  there (auth/account_purge.py); a peer so told erases it with this same function.

Services take the acting administrator (None from the command line) and flush; the caller commits.
"""
from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auth import account_purge, audit
from auth.access import require_role
from auth.content import TYPE, person_uri
from auth.models import AuditEvent, User
from auth.personal_data import about
from knet import content, personal_data
from knet.db import db, utcnow
from knet.errors import Conflict, Invalid

logger = logging.getLogger(__name__)

PSEUDONYM_PREFIX = "former-"


def pseudonym(person: User) -> str:
    """The username an erased account keeps: it says nothing about the person."""
    return f"{PSEUDONYM_PREFIX}{person.id}"


def _by(actor: User | None) -> str:
    return f"by {actor.username}" if actor is not None else "from the command line"


def export_person(actor: User | None, person: User) -> bytes:
    """Everything the node keeps about the person, as a ZIP file; the export itself is audited."""
    if actor is not None:
        require_role(actor, "admin")
    archive = personal_data.export_zip(person, subject=person.username)
    audit.record("personal_data_exported", person.username, user=person, detail=_by(actor))
    logger.info("Personal data of %s exported %s", person.username, _by(actor))
    db.session.flush()
    return archive


def export_filename(person: User) -> str:
    return f"knet-personal-data-{person.username}.zip".replace("@", "_at_")


def erase_person(actor: User | None, person: User, reason: str | None = None) -> bool:
    """Erase a person as this module says; False (and nothing done) when they were already erased.
    `reason` says who asked, for the audit log, when it was not `actor` (by default the command line)."""
    if actor is not None:
        require_role(actor, "admin")
        if actor.id == person.id:
            raise Invalid(_l("You cannot erase your own account; another administrator can."))
    if person.is_erased:
        return False
    if person.active and person.is_admin and not _other_active_admins(person):
        raise Invalid(_l("%(name)s is the last active administrator; make someone else an administrator first.",
                         name=person.username))
    new_name = pseudonym(person)
    if db.session.scalar(select(User.id).where(User.username == new_name, User.id != person.id)) is not None:
        raise Conflict(_l("Another account is already called %(name)s.", name=new_name))
    old_name = person.username
    # The profile's address holds the username: peers and the index must drop the old address.
    content.changed(TYPE, person.id, person_uri(person))
    told = account_purge.tell_peers(person)  # before the consents that name them go
    personal_data.erase_everywhere(person)
    _pseudonymise_audit(person, old_name, new_name)
    _empty_account(person, new_name)
    by = reason or _by(actor)
    audit.record("erased", new_name, user=person, detail=by)
    logger.info("Erased the account %s (now %s) %s%s", old_name, new_name, by,
                f"; telling {', '.join(node.url for node in told)}" if told else "")
    db.session.flush()
    return True


def _other_active_admins(person: User) -> bool:
    candidates = db.session.scalars(select(User).where(User.active.is_(True), User.id != person.id,
                                                       User.home_issuer.is_(None),
                                                       User.granted_roles.contains("admin")))
    return any(candidate.is_admin for candidate in candidates)


def _pseudonymise_audit(person: User, old_name: str, new_name: str) -> None:
    for event in db.session.scalars(select(AuditEvent).where(about(person))):
        event.username = new_name
    acted = f"by {old_name}"
    for event in db.session.scalars(select(AuditEvent).where(AuditEvent.detail.contains(acted, autoescape=True))):
        words = event.detail.split(" ")
        event.detail = " ".join(new_name if index and words[index - 1] == "by" and word == old_name else word
                                for index, word in enumerate(words))


def _empty_account(person: User, new_name: str) -> None:
    person.username = new_name
    person.display_name = ""
    person.email = None
    person.password_hash = None
    person.granted_roles = ""
    person.active = False
    person.deactivated_reason = "erased"
    person.session_epoch += 1
    person.directory_dn = None
    person.title = ""
    person.phone = ""
    person.department = None
    person.about = ""
    person.languages = ""
    person.profile_visibility = "internal"
    person.digest = "off"
    person.last_digest_at = None
    person.last_sign_in_at = None
    person.home_issuer = None
    person.home_subject = None
    person.home_municipality = ""
    now = utcnow()
    person.erased_at = now
    person.profile_updated_at = now
