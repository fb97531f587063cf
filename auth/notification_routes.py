"""The notifications page, the count in the header, and the notifications API."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
