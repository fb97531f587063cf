"""The XSS corpus (../shared/corpus/xss, read where the tests run, never copied) for page tests: its
payloads in chunks, what on a rendered page could run, and a service call that may refuse a payload."""
from __future__ import annotations

import json
import os
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest

from knet.db import db
from knet.errors import Invalid, TooLarge

XSS_FILES = ("xss_payloads.json", "markdown_xss_payloads.json")
#: Payloads per test: enough to share one node's set-up, few enough that a failure names a small chunk.
XSS_CHUNK = 60
OWN_SCRIPT = '<script src="/static/search-suggest.js" defer></script>'
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "data", "cite",
                  "srcset", "lowsrc", "dynsrc", "longdesc", "ping"}
RASTER_IMAGE = re.compile(r"data:image/(png|gif|jpeg|webp)[;,]")


class Elements(HTMLParser):
    """Every start tag of a page, with its attributes, as a browser's tokenizer sees them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag

    def find(self, tag: str, **attrs) -> list[dict[str, str]]:
        return [found for name, found in self.elements
                if name == tag and all(found.get(key.rstrip("_").replace("_", "-")) == value
                                       for key, value in attrs.items())]


def corpus_dir() -> Path:
    """Where the corpus is, only to name test parameters at collection time (tests read it through the
    `corpus` fixture, which fails loudly when it is missing)."""
    root = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("KNET_CORPUS", root.parent / "shared" / "corpus"))


def payloads(corpus: Path, name: str) -> list[str]:
    return [entry["payload"] for entry in json.loads((Path(corpus) / "xss" / name).read_text(encoding="utf-8"))]


def xss_cases(chunk: int = XSS_CHUNK) -> list:
    """(file name, first payload) parameters, one per chunk of each corpus file."""
    cases = []
    for name in XSS_FILES:
        path = corpus_dir() / "xss" / name
        total = len(payloads(corpus_dir(), name)) if path.is_file() else 1
        cases += [pytest.param(name, start, id=f"{name.split('.')[0]}-{start}") for start in range(0, total, chunk)]
    return cases


def _scheme(value: str) -> str:
    """A URL's scheme as a lenient browser reads it (spaces, controls and invisible characters skipped)."""
    compact = "".join(char for char in value if not (char.isspace() or unicodedata.category(char)[0] in "CZ"))
    return compact.split(":", 1)[0].lower() + ":" if ":" in compact else ""


def dangers(html: str) -> list[str]:
    """A script of the page's own, an on… attribute or a javascript: (or other active) URL: anything that could run."""
    found = [f"<script> at {match.start()}" for match in re.finditer(r"<script", html.replace(OWN_SCRIPT, "", 1), re.I)]
    for tag, attrs in Elements(html).elements:
        for name, value in attrs.items():
            if name.startswith("on") or name == "srcdoc":
                found.append(f"<{tag} {name}={value[:60]!r}>")
            scheme = _scheme(value) if name in URL_ATTRIBUTES else ""
            if scheme in ("javascript:", "vbscript:", "livescript:") or (
                    scheme == "data:" and not (tag == "img" and name == "src" and RASTER_IMAGE.match(value.strip()))):
                found.append(f"<{tag} {name}={value[:60]!r}>")
    return found


def quietly(action):
    """Do one service call with a payload and commit it; what the service refuses (a text that is empty,
    too short or too long once cleaned) is rolled back and left out (None)."""
    try:
        done = action()
    except (Invalid, TooLarge):
        db.session.rollback()
        return None
    db.session.commit()
    return done
