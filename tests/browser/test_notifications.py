"""The notifications page in a real Chromium: the header count, opening a notification, marking all
read and choosing the digest by keyboard; axe (WCAG 2.1 A/AA) in Greek and English."""
from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l

from auth import notifications
from auth.models import User
from knet.db import db
from tests.browser.conftest import activate, sign_in_through_form, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker

pytestmark = pytest.mark.browser


@pytest.fixture
def told(app, make_user):
    """Maria has two unread notifications from Eleni, leading to two pages of this node."""
    notifications.register_kind(app, "test.answer", _l("%(actor)s answered your question “%(subject)s”"))
    maria, eleni = make_user("maria"), make_user("eleni")
    maria.display_name, eleni.display_name = "Μαρία Παπαδοπούλου", "Ελένη Κωνσταντίνου"
    for subject, url in (("Πώς ανεβάζω προκήρυξη στο ΕΣΗΔΗΣ;", "/questions"),
                         ("Ποιο είναι το όριο της απευθείας ανάθεσης;", "/people")):
        notifications.notify([maria], "test.answer", actor=eleni, subject=subject, url=url)
        db.session.commit()
    return maria


def test_reading_notifications_by_keyboard(page, live_server, told):
    sign_in_through_form(page, live_server, told)
    page.context.add_cookies([{"name": "knet_lang", "value": "en", "url": live_server.url}])
    page.goto(live_server("/"))
    assert page.locator(".notifications-link").inner_text().split() == ["Notifications", "2", "unread"]

    tab_to(page, ".notifications-link")
    activate(page)
    assert page.url.endswith("/notifications")
    newest = page.locator(".notification").first
    assert newest.locator(".badge").inner_text() == "New"
    tab_to(page, ".notification a", text="Ποιο είναι το όριο")
    activate(page)
    assert page.url.endswith("/people")
    assert page.locator(".notifications-link").inner_text().split() == ["Notifications", "1", "unread"]

    page.goto(live_server("/notifications"))
    tab_to(page, "button", text="Mark all as read")
    activate(page)
    assert "Marked 1 notification as read." in page.locator(".messages").inner_text()
    assert page.locator(".notifications-link").inner_text().strip() == "Notifications"
    assert page.locator(".notification .badge").count() == 0

    tab_to(page, "input[name=digest]")
    page.keyboard.press("ArrowDown")  # radio buttons move with the arrow keys: daily → weekly
    tab_to(page, "button", text="Save")
    activate(page)
    assert "Once a week" in page.locator(".messages").inner_text()
    db.session.expire_all()
    assert db.session.get(User, told.id).digest == "weekly"


@pytest.mark.parametrize("language", ["el", "en"])
def test_notifications_page_has_no_axe_violations_and_fits_a_phone(language, browser, live_server, told, make_user):
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        check.sign_in(told)
        for label, path in [("notifications", "/notifications"), ("unread notifications", "/notifications?show=unread"),
                            ("home with a count", "/")]:
            check.goto(path)
            assert check.page.evaluate("document.documentElement.lang") == language
            check.check(label)
        with check.page.expect_navigation():
            check.page.click(".notifications-link")
        with check.page.expect_navigation():
            check.page.click("form.inline-tools button")
        check.check("notifications, all read")
        check.goto("/notifications?show=unread")
        check.check("no unread notifications")
        check.finish()

        newcomer = browser.new_context(viewport=DESKTOP)
        newcomer.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
        try:
            fresh = Checker(newcomer, live_server)
            fresh.sign_in(make_user("nikos"))
            fresh.goto("/notifications")
            fresh.check("no notifications yet")
            fresh.finish()
        finally:
            newcomer.close()
    finally:
        context.close()
