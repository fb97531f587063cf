"""Rendered pages kept in memory, so a page is not rendered again for every view.

Any committed change to the database bumps the node's *content generation* (a small file in the
instance directory, so every worker process on the server sees it at the cost of one read), and
entries of an older generation are never served. A cached page is also dropped after `max_age`
seconds, in case a process died between committing and bumping.
"""
from __future__ import annotations

import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from flask import Flask, Response, current_app, g, has_app_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.http import parse_cookie

from knet.i18n import COOKIE as LANGUAGE_COOKIE, locale_from
from knet.jobs import Job

CSRF_SLOT = "\x00knet-csrf\x00"
GENERATION_FILE = "content-generation"
_CHANGED = "knet.content_changed"
EXTENSION = "knet.render_cache"


def generation_path(app: Flask) -> Path:
    return Path(app.instance_path) / GENERATION_FILE


def current_generation() -> bytes:
    """A token that changes whenever anything was committed to this node's database."""
    try:
        return generation_path(current_app).read_bytes()
    except FileNotFoundError:
        return b""


def bump_generation(app: Flask) -> None:
    # A fresh random token, not a time stamp: two commits within one clock tick must differ too.
    path = generation_path(app)
    temporary = path.with_name(f".{GENERATION_FILE}.{os.getpid()}.{threading.get_ident()}")
    temporary.write_bytes(secrets.token_hex(8).encode())
    os.replace(temporary, path)


@dataclass
class _Entry:
    generation: bytes
    stored: float
    html: str
    #: Whether the page holds a CSRF token (stored as CSRF_SLOT): then it is for its viewer only.
    has_form: bool
    #: The response headers, once the page went out without a cookie: then it may be served
    #: straight from WSGI to any anonymous visitor.
    headers: list[tuple[str, str]] | None = None


class RenderCache:
    """A least-recently-used map from keys to rendered pages, valid for one content generation."""

    def __init__(self, capacity: int = 2000, max_age: float = 60.0) -> None:
        self.capacity = capacity
        self.max_age = max_age
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, key: Hashable, generation: bytes) -> _Entry | None:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.generation != generation or now - entry.stored > self.max_age:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


def _key(environ: dict, locale: str, viewer: str | None) -> tuple:
    # From the raw WSGI values, so that the WSGI fast path computes the same key without Flask.
    return (environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
            locale, viewer)


def cached_view(render: Callable[[], object]):
    """The page this view would render for this viewer and language, from the cache when possible.

    Use it for views whose page depends only on the database, the address, the language and who
    is looking. Only text (a rendered page) is cached; a redirect or an error passes through. A
    CSRF token in the page is stored as a placeholder and replaced by this request's token."""
    if "_flashes" in session:  # a one-time message is for this response only
        return render()
    cache: RenderCache = current_app.extensions[EXTENSION]
    viewer = current_user.get_id() if current_user.is_authenticated else None
    key = _key(request.environ, str(get_locale()), viewer)
    generation = current_generation()
    entry = cache.get(key, generation)
    if entry is not None:
        return entry.html.replace(CSRF_SLOT, generate_csrf()) if entry.has_form else entry.html
    result = render()
    if isinstance(result, str):
        # Flask-WTF keeps the request's token on `g` once a form on the page asked for it.
        token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        entry = _Entry(generation, time.monotonic(), result.replace(token, CSRF_SLOT) if token else result,
                       bool(token))
        cache.put(key, entry)
        if viewer is None and not token:
            g.knet_cached_entry = entry
    return result


def _remember_headers(response: Response) -> Response:
    entry = g.pop("knet_cached_entry", None)
    if entry is not None and response.status_code == 200 and "Set-Cookie" not in response.headers:
        entry.headers = [(name, value) for name, value in response.headers.items() if name != "Content-Length"]
    return response


class AnonymousFastPath:
    """WSGI middleware: a GET from a visitor with no cookie but the language one is answered
    straight from the cache when the page is there, without starting Flask's request handling."""

    def __init__(self, app: Flask, cache: RenderCache) -> None:
        self.app, self.cache, self.wsgi_app = app, cache, app.wsgi_app
        self.generation_file = generation_path(app)

    def __call__(self, environ: dict, start_response):
        if environ.get("REQUEST_METHOD") == "GET":
            cookies = parse_cookie(environ)
            if set(cookies) <= {LANGUAGE_COOKIE}:
                locale = locale_from(cookies.get(LANGUAGE_COOKIE), self.app.config["KNET"]["default_language"])
                try:
                    generation = self.generation_file.read_bytes()
                except FileNotFoundError:
                    generation = b""
                entry = self.cache.get(_key(environ, locale, None), generation)
                if entry is not None and entry.headers is not None:
                    body = entry.html.encode("utf-8")
                    start_response("200 OK", [*entry.headers, ("Content-Length", str(len(body)))])
                    return [body]
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Give the node its page cache and the fast path for anonymous visitors."""
    cache = app.extensions[EXTENSION] = RenderCache()
    app.after_request(_remember_headers)
    app.wsgi_app = AnonymousFastPath(app, cache)


# Registered once for every session of the process; a commit outside an app context bumps nothing.
#: Models that are bookkeeping no cached page shows (the job queue's; federation adds its logs and cursors).
BOOKKEEPING: set[type] = {Job}


def not_shown_on_pages(*models: type) -> None:
    """Say that writing these models changes no cached page (so it does not empty the page cache)."""
    BOOKKEEPING.update(models)


@event.listens_for(Session, "after_flush")
def _remember_change(session: Session, flush_context) -> None:
    if any(type(obj) not in BOOKKEEPING for obj in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _remember_bulk_change(state) -> None:
    # An UPDATE, DELETE or INSERT run as a statement (marking notifications read, …) bypasses the flush.
    if (state.is_update or state.is_delete or state.is_insert) and not (
            state.bind_mapper is not None and state.bind_mapper.class_ in BOOKKEEPING):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _bump(session: Session) -> None:
    if session.info.pop(_CHANGED, False) and has_app_context():
        bump_generation(current_app._get_current_object())


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)
