"""Fixtures that drive a real headless Chromium against a live node.

Nothing is downloaded: Debian's Chromium is launched through Playwright's bundled driver.
If Chromium cannot start, the browser tests fail (they are never skipped).
"""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
]


def _chromium() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    pytest.fail(f"Chromium is not installed (looked for {', '.join(CHROMIUM_CANDIDATES)}); "
                "install Debian's chromium package. Never run `playwright install`.")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The test's node, served over real HTTP on 127.0.0.1."""

    def __init__(self, app, port: int | None = None) -> None:
        self.app = app
        self.host = "127.0.0.1"
        self.port = port or _free_port()
        self.server = make_server(self.host, self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="knet-live-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __call__(self, path: str = "/") -> str:
        return self.url + path

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    """Serve the test's node on a free port; `live_server('/pages/')` is a full URL."""
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    """One headless Chromium for the whole session; failing to launch it fails the tests."""
    executable = _chromium()
    try:
        browser = playwright_driver.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - any launch failure must fail, not skip
        pytest.fail(f"Chromium at {executable} could not be launched: {exc}")
    yield browser
    browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="el-GR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    """A fresh tab in a fresh browser context (no cookies shared between tests)."""
    return context.new_page()


def sign_in_through_form(page, live_server: LiveServer, user, password: str = PASSWORD) -> None:
    """Sign a person in through the real form (a setup step, not a keyboard test)."""
    page.goto(live_server("/login"))
    page.fill("#username", user.username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.press("#password", "Enter")
    assert "/login" not in page.url, page.inner_text("main")


# Content-Security-Policy ---------------------------------------------------------------------

# Every frame reports each violation of its policy as it happens (before the page's own scripts run).
_REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', (event) => {
  window.knetCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || '(inline)'}`
    + ` in ${event.sourceFile || event.documentURI}:${event.lineNumber}`
    + (event.sample ? ` (${event.sample.slice(0, 60)})` : ''));
}, true);"""


class CspWatch:
    """Collects every Content-Security-Policy violation in a browser context: the `securitypolicyviolation`
    events of every frame, and Chromium's console messages about the policy (a form whose redirect the
    policy blocks is only logged there)."""

    def __init__(self, context) -> None:
        self.violations: list[str] = []
        context.expose_binding("knetCspViolation", lambda source, text: self.violations.append(
            f"{text} (on {source['frame'].url})"))
        context.add_init_script(_REPORT_VIOLATIONS)
        context.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(f"console: {message.text}")

    def problems(self) -> list[str]:
        """The violations as one failure message each (none when the pages kept to their policy)."""
        return ["Content-Security-Policy violations:\n  " + "\n  ".join(self.violations)] if self.violations else []


def watch_csp(context) -> CspWatch:
    """The context's watcher, made at the first call (a binding can be exposed once per context)."""
    watch = getattr(context, "_knet_csp_watch", None)
    if watch is None:
        watch = CspWatch(context)
        context._knet_csp_watch = watch
    return watch


# Keyboard helpers -----------------------------------------------------------------------------

_DESCRIBE_ACTIVE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '<body>';
  const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 60);
  return `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.name ? ' name=' + el.name : ''}> ${text}`;
}"""

_ACTIVE_MATCHES = """([selector, text]) => {
  const el = document.activeElement;
  if (!el || el === document.body) return false;
  if (selector && !el.matches(selector)) return false;
  if (text !== null) {
    const label = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
    if (!label.includes(text)) return false;
  }
  return true;
}"""


def focused(page) -> str:
    """A short description of the focused element, for failure messages."""
    return page.evaluate(_DESCRIBE_ACTIVE)


def tab_to(page, selector: str | None = None, text: str | None = None, *, max_tabs: int = 60,
           backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches `selector` and contains `text`.

    Fails after `max_tabs` presses, listing the focus path, so a keyboard trap or a missing
    control is reported rather than hanging.
    """
    key = "Shift+Tab" if backwards else "Tab"
    path = []
    for _ in range(max_tabs):
        page.keyboard.press(key)
        if page.evaluate(_ACTIVE_MATCHES, [selector, text]):
            return
        path.append(focused(page))
    pytest.fail(f"No element matching {selector!r} with text {text!r} after {max_tabs} presses of {key} "
                f"on {page.url}. Focus went: " + " → ".join(path))


def activate(page, key: str = "Enter") -> None:
    """Press Enter (or Space) on the focused control and wait for the next page to load."""
    with page.expect_navigation():
        page.keyboard.press(key)
    page.wait_for_load_state()
