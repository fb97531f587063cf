"""Questions and answers between colleagues, and communities of practice."""
from __future__ import annotations

from flask import Flask

from knet.content import register as register_content_type
from qa import api, community_routes, content, demo, feeds, notify, personal_data, profile, routes

commands = ()
#: Fills a demonstration node with sample questions and answers.
demo_content = demo.seed


def init_app(app: Flask) -> None:
    for content_type in content.CONTENT_TYPES:
        register_content_type(app, content_type)
    routes.init_app(app)
    community_routes.init_app(app)
    feeds.init_app(app)
    api.init_app(app)
    profile.init_app(app)
    notify.init_app(app)
    personal_data.init_app(app)
