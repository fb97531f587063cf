"""A directory account's day, by keyboard in a real Chromium against a real slapd: sign in, see your
department and roles, add a skill, find a colleague by theirs, sign out. axe checks the pages met."""
from __future__ import annotations

import pytest

from auth import directory as staff_directory, people
from auth.models import User
from auth.people import ProfileInput
from knet import jobs
from knet.db import db
from tests.browser.conftest import LiveServer, activate, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker

pytestmark = pytest.mark.browser


@pytest.fixture
def athens_live(athens_node, athens_directory):
    """The athens node over real HTTP, its staff synced and one colleague with skills."""
    staff_directory.sync(athens_node.extensions["knet.directory"])
    nikos = User.by_username("nikos")
    people.update_profile(nikos, nikos, ProfileInput(skills=["GIS", "Χαρτογράφηση"], about="Χάρτες του δήμου."))
    db.session.commit()
    jobs.run_pending()
    server = LiveServer(athens_node).start()
    try:
        yield server
    finally:
        server.stop()


def _english(browser, server):
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    context.add_cookies([{"name": "knet_lang", "value": "en", "url": server.url}])
    context.set_default_timeout(10_000)
    return context


def test_a_directory_account_by_keyboard(browser, athens_live, athens_directory):
    context = _english(browser, athens_live)
    page = context.new_page()
    try:
        page.goto(athens_live("/"))
        tab_to(page, "header a[href^='/login']")
        activate(page)
        tab_to(page, "#username")
        page.keyboard.type("maria")
        page.keyboard.press("Tab")
        page.keyboard.type(athens_directory.accounts["maria"].password)
        activate(page)  # Enter in the password field submits
        assert "/login" not in page.url, page.inner_text("main")

        tab_to(page, "header a.who", "Μαρία Παπαδοπούλου")
        activate(page)
        details = page.inner_text(".profile-details")
        assert "Payroll" in details and "Finance" in details and "Editor" in details

        tab_to(page, "a", "Edit your profile")
        activate(page)
        tab_to(page, "#skills")
        page.keyboard.type("Μισθοδοσία")
        tab_to(page, "#save")
        activate(page)
        assert "Μισθοδοσία" in page.inner_text(".skill-tags")

        page.goto(athens_live("/people"))
        tab_to(page, "#people-q")
        page.keyboard.type("χαρτογραφηση")
        activate(page)
        found = page.locator("main .person-card").all_inner_texts()
        assert len(found) == 1 and "Νίκος Γεωργίου" in found[0], found

        tab_to(page, "header button", "Sign out")
        activate(page)
        assert page.evaluate("fetch('/api/v1/me').then(r => r.status)") == 401
    finally:
        context.close()


@pytest.mark.parametrize("language", ["el", "en"])
def test_sign_in_states_and_admin_pages_have_no_axe_violations(browser, athens_live, athens_directory, language,
                                                                make_user):
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": athens_live.url}])
    check = Checker(context, athens_live)
    try:
        page = check.page
        check.goto("/login")
        page.fill("#username", "maria")
        page.fill("#password", "not her password")
        with page.expect_navigation():
            page.press("#password", "Enter")
        check.check("sign-in refused")
        with athens_directory.offline():
            page.fill("#username", "maria")
            page.fill("#password", athens_directory.accounts["maria"].password)
            with page.expect_navigation():
                page.press("#password", "Enter")
            assert "/login" in page.url
            check.check("directory down")
        check.sign_in(make_user("root", role="admin"))
        for label, path in (("accounts", "/admin/people"), ("account", "/admin/people/maria"),
                            ("audit log", "/admin/audit"), ("own profile", "/people/root")):
            check.goto(path)
            check.check(label)
        check.finish()
    finally:
        context.close()
