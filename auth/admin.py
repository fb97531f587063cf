"""What administrators do with accounts: list them, set the roles of local accounts, deactivate and reactivate."""
from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from auth import audit
from auth.access import require_role
from auth.models import ROLES, User
from knet.db import db
from knet.errors import Invalid

logger = logging.getLogger(__name__)


def list_accounts(actor: User | None, query: str = "", page: int = 1, per_page: int = 50) -> tuple[list[User], int]:
    """Accounts by name, optionally those whose name or sign-in name contains `query`."""
    require_role(actor, "admin")
    condition = True
    if query.strip():
        pattern = f"%{query.strip()}%"
        condition = or_(User.username.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(User).where(condition))
    accounts = db.session.scalars(select(User).where(condition).order_by(User.active.desc(), User.username)
                                  .offset((page - 1) * per_page).limit(per_page))
    return list(accounts), total


def set_local_roles(actor: User | None, account: User, roles: list[str]) -> None:
    """Give a local account these roles (directory accounts take theirs from their groups at each sign-in)."""
    require_role(actor, "admin")
    if account.source != "local":
        raise Invalid(_l("%(name)s signs in through the directory: their roles come from its groups.",
                         name=account.name))
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise Invalid(_l("Unknown role: %(roles)s.", roles=", ".join(sorted(unknown))))
    granted = " ".join(role for role in ROLES if role in roles and role != "reader")
    if account.id == actor.id and "admin" not in granted.split():
        raise Invalid(_l("You cannot take the administrator role from yourself; another administrator can."))
    if granted != account.granted_roles:
        audit.record("roles_changed", account.username.casefold(), user=account,
                     detail=f"{account.granted_roles or 'reader'} -> {granted or 'reader'} by {actor.username}")
        account.granted_roles = granted
        logger.info("%s gave %s the roles %s", actor.username, account.username, granted or "reader")
    db.session.flush()


def set_active(actor: User | None, account: User, active: bool) -> None:
    """Let an account sign in again, or stop it (its sessions end; what it wrote stays, attributed)."""
    require_role(actor, "admin")
    if account.id == actor.id and not active:
        raise Invalid(_l("You cannot deactivate your own account."))
    if account.is_erased and active:
        raise Invalid(_l("This account was erased; it cannot sign in again."))
    if account.active == active:
        return
    account.active = active
    account.deactivated_reason = "" if active else f"deactivated by {actor.username}"
    if not active:
        account.session_epoch += 1
    audit.record("reactivated" if active else "deactivated", account.username.casefold(), user=account,
                 detail=f"by {actor.username}")
    logger.info("%s %s %s", actor.username, "reactivated" if active else "deactivated", account.username)
    db.session.flush()
