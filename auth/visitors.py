"""Visitors: staff of a peer municipality, signed in here through their home node.

A visitor is known by (home node, subject there), never by a name or an e-mail, and is called
``uid@home`` here (``maria@knet.athens.gr``). Their name, job title and municipality are refreshed from
the ID token at each sign-in. They have the role `visitor` only: they read network and public objects,
ask, answer, comment, vote and learn, and never administer (auth/access.py).
"""
from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auth import audit
from auth.models import User
from auth.sign_on import PeerNode
from knet.db import db, utcnow
from knet.errors import Conflict, Forbidden, Invalid

logger = logging.getLogger(__name__)

MAX_USERNAME = 64


def visitor_for(home: PeerNode, claims: dict, address: str = "") -> User:
    """The account of the person these checked ID token claims describe, created at their first visit."""
    subject = str(claims["sub"])[:200]
    uid = str(claims.get("preferred_username") or subject).strip()
    username = f"{uid}@{home.host}"
    if len(username) > MAX_USERNAME or any(char.isspace() for char in username):
        raise Invalid(_l("Your home municipality gave a sign-in name this node cannot use (“%(name)s”).",
                         name=username[:100]), reason="bad_username")
    user = db.session.scalar(select(User).where(User.home_issuer == home.url, User.home_subject == subject))
    holder = User.by_username(username)
    if holder is not None and holder is not user:
        raise Conflict(_l("Another account here is already called “%(name)s”, so you cannot be signed in with "
                          "that name; tell this node's administrator.", name=username), reason="username_taken")
    if user is None:
        user = User(username=username, source="peer", home_issuer=home.url, home_subject=subject)
        db.session.add(user)
        logger.info("Created the visitor account %s (subject %s of %s)", username, subject, home.url)
    elif not user.active:
        raise Forbidden(_l("Your visitor account here was deactivated by this node's administrator."),
                        reason="deactivated")
    user.username = username
    user.display_name = str(claims.get("name") or uid)[:200]
    user.title = str(claims.get("knet:title") or "")[:200]
    user.home_municipality = str(claims.get("knet:municipality") or home.name)[:200]
    user.last_sign_in_at = utcnow()
    db.session.flush()
    audit.record("sign_in", username.casefold(), user=user, address=address, detail=f"visitor from {home.url}")
    return user
