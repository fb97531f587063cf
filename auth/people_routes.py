"""Profiles and the people and skills directory (filled in next)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the profile and directory pages, their API and the `person` search type."""
