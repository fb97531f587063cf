"""Courses by trainers, learned at each person's pace, with quizzes and certificates anyone can verify."""
from __future__ import annotations

from flask import Flask

from learning import models  # noqa: F401  (the tables, for migrations)

commands = ()
demo_content = None


def init_app(app: Flask) -> None:
    """Wire the learning pages, API and content types into the node."""
