"""Peers: the municipalities this node has agreed to federate with, as its administrator added them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

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

    @property
    def state(self) -> str:
        """pending, active or suspended."""
        if self.suspended:
            return "suspended"
        return "active" if self.added_us else "pending"
