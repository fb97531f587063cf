"""Every XSS payload of the shared corpus, saved as wiki pages and opened in a real Chromium: nothing may run.

Each page is watched for dialogs (alert/prompt/confirm), console messages, uncaught page errors and
calls to a `window.__xss` hook that wraps the dialog functions; its DOM is then checked for anything
that could run later (script-like elements, on* attributes, javascript: URLs).
"""
from __future__ import annotations

import json
import re
import time
from urllib.parse import quote, urlsplit

import pytest

from knet.db import db
from tests.browser.conftest import sign_in_through_form
from wiki import services
from wiki.services import PageInput

pytestmark = pytest.mark.browser

CHUNK = 40

HOOK = """
window.__xss = [];
for (const name of ['alert', 'prompt', 'confirm', 'print']) {
  const original = window[name];
  window[name] = function (...args) {
    window.__xss.push(name + '(' + String(args[0]).slice(0, 80) + ')');
    return name === 'print' ? undefined : original.apply(this, args);
  };
}
"""

# Anything in the rendered document that could run script now or on a later hover, click or focus.
DANGER = r"""() => {
  const found = [];
  // The one script knet itself loads (the search box's suggestions) is the only one allowed; the links
  // allowed are knet's own, in the head: its style sheet, its OpenSearch description and its Atom feeds.
  const bad = 'script:not(head > script[src="/static/search-suggest.js"]), '
            + 'iframe, frame, frameset, object, embed, applet, svg, math, style:not(head style), '
            + 'link:not([rel=stylesheet][href^="/static/"]):not([rel=search][href="/opensearch.xml"])'
            + ':not(head > link[rel=alternate][type="application/atom+xml"][href^="/"]), '
            + 'meta[http-equiv], base, template, '
            + 'main form:not([action^="/"]), .content form, .content input, .content button, .content textarea';
  for (const el of document.querySelectorAll(bad))
    found.push('<' + el.tagName.toLowerCase() + '> ' + el.outerHTML.slice(0, 120));
  const URL_ATTRIBUTES = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background',
                          'cite', 'longdesc', 'srcset', 'ping'];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on') || name === 'srcdoc') found.push(`${tag}[${name}]`);
      if (name === 'style' && /expression\(|url\(|javascript:|behavior/i.test(attr.value))
        found.push(`${tag}[style=${attr.value.slice(0, 60)}]`);
      if (!URL_ATTRIBUTES.includes(name)) continue;
      // The browser's own URL parser decides the scheme (it drops tabs and newlines, trims C0 and spaces).
      let protocol;
      try { protocol = new URL(attr.value, document.baseURI).protocol; } catch (e) { continue; }
      const rasterImage = name === 'src' && tag === 'img'
        && /^\s*data:image\/(png|gif|jpeg|webp);base64,/i.test(attr.value);
      if (['javascript:', 'vbscript:', 'livescript:'].includes(protocol) || (protocol === 'data:' && !rasterImage))
        found.push(`${tag}[${name}=${JSON.stringify(attr.value.slice(0, 60))}] is ${protocol}`);
    }
  }
  return found;
}"""

HARMLESS_CONSOLE = re.compile(r"^Failed to load resource: |net::ERR_")


def _payloads(corpus, name: str) -> list[dict]:
    items = json.loads((corpus / "xss" / name).read_text(encoding="utf-8"))
    assert items and all("payload" in item for item in items), name
    return items


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield start, items[start:start + size]


@pytest.fixture
def xss_pages(app, corpus, make_user):
    """All payloads saved through the service, as chunked pages (two revisions each) and single pages."""
    general = _payloads(corpus, "xss_payloads.json")
    markdown = _payloads(corpus, "markdown_xss_payloads.json")
    author = make_user("mallory", role="editor")
    limit = app.config["KNET"]["max_body_bytes"]
    chunked, singles = [], []

    def create(title: str, body: str):
        return services.create_page(author, PageInput(title=title, body=body, visibility="public"), limit)

    for group, items in (("general", general), ("markdown", markdown)):
        for start, chunk in _chunks(items, CHUNK):
            body = "\n\n".join(item["payload"] for item in chunk)
            page = create(f"XSS {group} {start + 1}–{start + len(chunk)}", body)
            db.session.flush()
            # A second revision in reverse order, so that diff and history have something to show.
            services.update_page(author, page, PageInput(
                title=page.title, body="\n\n".join(item["payload"] for item in reversed(chunk)),
                visibility="public", summary=chunk[0]["payload"][:400]), 1, limit)
            chunked.append((page.slug, f"{group} payloads {start + 1}–{start + len(chunk)}"))
    for number, item in enumerate(markdown, start=1):
        # The payload is also in the title (escaped everywhere a title appears).
        title = f"Markdown {number:03d} " + " ".join(item["payload"].split())[:150]
        page = create(title, item["payload"])
        singles.append((page.slug, f"markdown payload {number}: {item['payload'][:80]!r}", item))
    db.session.commit()
    return {"author": author, "chunked": chunked, "singles": singles, "count": len(general) + len(markdown)}


class Watcher:
    def __init__(self, page, live_server) -> None:
        self.page, self.live_server = page, live_server
        self.events: list[str] = []
        self.outside = 0
        page.on("dialog", self._dialog)
        page.on("console", lambda message: None if HARMLESS_CONSOLE.search(message.text)
                else self.events.append(f"console.{message.type}: {message.text[:200]}"))
        page.on("pageerror", lambda error: self.events.append(f"page error: {error}"))
        page.route("**/*", self._route)

    def _dialog(self, dialog) -> None:
        self.events.append(f"{dialog.type} dialog: {dialog.message[:100]}")
        dialog.dismiss()

    def _route(self, route) -> None:
        parts = urlsplit(route.request.url)
        if parts.hostname == "127.0.0.1" and parts.port == self.live_server.port:
            route.continue_()
        else:  # external images and scripts named by payloads: no network, no waiting
            self.outside += 1
            route.abort()

    def visit(self, path: str, label: str) -> list[str]:
        self.events = []
        response = self.page.goto(self.live_server(path), wait_until="load")
        problems = [] if response and response.status == 200 else [f"HTTP {response and response.status}"]
        hooked = self.page.evaluate("window.__xss")
        problems += [f"window.__xss hook: {call}" for call in hooked]
        problems += self.events
        problems += [f"dangerous markup: {item}" for item in self.page.evaluate(DANGER)]
        return [f"[{label}] {path}: {problem}" for problem in problems]


def test_no_payload_runs_in_chromium(app, context, live_server, xss_pages):
    started = time.monotonic()
    context.add_init_script(HOOK)
    page = context.new_page()
    watch = Watcher(page, live_server)
    problems: list[str] = []

    # Anonymous reader: pages, old revisions, diffs, history, lists of titles.
    for slug, label in xss_pages["chunked"]:
        base = "/wiki/" + quote(slug)
        problems += watch.visit(base, label)
        problems += watch.visit(base + "/revisions/1", label + ", revision 1")
        problems += watch.visit(base + "/diff?from=1&to=2", label + ", diff")
        problems += watch.visit(base + "/history", label + ", history")
    for slug, label, item in xss_pages["singles"]:
        problems += watch.visit("/wiki/" + quote(slug), label)
        if "control" in (item.get("note") or ""):
            problems += [f"[{label}] control did not render: {item['note']}"
                         for missing in [_control_missing(page, item)] if missing]
    # Titles (which carry the Markdown payloads) on the home page and every page of the lists.
    per_page = app.config["KNET"]["page_size"]
    last = -(-(len(xss_pages["singles"]) + 2 * len(xss_pages["chunked"])) // per_page)
    paths = ["/"] + [f"/pages/?page={n}" for n in range(1, last + 1)]
    paths += [f"/pages/recent?page={n}" for n in range(1, last + 1)]
    for path in paths:
        problems += watch.visit(path, "list of titles")

    # Signed in: the edit form puts the raw text in a textarea (the classic </textarea> escape).
    sign_in_through_form(page, live_server, xss_pages["author"])
    for slug, label in xss_pages["chunked"]:
        problems += watch.visit("/wiki/" + quote(slug) + "/edit", label + ", edit form")
        assert page.input_value("#body"), label  # the text is really in the form

    elapsed = time.monotonic() - started
    print(f"{xss_pages['count']} payloads, {len(xss_pages['chunked'])} chunked pages, "
          f"{len(xss_pages['singles'])} single pages, {watch.outside} outside requests blocked, {elapsed:.1f} s")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:200])


def _control_missing(page, item) -> bool:
    """The corpus's harmless control lines must still render as what they are."""
    payload = item["payload"]
    if payload.startswith("!["):
        return page.locator(".content img").count() == 0
    if payload.startswith("["):
        return page.locator(".content a", has_text="normal link").count() == 0
    if payload.startswith("```"):  # Python-Markdown does not take this as a fence: inline code is fine
        return payload.splitlines()[1] not in page.inner_text(".content code")
    return not page.inner_text(".content").strip()


def test_the_watchers_do_catch_script(context, live_server, app):
    """The harness itself: a page that does run script is reported (so a silent pass means something)."""
    context.add_init_script(HOOK)
    page = context.new_page()
    watch = Watcher(page, live_server)
    page.set_content('<p onclick="x()">x</p><a href="jav&#x09;ascript:void(0)">tab</a>'
                     '<script>alert(1); console.log("ran"); undefinedThing();</script>')
    assert any(call.startswith("alert(") for call in page.evaluate("window.__xss"))
    assert any("dialog" in event for event in watch.events), watch.events
    assert any("console.log: ran" in event for event in watch.events), watch.events
    assert any("page error" in event for event in watch.events), watch.events
    found = page.evaluate(DANGER)
    assert any("<script>" in item for item in found), found
    assert any("onclick" in item for item in found), found
    assert any("is javascript:" in item for item in found), found
