"""The security headers that every response of the node carries.

The pages have no inline script, style or event handler: every script and style sheet is a static file,
so the Content-Security-Policy allows only the node's own files. A response that sets its own policy (a
SCORM package's file, a profile photo, an attachment) keeps it; this module fills in only what is missing.

Two choices, and why:
- Images may come from any https: address (and as data: URLs, which the Markdown sanitiser limits to
  raster images). The wiki has no image upload, so a page shows a picture by its address, and pages
  copied from peers show the pictures that their home node serves. The Referrer-Policy keeps the page
  a reader is on from those hosts.
- `form-action` is 'self' plus the addresses a page declares with `allow_form_targets`: Chromium checks
  it on every redirect that follows a form's submission, so the sign-in page (which sends a person on to
  a peer or to the national sign-in) and the consent page (which sends them back to the peer) name them.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

#: The parts of the policy, in the order they are sent; `form-action` gets the page's declared targets.
POLICY = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data: https:"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'self'"),
)
#: Links to other nodes need no address of the page they were followed from; a node's own pages still send
#: it to themselves (Flask-WTF compares it on HTTPS form posts).
REFERRER_POLICY = "same-origin"
HSTS = "max-age=31536000"
#: What an origin in a policy may look like: nothing that could end a directive or a header.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+\Z")
_FORM_TARGETS = "knet_form_targets"


def allow_form_targets(*urls: str) -> None:
    """Let the forms of this request's page lead (through redirects) to the origins of these addresses."""
    targets = g.setdefault(_FORM_TARGETS, [])
    for url in urls:
        parts = urlsplit(url or "")
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if _ORIGIN.match(origin) and origin not in targets:
            targets.append(origin)


def content_security_policy(form_targets: list[str] | tuple[str, ...] = ()) -> str:
    """The node's policy, with `form-action` widened to the given origins."""
    parts = []
    for directive, sources in POLICY:
        if directive == "form-action" and form_targets:
            sources = " ".join((sources, *form_targets))
        parts.append(f"{directive} {sources}")
    return "; ".join(parts)


def add_headers(response: Response) -> Response:
    """Fill in the security headers that the response does not set itself."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = content_security_policy(g.get(_FORM_TARGETS, ()))
        # For browsers without frame-ancestors; a response with a policy of its own decides its framing there.
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    if str(current_app.config["KNET"]["url"]).startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response: pages, the API, static files and error pages alike.

    Call it last in the factory: Flask runs after-request functions in reverse order, so the headers are
    in place before the page cache keeps a page's headers for the anonymous fast path."""
    app.after_request(add_headers)
