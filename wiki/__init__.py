"""The wiki: pages with revisions, diffs, links and backlinks."""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from knet import jobs
from knet.api import add_openapi, register_api
from knet.commands import import_group
from knet.content import CopyAction, offer_on_copies, register as register_content_type
from knet.views import add_home_panel, add_nav_link
from wiki import (api, content, demo, feeds, forks, import_cli, import_routes, importer, openapi, personal_data, routes,
                  services)

commands = ()
import_group.add_command(import_cli.mediawiki)
#: Fills a demonstration node with sample pages.
demo_content = demo.seed


def _recent_pages_panel() -> Markup:
    actor = current_user if current_user.is_authenticated else None
    pages, total = services.list_pages(actor, 1, 10)
    return Markup(render_template("wiki/_home_panel.html", pages=pages, total=total))


def init_app(app: Flask) -> None:
    app.register_blueprint(routes.bp)
    feeds.init_app(app)
    register_content_type(app, content.CONTENT_TYPE)
    offer_on_copies(app, CopyAction("page", _l("Fork into this node"), "wiki.fork", forks.may_fork))
    register_api(app, api.bp)
    add_openapi(app, openapi.PATHS, openapi.SCHEMAS)
    add_nav_link(app, "wiki.index", _l("Pages"))
    add_nav_link(app, "wiki.recent", _l("Recent changes"))
    add_nav_link(app, "wiki.create", _l("New page"), role="editor")
    add_home_panel(app, _recent_pages_panel)
    import_routes.init_app(app)
    personal_data.init_app(app)
    # The import commits as it goes (its state, then the pages), so the job is claimed for as long as a
    # large export may take; it is safe to run again (what was imported is skipped).
    jobs.register(app, importer.IMPORT_JOB, importer.run_import_job, max_attempts=3, claim=3600.0)
