"""Questions and answers between colleagues, and communities of practice."""
from __future__ import annotations

from flask import Flask

from qa import models  # noqa: F401 - the tables belong to the schema even before any page uses them

commands = ()
demo_content = None


def init_app(app: Flask) -> None:
    """Nothing to wire yet beyond the models: pages, API and search arrive with the services."""
