"""The ceiling of the HTTP benchmark: a bare Flask app that does nothing but return a small HTML page.

It takes the same paths as the wiki (/wiki/<slug>) so the same wrk script drives both; served with the
same gunicorn settings as knet, its requests/s is the most a Flask app can do on this machine.
"""
from __future__ import annotations

from flask import Flask
from markupsafe import escape

app = Flask(__name__)

PAGE = ("<!doctype html><html lang=\"el\"><head><meta charset=\"utf-8\"><title>{slug}</title></head>"
        "<body><main><h1>{slug}</h1><p>A bare Flask endpoint: the ceiling of the benchmark.</p></main></body></html>")


@app.get("/")
def index() -> str:
    return PAGE.format(slug="ceiling")


@app.get("/wiki/<slug>")
def page(slug: str) -> str:
    return PAGE.format(slug=escape(slug))
