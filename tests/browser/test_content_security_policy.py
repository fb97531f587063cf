"""The node's Content-Security-Policy in a real Chromium: an administrator walks the main pages (home, a wiki
page and its edit form, search with results, a question, a course and its lesson, every admin page) and not
one thing is blocked, while the header's search suggestions still work and a picture from an https: address
shows; the national sign-in's form leads to the provider and back. The harness itself catches a planted
inline script. (Every Checker walk of the other browser tests, the MediaWiki import's self-refreshing status
page and the SCORM player among them, fails on a violation too, and so does the sign-in at a peer, whose
forms lead through redirects to the other node.)"""
from __future__ import annotations

import base64
import tomllib

import pytest
import tomli_w

from auth.services import create_local_user
from knet import jobs
from knet.app import create_app
from knet.db import db
from knet.search.indexing import close_index
from learning import versions
from tests.auth.test_upstream import configure
from tests.browser.conftest import LiveServer, _free_port, sign_in_through_form, watch_csp
from tests.learning.conftest import make_course  # noqa: F401 - the learning tests' course factory, as a fixture here
from tests.qa.conftest import make_question  # noqa: F401 - the Q&A tests' question factory, as a fixture here
from tests.upstream_provider import Provider, Running

pytestmark = pytest.mark.browser

BOX = "header #site-search-q"
#: A 1×1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==")


@pytest.fixture
def node(app, make_user, make_page, make_question, make_course):
    admin = make_user("anna", role="admin")
    page = make_page(admin, "Προμήθειες του Δήμου", "Οι **προμήθειες** γίνονται με [[Διαγωνισμοί|διαγωνισμό]].\n\n"
                     "![Λογότυπο](https://images.example.gr/logo.png)\n", visibility="public", tags=["προμήθειες"])
    question = make_question(admin, "Ποιο είναι το όριο για τις προμήθειες;", "Για απευθείας ανάθεση.")
    course = make_course(admin, "Προμήθειες για αρχάριους")
    jobs.run_pending()
    first_step = versions.items_of(versions.get_version(course).snapshot)[0]["key"]
    return {"admin": admin, "page": page, "question": question, "course": course, "step": first_step}


def admin_pages(app) -> list[str]:
    """Every administration page that needs no argument (not the downloads, such as the audit log's CSV and
    JSON: a browser saves them rather than showing them)."""
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/admin") and "GET" in rule.methods and not rule.arguments
                   and not rule.rule.endswith((".csv", ".json"))})


def visit(page, url: str) -> int:
    response = page.goto(url)
    return response.status if response is not None else 0


def test_the_harness_catches_an_inline_script(browser, live_server):
    context = browser.new_context()
    try:
        watch = watch_csp(context)
        page = context.new_page()
        page.goto(live_server("/"))
        page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
                      " document.body.append(s); }")
        page.wait_for_timeout(200)
        assert page.evaluate("window.ran") is None
        assert any("script-src" in line for line in watch.violations), watch.violations
    finally:
        context.close()


def test_an_administrator_walks_the_main_pages_and_nothing_is_blocked(app, browser, live_server, node):
    context = browser.new_context(locale="el-GR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    watch = watch_csp(context)
    try:
        page = context.new_page()
        # The picture's host is not reachable from here: the browser gets it from the test instead.
        context.route("https://images.example.gr/**", lambda route: route.fulfill(
            status=200, content_type="image/png", body=PNG))
        sign_in_through_form(page, live_server, node["admin"])
        slug, question, course = node["page"].slug, node["question"], node["course"]
        paths = ["/", f"/wiki/{slug}", f"/wiki/{slug}/edit", "/pages/new", f"/wiki/{slug}/history",
                 "/search?q=προμήθειες", f"/questions/{question.id}", "/questions/ask",
                 f"/learning/courses/{course.id}", f"/learning/courses/{course.id}/steps/{node['step']}",
                 f"/learning/courses/{course.id}/edit", f"/people/{node['admin'].username}"]
        failed = [f"{path}: {status}" for path in paths if (status := visit(page, live_server(path))) != 200]
        # An admin page may want a query argument (which peer to remove…): it says so, it does not fail.
        admin = {path: visit(page, live_server(path)) for path in admin_pages(app)}
        failed += [f"{path}: {status}" for path, status in admin.items() if status >= 500]
        assert not failed, failed
        assert sum(status == 200 for status in admin.values()) >= 4, admin

        # The search results page found the page; the header's suggestions script still runs.
        page.goto(live_server("/search?q=προμήθειες"))
        assert page.locator(".search-results h2 a", has_text="Προμήθειες του Δήμου").count() == 1
        page.focus(BOX)
        page.keyboard.type("προμηθ")
        page.wait_for_selector("#site-search-q-suggestions [role=option]")
        assert page.get_attribute(BOX, "aria-expanded") == "true"
        # A picture from another https: address shows (the policy allows https: images).
        page.goto(live_server(f"/wiki/{slug}"))
        picture = page.locator("main img[src='https://images.example.gr/logo.png']")
        assert picture.evaluate("img => img.complete && img.naturalWidth") == 1
    finally:
        context.close()
    assert not watch.violations, "\n".join(watch.violations)


@pytest.fixture
def node_with_national_sign_in(instance):
    """A live node whose [upstream] is a provider on another port of 127.0.0.1 (another origin), with the
    address in its knet.toml that the browser uses (the provider sends people back there)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    provider = Provider(redirect_uri=f"{url}/auth/upstream/callback")
    running = Running(provider)
    configure(instance, **provider.settings())
    config = tomllib.loads((instance / "knet.toml").read_text(encoding="utf-8"))
    (instance / "knet.toml").write_text(tomli_w.dumps({**config, "url": url}), encoding="utf-8")
    app = create_app(instance, overrides={"TESTING": True})
    with app.app_context():
        create_local_user("maria", "a long test password", role="editor", display_name="Μαρία Παπαδοπούλου")
        db.session.commit()
        server = LiveServer(app, port=port).start()
        try:
            yield server, provider
        finally:
            server.stop()
            running.stop()
            close_index(app)
            db.session.remove()
            db.engine.dispose()


def test_the_national_sign_in_form_leads_to_the_provider_and_back(browser, node_with_national_sign_in):
    """The sign-in page's form posts here and is redirected to the provider, another origin: its policy names
    the provider, or Chromium would stop the form there."""
    node, provider = node_with_national_sign_in
    context = browser.new_context(locale="el-GR")
    context.set_default_timeout(10_000)
    watch = watch_csp(context)
    try:
        page = context.new_page()
        page.goto(node("/login?next=/pages/new"))
        with page.expect_navigation():
            page.click("form.upstream-sign-in button")
        assert page.url.startswith(f"{provider.url}/authorize?"), page.url
        page.fill("input[name=username]", "citizen-maria")
        page.fill("input[name=password]", "taxis password")
        with page.expect_navigation():
            page.click("button")
        assert page.url == node("/pages/new"), page.url
        assert page.locator("#title").count() == 1  # signed in: the new page form
    finally:
        context.close()
    assert not watch.violations, "\n".join(watch.violations)
