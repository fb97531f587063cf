"""Who may see what: the visibility levels of ARCHITECTURE.md applied to people on this node."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import InstrumentedAttribute

from auth.models import VISITOR, User
from knet.errors import Forbidden, Unauthorized

#: The roles as people read them.
ROLE_NAMES = {"reader": _l("Reader"), "editor": _l("Editor"), "trainer": _l("Trainer"),
              "moderator": _l("Moderator"), "admin": _l("Administrator"),
              VISITOR: _l("Visitor from a peer municipality")}

#: Staff of this node read internal, network and public objects.
SIGNED_IN_LEVELS = ("internal", "network", "public")
#: Visitors (staff of a peer, signed in through their home node) read network and public ones.
VISITOR_LEVELS = ("network", "public")


def can_see(actor: User | None, visibility: str, author_id: int | None) -> bool:
    """Whether this person (None: an anonymous visitor) may read an object."""
    if visibility == "public":
        return True
    if actor is None:
        return False
    if visibility == "private" or (actor.is_visitor and visibility not in VISITOR_LEVELS):
        return actor.id == author_id  # what one wrote, one may always read
    return visibility in SIGNED_IN_LEVELS


def require_role(actor: User | None, role: str) -> User:
    """The actor, if signed in with this role (or as an administrator); otherwise a 401 or 403 that says why."""
    if actor is None:
        raise Unauthorized(_l("Sign in first."))
    if actor.is_visitor and not actor.has_role(role):
        raise Forbidden(_l("You signed in from another municipality: visitors read, ask, answer and learn here, but "
                           "only this municipality's own staff can do this."), reason="visitor")
    if not actor.has_role(role):
        raise Forbidden(_l("This needs the role “%(role)s”, which your account does not have; ask the node's "
                           "administrator if you should have it.", role=ROLE_NAMES[role]))
    return actor


def visible_clause(actor: User | None, visibility: InstrumentedAttribute,
                   author_id: InstrumentedAttribute) -> ColumnElement[bool]:
    """The same rule as can_see, as a SQL condition, so lists and counts never include hidden objects."""
    if actor is None:
        return visibility == "public"
    if actor.is_visitor:
        return or_(visibility.in_(VISITOR_LEVELS), author_id == actor.id)
    return or_(visibility.in_(SIGNED_IN_LEVELS), (visibility == "private") & (author_id == actor.id))

