"""People who sign in to the node, their departments, skills and API tokens, and the audit log."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String, Table, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from knet.content import FormerStaffName
from knet.db import db, utcnow

#: What a person may do. Everyone who signs in is a reader; an administrator may do everything.
ROLES = ("reader", "editor", "trainer", "moderator", "admin")
#: The only role of staff of a peer municipality signed in here through their home node: a reader who
#: sees network and public objects, not internal ones, and never administers.
VISITOR = "visitor"
TOKEN_SCOPES = ("read", "write")
#: Who may see a profile: staff of this node, or also staff of peer municipalities.
PROFILE_VISIBILITIES = ("internal", "network")
#: "peer": a visitor, who signed in through their home node (a peer municipality).
SOURCES = ("local", "directory", "peer")
#: How often a person wants their unread notifications by e-mail (when the node has [mail] set up).
DIGESTS = ("off", "daily", "weekly")

user_skills = Table(
    "user_skills", db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    #: A visitor is known by their home node and their subject there, never by a name or an e-mail.
    __table_args__ = (UniqueConstraint("home_issuer", "home_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Sign-in name; unique on this node.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    #: Hash of a local password; None for people who sign in through a directory.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Roles beyond reader, separated by spaces ("editor trainer"); recomputed from directory groups at each sign-in.
    granted_roles: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(default=True)
    #: Why the account was deactivated (by `knet ldap sync`), shown to administrators.
    deactivated_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: "local" (password kept here) or "directory" (the municipality's LDAP).
    source: Mapped[str] = mapped_column(String(10), default="local")
    #: The person's entry in the directory, as last seen.
    directory_dn: Mapped[str | None] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"), index=True)
    last_sign_in_at: Mapped[datetime | None]
    #: Raised by "sign out everywhere": a session made under an older number is no longer valid.
    session_epoch: Mapped[int] = mapped_column(default=0)
    #: "Ask me about": what the person is glad to help with, in their own words.
    about: Mapped[str] = mapped_column(Text, default="")
    #: Languages the person works in, as codes separated by spaces ("el en fr").
    languages: Mapped[str] = mapped_column(String(100), default="")
    profile_visibility: Mapped[str] = mapped_column(String(10), default="internal")
    profile_updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: One of DIGESTS.
    digest: Mapped[str] = mapped_column(String(10), default="daily")
    #: When the last e-mail digest was sent to the person (None: never).
    last_digest_at: Mapped[datetime | None]
    #: For a visitor: the URL of their home node (the issuer of their ID token), their subject there, and
    #: their municipality's name as it said at their last sign-in. None for this node's own staff.
    home_issuer: Mapped[str | None] = mapped_column(String(300))
    home_subject: Mapped[str | None] = mapped_column(String(200))
    home_municipality: Mapped[str] = mapped_column(String(200), default="")
    #: When the person was erased at their request (auth.erasure): the account is then a pseudonym
    #: (``former-<id>``) with no personal data, never signs in again, and is shown as "former staff".
    erased_at: Mapped[datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")
    department: Mapped[Department | None] = relationship(back_populates="people")
    skills: Mapped[list[Skill]] = relationship(secondary=user_skills, order_by="Skill.name", back_populates="people")
    photo: Mapped[ProfilePhoto | None] = relationship(cascade="all, delete-orphan", lazy="select")

    @property
    def is_visitor(self) -> bool:
        """Whether the person is staff of a peer municipality, signed in through their home node."""
        return self.home_issuer is not None

    @property
    def roles(self) -> tuple[str, ...]:
        """Every role the person has, reader first, in the order of ROLES (a visitor's is "visitor")."""
        if self.is_visitor:
            return (VISITOR,)
        granted = set(self.granted_roles.split())
        return tuple(role for role in ROLES if role == "reader" or role in granted)

    def has_role(self, role: str) -> bool:
        """Whether the person may act in this role (an administrator may act in every role; a visitor reads,
        asks, answers and learns as a reader does, and never has another role, whatever was granted)."""
        if self.is_visitor:
            return role in ("reader", VISITOR)
        granted = self.granted_roles.split()
        return role == "reader" or role in granted or "admin" in granted

    @property
    def is_admin(self) -> bool:
        return self.has_role("admin")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def name(self) -> str:
        """How the person is named on pages: a visitor with their municipality, wherever the name appears
        («Μαρία Παπαδοπούλου (Δήμος Αθηναίων)»); someone erased as "former staff", in the reader's language
        (in the node's default language in documents made by the worker for peers)."""
        if self.is_erased:
            return FormerStaffName(gettext("former staff"))
        own = self.display_name or self.username
        return f"{own} ({self.home_municipality})" if self.is_visitor and self.home_municipality else own

    @classmethod
    def by_username(cls, username: str) -> User | None:
        return db.session.scalar(select(cls).where(cls.username == username))


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The first characters of the token, shown to people so they can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    #: SHA-256 of the whole token; the token itself is never stored.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(8), default="read")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class Department(db.Model):
    """An organisational unit of the municipality (Directorate → Department → Office), from the directory."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unit's DN in the directory, in one spelling (auth.ldap.normal_dn).
    dn: Mapped[str] = mapped_column(String(1000), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)

    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(back_populates="parent", order_by="Department.name")
    people: Mapped[list[User]] = relationship(back_populates="department", order_by="User.display_name")

    @property
    def path(self) -> list[Department]:
        """The unit and those above it, from the top down."""
        chain, unit = [], self
        while unit is not None:
            chain.append(unit)
            unit = unit.parent
        return chain[::-1]


class Skill(db.Model):
    """Something people know about, chosen freely ("GIS", "προμήθειες", "ΕΣΠΑ")."""

    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    #: The name folded (lower case, no accents, final sigma as σ), so «Προμήθειες» and «προμηθειες» are one skill.
    key: Mapped[str] = mapped_column(String(80), unique=True)

    people: Mapped[list[User]] = relationship(secondary=user_skills, back_populates="skills")


class ProfilePhoto(db.Model):
    """A person's photo, checked and re-encoded on upload (kept apart so lists of people stay light)."""

    __tablename__ = "profile_photos"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(db.Model):
    """Something that matters for security: a sign-in, a refused one, a sign-out everywhere, a deactivation."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    #: The name as typed (cut to 200 characters), even when no account has it.
    username: Mapped[str] = mapped_column(String(200), default="", index=True)
    address: Mapped[str] = mapped_column(String(64), default="", index=True)
    detail: Mapped[str] = mapped_column(String(500), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Notification(db.Model):
    """Something that happened which one person should hear about: an answer to their question, a
    mention. The sentence is made when it is shown, in the reader's language, from its `kind`."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: What happened, as a feature registered it ("qa.answer", "qa.mention", …).
    kind: Mapped[str] = mapped_column(String(40))
    #: Who made it happen (None if their account is gone).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: What it is about, as it was called then (a question's title).
    subject: Mapped[str] = mapped_column(String(300), default="")
    #: Where to read it: a path on this node.
    url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    #: When it went out in an e-mail digest (None: not yet, or never will).
    emailed_at: Mapped[datetime | None]

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class GroupMembership(db.Model):
    """A group the person belongs to in the directory (any group, not only those that give roles), as
    last seen at sign-in or sync; courses are assigned to groups."""

    __tablename__ = "user_groups"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    #: The group's DN in one spelling (auth.ldap.normal_dn).
    dn: Mapped[str] = mapped_column(String(1000), primary_key=True, index=True)


class AuthorizationCode(db.Model):
    """A code this node's provider gave a peer, to exchange once, within CODE_SECONDS, for an ID token of
    the person who signed in (auth/provider.py)."""

    __tablename__ = "oauth_codes"
    __table_args__ = (Index("ix_oauth_codes_client_nonce", "client_id", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the code; the code itself is never stored.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: The peer's URL (its client_id).
    client_id: Mapped[str] = mapped_column(String(300))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(100))
    nonce: Mapped[str] = mapped_column(String(200))
    #: PKCE: the challenge and its method (always S256).
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    #: When the peer exchanged it (a second exchange is refused).
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Consent(db.Model):
    """A person agreed that a peer may learn their name, job title and municipality when they sign in there."""

    __tablename__ = "oauth_consents"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    #: The peer's URL (its client_id).
    client_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class PeerSignIn(db.Model):
    """A sign-in at a peer this node started for a visitor, kept on the server (not in the browser's
    session) under its `state` until the peer sends the person back (auth/peer_signin.py)."""

    __tablename__ = "peer_sign_ins"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The peer the flow was started with: the only issuer whose answer is accepted.
    issuer: Mapped[str] = mapped_column(String(300))
    #: PKCE's secret half; only its S256 hash went to the peer.
    code_verifier: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(64))
    #: Where to go once signed in: a path on this node.
    next: Mapped[str] = mapped_column(String(500), default="/")
    expires_at: Mapped[datetime] = mapped_column(index=True)
