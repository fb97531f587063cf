"""Courses by trainers, learned at each person's pace, with quizzes and certificates anyone can verify."""
from __future__ import annotations

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l

from knet.content import AttachedListing, attach_to_communities, register as register_content_type
from learning import (api, assignment_routes, attachment_routes, catalogue, certificate_routes, content,
                      dashboard_routes, demo, feeds, personal_data, quiz_routes, routes, scorm_routes, trainer_routes)

commands = ()
#: Fills a demonstration node with a sample course.
demo_content = demo.seed


def init_app(app: Flask) -> None:
    """Wire the learning pages, API and content types into the node, and list courses on the pages of
    the communities they belong to."""
    for content_type in content.CONTENT_TYPES:
        register_content_type(app, content_type)
    attach_to_communities(app, AttachedListing(
        "courses", _l("Courses"), _l("No published course belongs to this community yet."),
        _l("Every course of this community in the catalogue"),
        catalogue.in_community, lambda uri: url_for("learning.catalogue", community=uri)))
    routes.init_app(app)
    trainer_routes.init_app(app)
    quiz_routes.init_app(app)
    attachment_routes.init_app(app)
    certificate_routes.init_app(app)
    api.init_app(app)
    assignment_routes.init_app(app)
    dashboard_routes.init_app(app)
    feeds.init_app(app)
    scorm_routes.init_app(app)
    personal_data.init_app(app)
