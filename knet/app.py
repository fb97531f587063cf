"""The app factory, which only wires the node together, and the other places that know every feature."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

import auth
import auth.models
import auth.services
import federation
import learning
import qa
import wiki
from knet import (accessibility, api, config, errors, feeds, i18n, jobs, metrics, observability, opendata_routes,
                  render_cache, search, security_headers, views)
from knet.api import csrf
from knet.db import db, migrate
from knet.proxies import TrustedProxies
from knet.schema import MIGRATIONS
from knet.search import indexing

DEMO_CREDENTIALS = "demo-credentials.txt"

#: Feature packages, in the order they are wired; each has init_app(app), a `commands` list and
#: `demo_content(admin, max_body_bytes, town)` (or None) that fills a town of the demonstration network.
FEATURES = (auth, wiki, qa, learning, federation)


def session_cookie_name(url: str) -> str:
    """The session cookie's name for the node at ``url``: "knet_session" and the port when it has one."""
    port = url.rsplit(":", 1)[-1].strip("/")
    return f"knet_session_{port}" if port.isdigit() else "knet_session"


def create_app(instance: str | os.PathLike | None = None, overrides: dict | None = None) -> Flask:
    """Build a node from its instance directory (or KNET_INSTANCE)."""
    where = config.resolve_instance(instance)
    settings = config.load(where)
    app = Flask("knet", instance_path=str(where.path), static_folder="static")
    body_limit = settings["max_body_bytes"]
    app.config.update(
        KNET=settings,
        SECRET_KEY=settings["secret_key"],
        SQLALCHEMY_DATABASE_URI=settings["database"],
        # A server connection can drop between requests; a SQLite file cannot.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": not str(settings["database"]).startswith("sqlite")},
        # The services check a text's size in UTF-8 bytes and say so in a sentence. A request may
        # carry that text escaped (a Greek letter is 6 bytes as JSON's \uXXXX or a form's %XX%XX)
        # plus the other fields; anything beyond that is refused before it is read.
        MAX_CONTENT_LENGTH=6 * body_limit + 64 * 1024,
        MAX_FORM_MEMORY_SIZE=6 * body_limit + 64 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_SAMESITE="Lax",
        # Browsers send a host's cookies to every port of it: nodes on one host (the demo's three towns,
        # a test's nodes) would overwrite each other's session without a name of their own.
        SESSION_COOKIE_NAME=session_cookie_name(str(settings["url"])),
        SESSION_COOKIE_SECURE=str(settings["url"]).startswith("https:"),
    )
    app.json.sort_keys = False
    if overrides:
        app.config.update(overrides)

    observability.init_app(app)  # first: the request id and the clock start before any other code of a request
    metrics.init_app(app)
    db.init_app(app)
    jobs.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    render_cache.init_app(app)
    indexing.init_app(app)
    search.init_app(app)
    app.register_blueprint(views.bp)
    feeds.init_app(app)
    opendata_routes.init_app(app)
    accessibility.init_app(app)
    api.register_api(app, api.bp)
    for feature in FEATURES:
        feature.init_app(app)
    security_headers.init_app(app)  # last: its headers must be set before the page cache keeps a page's
    if settings["trusted_proxies"]:
        app.wsgi_app = TrustedProxies(app.wsgi_app, settings["trusted_proxies"])
    return app


def feature_commands():
    """The CLI commands and groups that feature packages contribute."""
    for feature in FEATURES:
        yield from feature.commands


def prepare_demo(app: Flask, town: int = 0) -> tuple[str, str]:
    """Give a demonstration node its administrator and every feature's sample content for its town (0 Athens,
    1 Thessaloniki, 2 Heraklion: each has content of its own, the course is Athens').

    Returns the administrator's username and password; the password is generated once and kept in
    the instance directory (readable only by its owner) so that each start can show it again."""
    credentials = Path(app.instance_path) / DEMO_CREDENTIALS
    if credentials.exists():
        username, password = credentials.read_text(encoding="utf-8").split("\n", 1)
        password = password.strip()
    else:
        username, password = "admin", secrets.token_urlsafe(12)
    admin = auth.models.User.by_username(username)
    if admin is None:
        admin = auth.services.create_local_user(username, password, role="admin", display_name="Διαχειριστής")
        credentials.write_text(f"{username}\n{password}\n", encoding="utf-8")
        credentials.chmod(0o600)
    limit = app.config["KNET"]["max_body_bytes"]
    for feature in FEATURES:
        if feature.demo_content:
            feature.demo_content(admin, limit, town)
    db.session.commit()
    return username, password
