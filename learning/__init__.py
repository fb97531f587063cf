"""Courses by trainers, learned at each person's pace, with quizzes and certificates anyone can verify."""
from __future__ import annotations

from flask import Flask

from learning import attachment_routes, certificate_routes, models  # noqa: F401  (models: the tables, for migrations)

commands = ()
demo_content = None


def init_app(app: Flask) -> None:
    """Wire the learning pages, API and content types into the node."""
    attachment_routes.init_app(app)
    certificate_routes.init_app(app)
