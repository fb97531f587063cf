"""Language choice: Greek by default, English on request, remembered in a cookie."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel

from knet.config import LANGUAGES

COOKIE = "knet_lang"
TRANSLATIONS = Path(__file__).parent / "translations"

babel = Babel()


def locale_from(chosen: str | None, default: str) -> str:
    """The visitor's choice if it is one of ours, else the node's default."""
    return chosen if chosen in LANGUAGES else default


def select_locale() -> str:
    """The language of the current request: pages follow the visitor's choice; API clients, which
    keep no cookie, may ask with Accept-Language."""
    default = current_app.config["KNET"]["default_language"]
    if not has_request_context():  # a command or a job: the node's language
        return default
    if request.path.startswith("/api/") and COOKIE not in request.cookies:
        return request.accept_languages.best_match(LANGUAGES) or default
    return locale_from(request.cookies.get(COOKIE), default)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Athens")
    babel.init_app(app, locale_selector=select_locale)
