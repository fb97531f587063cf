"""Pages that belong to the node rather than to a feature: home, language switch, liveness."""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, render_template, request
from flask_babel import get_locale
from markupsafe import Markup

from knet.config import LANGUAGES
from knet.i18n import COOKIE

bp = Blueprint("knet", __name__)

#: Each feature adds a callable that renders its panel of the home page.
HomePanel = Callable[[], Markup]




class NavLink(NamedTuple):
    endpoint: str
    label: str


def add_home_panel(app: Flask, panel: HomePanel) -> None:
    """Let a feature show something on the node's home page."""
    app.extensions.setdefault("knet.home_panels", []).append(panel)


def add_nav_link(app: Flask, endpoint: str, label: str) -> None:
    """Let a feature put a link in the main navigation (label: a lazy translatable string)."""
    app.extensions.setdefault("knet.nav_links", []).append(NavLink(endpoint, label))


@bp.app_context_processor
def _page_shell():
    return {
        "node_name": current_app.config["KNET"]["name"],
        "nav_links": current_app.extensions.get("knet.nav_links", []),
        "current_locale": str(get_locale()),
    }


@bp.get("/")
def home():
    panels = [panel() for panel in current_app.extensions.get("knet.home_panels", [])]
    return render_template("home.html", panels=panels)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.post("/language")
def set_language():
    language = request.form.get("language")
    response = redirect(local_path(request.form.get("next")))
    if language in LANGUAGES:
        response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def local_path(target: str | None) -> str:
    """Only follow redirects within this node."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
