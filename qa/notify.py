"""Who hears of what happens in Q&A (filled in by the notifications work)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the kinds of Q&A notifications."""
