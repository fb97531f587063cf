"""Full-text search: the Greek/English analyzer and the node's Whoosh index (the only whoosh importer)."""
from knet.search.analysis import analyze, fold
from knet.search.index import (Filters, Hit, SearchDocument, SearchIndex, SearchResults, Viewer, Writer,
                               open_or_create, search)

__all__ = ["analyze", "fold", "Filters", "Hit", "SearchDocument", "SearchIndex", "SearchResults", "Viewer",
           "Writer", "open_or_create", "search"]
