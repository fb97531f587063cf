"""Full-text search: the Greek/English analyzer and the node's Whoosh index (the only whoosh importer)."""
from flask import Flask

from knet.api import add_openapi, register_api
from knet.search import api, views
from knet.search.analysis import analyze, fold
from knet.search.index import (Filters, Hit, SearchDocument, SearchIndex, SearchResults, Viewer, Writer,
                               open_or_create, search)
from knet.search.views import viewer_of

__all__ = ["analyze", "fold", "Filters", "Hit", "SearchDocument", "SearchIndex", "SearchResults", "Viewer",
           "Writer", "open_or_create", "search", "viewer_of", "init_app"]


def init_app(app: Flask) -> None:
    """Serve the search page, /opensearch.xml and /api/v1/search."""
    app.register_blueprint(views.bp)
    register_api(app, api.bp)
    add_openapi(app, api.PATHS, api.SCHEMAS)
