"""Language choice: Greek by default, English on request, remembered in a cookie."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, request
from flask_babel import Babel

from knet.config import LANGUAGES

COOKIE = "knet_lang"
TRANSLATIONS = Path(__file__).parent / "translations"

babel = Babel()


def select_locale() -> str:
    """The language of the current request: the visitor's choice, else the node's default."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return current_app.config["KNET"]["default_language"]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Athens")
    babel.init_app(app, locale_selector=select_locale)
