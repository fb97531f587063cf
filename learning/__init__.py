"""Courses by trainers, learned at each person's pace, with quizzes and certificates anyone can verify."""
from __future__ import annotations

from flask import Flask

from knet.content import register as register_content_type
from learning import (assignment_routes, attachment_routes, certificate_routes, content, demo, quiz_routes, routes,
                      trainer_routes)

commands = ()
#: Fills a demonstration node with a sample course.
demo_content = demo.seed


def init_app(app: Flask) -> None:
    """Wire the learning pages, API and content types into the node."""
    for content_type in content.CONTENT_TYPES:
        register_content_type(app, content_type)
    routes.init_app(app)
    trainer_routes.init_app(app)
    quiz_routes.init_app(app)
    attachment_routes.init_app(app)
    certificate_routes.init_app(app)
    assignment_routes.init_app(app)
