"""Serving a SCORM package's files to the learner's browser, straight from the stored ZIP, in a sandbox.

A package's scripts are the trainer's upload, not knet's code: were they to run with the node's
origin they could read the learner's pages and CSRF tokens. So the player frames them with
`sandbox="allow-scripts allow-forms"`, and every file is served with a Content-Security-Policy whose
`sandbox` gives the document an opaque origin of its own. Such a document sends no session cookie,
so its address carries a signed token instead (/learning/scorm/<token>/<path>), naming the learner,
the course, the lesson and the package, and expiring after a working day; relative links inside
the package keep the token.

The SCORM runtime cannot be an object of the player page (it is another origin), so each HTML
document of the package gets, first thing in its <head>, the static script learning/static/
scorm-runtime.js with the learner's saved state in a data attribute; it keeps the CMI data model and
posts Initialize, Commit and Finish to the player (window.top), which records them.
"""
from __future__ import annotations

import html
import json
import logging
import mimetypes
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer

from auth.models import User
from knet.db import db
from knet.errors import NotFound
from learning import progress, scorm_runtime
from learning.attachments import media_path
from learning.courses import may_see
from learning.models import Course, ScormPackage

logger = logging.getLogger(__name__)

SALT = "learning.scorm"
#: A working day: a token older than this asks the learner to open the lesson again.
MAX_AGE = 12 * 3600
CHUNK = 64 * 1024
#: HTML documents larger than this are served as they are, without the runtime.
MAX_INJECTED = 8 * 1024 * 1024
HTML_TYPES = ("text/html",)
HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
HTML_START = re.compile(rb"<html(?:\s[^>]*)?>", re.IGNORECASE)
DOCTYPE = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<!doctype[^>]*>", re.IGNORECASE)
#: The sandbox gives the document an opaque origin (no allow-same-origin): it reaches neither the
#: player's page nor the node's cookies. SCORM content is old-fashioned web pages: inline scripts,
#: eval and inline styles are common, so they are allowed, but nothing is fetched from elsewhere, no
#: form is sent anywhere, and only knet's own pages may frame it.
POLICY = ("sandbox allow-scripts allow-forms; default-src 'self'; "
          "script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; font-src 'self' data:; media-src 'self'; connect-src 'none'; "
          "form-action 'none'; frame-ancestors 'self'; base-uri 'self'")
EXPIRED = _l("This link to a SCORM lesson has expired or is not valid: open the lesson again from its course.")


@dataclass(frozen=True)
class Launch:
    """Who may see which package, as a token names them."""

    user: User
    course: Course
    key: str
    package: ScormPackage


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def token_for(user: User, course: Course, key: str, package_id: int) -> str:
    return _serializer().dumps({"u": user.id, "c": course.id, "k": key, "p": package_id})


def resolve(token: str) -> Launch:
    """The learner, lesson and package a token names, if it is genuine and fresh and the learner may
    still open the package: enrolled in a course they may see whose newest version plays it."""
    try:
        named = _serializer().loads(token, max_age=MAX_AGE)
    except BadSignature:
        raise NotFound(EXPIRED) from None
    if not isinstance(named, dict) or not all(isinstance(named.get(part), want) for part, want in
                                              (("u", int), ("c", int), ("k", str), ("p", int))):
        raise NotFound(EXPIRED)
    user, course = db.session.get(User, named["u"]), db.session.get(Course, named["c"])
    package = db.session.get(ScormPackage, named["p"])
    if user is None or course is None or package is None or not user.is_active or not may_see(user, course) \
            or progress.enrolment_of(user, course) is None or course.published_version == 0:
        raise NotFound(EXPIRED)
    if scorm_runtime.scorm_of(course, named["k"])["id"] != package.id:
        raise NotFound(EXPIRED)
    return Launch(user, course, named["k"], package)


def launch_url_path(token: str, package: dict) -> str:
    """The address, under the token, of the file the package opens first (its query kept)."""
    path, mark, query = package["launch"].partition("?")
    return f"/learning/scorm/{token}/{quote(path)}{mark}{query}"


# The learner's state, for the runtime ---------------------------------------------------------

def runtime_data(launch: Launch, origin: str) -> dict:
    """What the runtime in the package's frame starts from: the learner, and where they left off."""
    enrolment = progress.enrolment_of(launch.user, launch.course)
    state = scorm_runtime.state_of(enrolment, launch.key, launch.package.version)
    data = {"version": launch.package.version, "origin": origin, "learner_id": launch.user.username,
            "learner_name": launch.user.name, "completion_status": "not attempted", "success_status": "unknown",
            "score_raw": "", "score_min": "", "score_max": "", "score_scaled": "", "location": "",
            "suspend_data": "", "entry": "ab-initio", "total_seconds": 0}
    if state is not None:
        data.update({column: "" if getattr(state, column) is None else _text(getattr(state, column)) for column in
                     ("score_raw", "score_min", "score_max", "score_scaled")})
        data.update(completion_status=state.completion_status, success_status=state.success_status,
                    location=state.location, suspend_data=state.suspend_data, total_seconds=state.total_seconds,
                    entry="resume" if state.exit == "suspend" else "")
    return data


def _text(number: float) -> str:
    """A number as SCORM writes it: 85, not 85.0."""
    return f"{number:g}" if abs(number) < 1e15 else str(number)


# Files -------------------------------------------------------------------------------------------

def content_type(path: str) -> str:
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed in ("text/css", "text/javascript") else guessed


def open_entry(package: ScormPackage, path: str) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    """The stored ZIP and one file of it (the caller closes the ZIP)."""
    stored = media_path(package.sha256)
    if not stored.is_file():
        logger.error("SCORM package %d: %s is missing from the media directory", package.id, stored)
        raise NotFound(_l("This SCORM package is missing from the node's storage; please tell its administrator."))
    archive = zipfile.ZipFile(stored)
    try:
        entry = archive.getinfo(path)
        if entry.is_dir():
            raise KeyError(path)
    except KeyError:
        archive.close()
        raise NotFound(_l("The SCORM package has no file “%(name)s”.", name=path[:200])) from None
    return archive, entry


class Stream:
    """A file of the ZIP as a response body, a chunk at a time; closing it (the server does, also when
    the body was never read) closes the ZIP."""

    def __init__(self, archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
        self.archive = archive
        self.member = archive.open(entry)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.member.read(CHUNK):
            yield chunk

    def close(self) -> None:
        self.member.close()
        self.archive.close()


def read_html(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(entry) as member:
            return member.read()
    finally:
        archive.close()


def with_runtime(document: bytes, script_url: str, data: dict) -> bytes:
    """The HTML document with the runtime's <script> first in its <head> (or at its start), so the API
    exists before any script of the package looks for it."""
    attribute = html.escape(json.dumps(data, ensure_ascii=True), quote=True)
    tag = f'<script src="{html.escape(script_url)}" data-knet-scorm="{attribute}"></script>'.encode("ascii")
    for pattern in (HEAD, HTML_START, DOCTYPE):
        found = pattern.search(document)
        if found:
            return document[:found.end()] + tag + document[found.end():]
    return tag + document
