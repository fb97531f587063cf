"""E-mail digests of unread notifications (filled in by the digest work)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the digest job when the node has [mail] set up."""
