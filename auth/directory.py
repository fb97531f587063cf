"""People and departments from the municipality's directory: a sign-in updates one person, a sync everyone."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import delete, select

from auth import audit
from auth.ldap import Directory, Person, normal_dn
from auth.models import Department, GroupMembership, User
from knet.db import db, utcnow
from knet.errors import Conflict, Invalid

logger = logging.getLogger(__name__)

EXTENSION = "knet.directory"
SYNC_JOB = "auth.ldap_sync"


def init_app(app: Flask) -> None:
    """Keep the node's directory (if [ldap] names one); nothing connects until someone signs in."""
    settings = app.config["KNET"]["ldap"]
    app.extensions[EXTENSION] = Directory(settings) if settings["url"] else None


def configured_directory() -> Directory | None:
    """The node's directory, or None when it has no [ldap] url."""
    return current_app.extensions.get(EXTENSION)


def record_person(person: Person) -> User:
    """Create or update the account of someone the directory vouches for (roles and department included)."""
    user = User.by_username(person.username)
    if user is None:
        user = User(username=person.username, source="directory")
        db.session.add(user)
        logger.info("Created the directory account %s", person.username)
    elif user.is_erased:  # never: erased accounts are renamed (auth.erasure); a uid of that form must not revive one
        raise Conflict(f"The account '{person.username}' was erased; it cannot sign in again.")
    elif user.source != "directory":
        raise Conflict(f"A local account is already called '{person.username}'; the directory account "
                       "of the same name cannot use it.")
    roles = " ".join(person.roles)
    if user.id is not None and roles != user.granted_roles:
        audit.record("roles_changed", person.username, user=user,
                     detail=f"{user.granted_roles or 'reader'} -> {roles or 'reader'}")
    if user.id is not None and not user.active:
        logger.info("%s is back in the directory: reactivated", person.username)
    changed = _assign(user, granted_roles=roles, display_name=person.name[:200], email=person.email or None,
                      title=person.title[:200], phone=person.phone[:64], directory_dn=person.dn,
                      department=department_for(person.units), active=True, deactivated_reason="")
    if changed:  # only then is the profile (and its search document) new
        user.profile_updated_at = utcnow()
    db.session.flush()
    _record_groups(user, person.groups)
    return user


def _record_groups(user: User, groups: Iterable[str]) -> None:
    """Keep the person's directory groups as the directory lists them now (courses are assigned to groups)."""
    wanted = {normal_dn(group)[:1000] for group in groups}
    held = set(db.session.scalars(select(GroupMembership.dn).where(GroupMembership.user_id == user.id)))
    if held - wanted:
        db.session.execute(delete(GroupMembership).where(GroupMembership.user_id == user.id,
                                                         GroupMembership.dn.in_(held - wanted)))
    db.session.add_all(GroupMembership(user_id=user.id, dn=dn) for dn in wanted - held)
    db.session.flush()


def department_for(units: Iterable[tuple[str, str]]) -> Department | None:
    """The department (created with the units above it when new) of an OU chain, top-down."""
    department = None
    for dn, name in units:
        key = normal_dn(dn)
        found = db.session.scalar(select(Department).where(Department.dn == key))
        if found is None:
            found = Department(dn=key, name=name[:200], parent=department)
            db.session.add(found)
            db.session.flush()
        elif found.parent_id != (department.id if department else None):
            found.parent = department
        department = found
    return department


def _assign(user: User, **values: object) -> bool:
    """Set the attributes that differ; whether any did (an unchanged sign-in changes nothing)."""
    changed = False
    for name, value in values.items():
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed = True
    return changed


@dataclass
class SyncSummary:
    seen: int = 0
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    skipped: int = 0

    def sentence(self) -> str:
        return (f"{self.seen} people in the directory: {self.created} new, {self.updated} updated, "
                f"{self.deactivated} deactivated, {self.skipped} skipped.")


def sync(directory: Directory, progress: Callable[[Person], None] | None = None,
         people: list[Person] | None = None) -> SyncSummary:
    """Bring every directory account up to date and deactivate those gone or disabled (their content stays).

    `people` is what the directory just returned, when the caller has already read it."""
    people = list(directory.people()) if people is None else people
    summary = SyncSummary(seen=len(people))
    active_accounts = db.session.scalar(
        select(db.func.count()).select_from(User).where(User.source == "directory", User.active.is_(True)))
    if not people and active_accounts:
        raise Invalid(f"The directory returned nobody; {active_accounts} directory accounts were left as they are. "
                      "Check base_dn and user_filter with 'knet ldap test'.")
    present, disabled = set(), {person.username for person in people if person.disabled}
    for person in people:
        if progress:
            progress(person)
        if person.disabled:
            continue
        existing = User.by_username(person.username)
        if existing is not None and existing.source != "directory":
            logger.warning("Skipped %s: a local account has that name", person.username)
            summary.skipped += 1
            continue
        record_person(person)
        present.add(person.username)
        summary.created += existing is None
        summary.updated += existing is not None
    for user in db.session.scalars(select(User).where(User.source == "directory", User.active.is_(True))):
        if user.username not in present:
            deactivate(user, "disabled in the directory" if user.username in disabled else "no longer in the directory")
            summary.deactivated += 1
    db.session.flush()
    logger.info("Directory sync: %s", summary.sentence())
    return summary


def deactivate(user: User, reason: str) -> None:
    """Stop someone signing in (their sessions end too); what they wrote stays, attributed to them."""
    user.active, user.deactivated_reason = False, reason
    user.session_epoch += 1
    audit.record("deactivated", user.username, user=user, detail=reason)
    logger.info("Deactivated %s: %s", user.username, reason)


def run_sync_job() -> None:
    """The scheduled sync (see [ldap] sync_minutes)."""
    directory = configured_directory()
    if directory is not None:
        sync(directory)
