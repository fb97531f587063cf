"""Pages that belong to the node rather than to a feature: home, language switch, liveness."""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, render_template, request
from flask_babel import get_locale, gettext as _
from markupsafe import Markup

from knet.config import LANGUAGES
from knet.errors import NotFound
from knet.i18n import COOKIE

bp = Blueprint("knet", __name__)

#: Each feature adds a callable that renders its panel of the home page.
HomePanel = Callable[[], Markup]




class NavLink(NamedTuple):
    endpoint: str
    label: str
    #: Shown only to people with this role (None: to everyone).
    role: str | None = None


def add_home_panel(app: Flask, panel: HomePanel) -> None:
    """Let a feature show something on the node's home page."""
    app.extensions.setdefault("knet.home_panels", []).append(panel)


def add_nav_link(app: Flask, endpoint: str, label: str, role: str | None = None) -> None:
    """Let a feature put a link in the main navigation (label: a lazy translatable string), for
    everyone or only for people with a role."""
    app.extensions.setdefault("knet.nav_links", []).append(NavLink(endpoint, label, role))


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


@bp.get("/language/<language>")
def set_language(language: str):
    """Remember the visitor's language in a cookie and go back.

    A link rather than a form: choosing a language changes nothing on the node (it is a display
    preference kept by the browser, like a ?lang= parameter), so it is a safe GET that needs no
    CSRF token, and pages for anonymous visitors carry no per-visitor token or session."""
    if language not in LANGUAGES:
        raise NotFound(_("Unknown language “%(language)s”; choose one of %(choices)s.", language=language,
                         choices=", ".join(LANGUAGES)))
    response = redirect(local_path(request.args.get("next")))
    response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def local_path(target: str | None) -> str:
    """Only follow redirects within this node."""
    if not target:
        return "/"
    # Browsers read a backslash as "/" and drop tabs and newlines: "/\\evil.example" would leave the node.
    if "\\" in target or any(ord(char) < 32 or char == "\x7f" for char in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
