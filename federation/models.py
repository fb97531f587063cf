"""What federation keeps: peers and their cursors, the numbered change log (the outbox), activities
received, replicas of peers' objects, and deliveries that failed for good."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from knet.db import db, utcnow


class Peer(db.Model):
    """A node this node's administrator added. The agreement is active once the peer has added this node
    too (`added_us`), until an administrator suspends it; otherwise it is pending."""

    __tablename__ = "federation_peers"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The peer's address: scheme, host and port, nothing after them (federation.peers.node_url).
    url: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The keys its node document published when last fetched: [{"id": key URL, "pem": …, "expires": ISO or None}].
    keys: Mapped[list] = mapped_column(JSON, default=list)
    #: Whether the peer has added this node (learned from its signed peering request, or its answer to ours).
    added_us: Mapped[bool] = mapped_column(default=False)
    suspended: Mapped[bool] = mapped_column(default=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When a request to or from the peer last succeeded.
    last_contact_at: Mapped[datetime | None]
    #: Why the last request to the peer failed ("" after a success).
    last_error: Mapped[str] = mapped_column(String(500), default="")
    #: The last change of our log the peer has accepted (push), and the last of its log we applied (pull).
    pushed_seq: Mapped[int] = mapped_column(default=0)
    pulled_seq: Mapped[int] = mapped_column(default=0)
    #: Pushes that failed in a row, and when to try again (backoff, or the peer's Retry-After).
    push_failures: Mapped[int] = mapped_column(default=0)
    next_push_at: Mapped[datetime | None]
    #: Since when pushes to the peer have failed (None while it answers).
    failing_since: Mapped[datetime | None]
    last_pull_at: Mapped[datetime | None]
    #: A worker delivering to (or pulling from) the peer holds it until then, so only one does at a time.
    push_busy_until: Mapped[datetime | None]
    pull_busy_until: Mapped[datetime | None]

    @property
    def state(self) -> str:
        """pending, active or suspended."""
        if self.suspended:
            return "suspended"
        return "active" if self.added_us else "pending"


class Change(db.Model):
    """One entry of this node's numbered change log: the latest state of one shareable object (or its
    deletion), as peers receive it. The log keeps one entry per object (a newer change of an object
    replaces its entry, with a new number), so it grows with the objects ever shared, not with the
    changes made or with how long a peer has been away; a peer at any cursor catches up from it."""

    __tablename__ = "federation_changes"

    #: The change's number; it is also the object's version (`knet:version`), which only grows.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uri: Mapped[str] = mapped_column(String(500), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int]
    #: Create, Update or Delete.
    activity: Mapped[str] = mapped_column(String(10))
    #: The object's document (knet.content.document), None (SQL NULL) for a Delete.
    document: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    #: A hash of the document, to tell a real change from a repeat ("" for a Delete).
    digest: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LogHead(db.Model):
    """The number of the newest change (one row): writers of the log lock it, so changes are committed
    in the order of their numbers and a peer reading after a cursor never misses one."""

    __tablename__ = "federation_log_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)


class Received(db.Model):
    """An activity id a peer delivered to the inbox: delivering it again changes nothing."""

    __tablename__ = "federation_received"

    activity_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("federation_peers.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Replica(db.Model):
    """A peer's object as this node keeps it: read-only, replaced only by a higher version. A deleted
    object stays as a tombstone (no document), so a late Create or Update cannot bring it back."""

    __tablename__ = "federation_replicas"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(500), unique=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("federation_peers.id", ondelete="CASCADE"), index=True)
    #: What it is, as search names it: page, question, answer, community, course or person.
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[int]
    #: The object's document, sanitised; None (SQL NULL) for a tombstone.
    document: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    #: The object it answers (an answer's question), for showing answers under their question.
    in_reply_to: Mapped[str | None] = mapped_column(String(500), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    peer: Mapped[Peer] = relationship()

    @property
    def deleted(self) -> bool:
        return self.document is None


class DeadLetter(db.Model):
    """A change a peer refused for good (a 4xx other than 429): kept for the administrator to see."""

    __tablename__ = "federation_dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("federation_peers.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    uri: Mapped[str] = mapped_column(String(500))
    status: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HourlyStats(db.Model):
    """Deliveries to one peer in one hour, and the most changes that waited for it: the admin page's chart."""

    __tablename__ = "federation_hourly_stats"

    peer_id: Mapped[int] = mapped_column(ForeignKey("federation_peers.id", ondelete="CASCADE"), primary_key=True)
    #: The hour's start (UTC).
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    delivered: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    dead: Mapped[int] = mapped_column(default=0)
    most_waiting: Mapped[int] = mapped_column(default=0)


class Follower(db.Model):
    """A fediverse account (a Mastodon user, a Lemmy community…) that follows the node actor: it receives
    the node's public objects. Followers read; they never write anything here."""

    __tablename__ = "fediverse_followers"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The follower's actor id (its URL), as its signed Follow named it.
    actor: Mapped[str] = mapped_column(String(500), unique=True)
    inbox: Mapped[str] = mapped_column(String(500))
    #: Its server's shared inbox, if it has one: a server with several followers gets each activity once.
    shared_inbox: Mapped[str | None] = mapped_column(String(500))
    #: The id of its Follow activity, which the Accept names (and an Undo may name alone).
    follow_id: Mapped[str] = mapped_column(String(500))
    followed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Published(db.Model):
    """A public object as the node's followers last received it, so that a change is sent once and an
    object that stops being public (or is deleted) is sent as a Delete."""

    __tablename__ = "fediverse_published"

    uri: Mapped[str] = mapped_column(String(500), primary_key=True)
    #: How many activities the followers have received about it (it numbers their ids).
    version: Mapped[int] = mapped_column(default=0)
    #: A hash of the object as sent (federation.protocol.digest); "" once it was withdrawn.
    digest: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
