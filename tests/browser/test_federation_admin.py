"""The federation admin page in a real Chromium: axe (WCAG 2.1 A/AA) in Greek and English at desktop and
phone width, with one peer and with none, and adding a peer by keyboard alone."""
from __future__ import annotations

from datetime import timedelta

import pytest

from federation import keys
from federation.models import DeadLetter, HourlyStats, Peer
from knet.db import db, utcnow
from tests.browser.conftest import focused, sign_in_through_form, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker
from tests.federation.fake_peer import FakePeer

pytestmark = pytest.mark.browser

PAGE = "/admin/federation"


@pytest.fixture
def admin(make_user):
    return make_user("root", role="admin")


def failing_peer() -> Peer:
    """A peer with a long name, deliveries failing for two hours, a busy last day and dead letters."""
    now = utcnow()
    peer = Peer(name="Δήμος Αγίου Νικολάου και Ιεράπετρας της Περιφερειακής Ενότητας Λασιθίου",
                url="http://127.0.0.1:9", keys=[], added_us=True, last_contact_at=now - timedelta(hours=2),
                failing_since=now - timedelta(hours=2), push_failures=9, next_push_at=now + timedelta(minutes=4),
                last_error="http://127.0.0.1:9/federation/inbox answered 503: Down for maintenance")
    db.session.add(peer)
    db.session.flush()
    hour = now.replace(minute=0, second=0, microsecond=0)
    for back in range(0, 24, 2):
        db.session.add(HourlyStats(peer_id=peer.id, hour=hour - timedelta(hours=back), delivered=back * 3,
                                   failed=back % 3, dead=back % 2, most_waiting=200 - back))
    for seq in range(1, 4):
        db.session.add(DeadLetter(peer_id=peer.id, seq=seq, status=422,
                                  uri=f"http://127.0.0.1:5000/wiki/a-very-long-page-name-{seq}-that-goes-on-and-on",
                                  reason="http://127.0.0.1:9/federation/inbox answered 422: Unprocessable activity"))
    db.session.commit()
    return peer


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_page_has_no_axe_violations_with_one_peer_and_with_none(language, browser, live_server, admin):
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        check.sign_in(admin)
        check.goto(PAGE)
        assert check.page.evaluate("document.documentElement.lang") == language
        assert check.page.locator("#no-peers").count() == 1
        check.check("the federation page without peers")
        peer = failing_peer()
        check.goto(PAGE)
        assert check.page.locator("svg.chart[role=img]").count() == 2
        assert check.page.locator("table caption").count() == 2
        check.check("the federation page with a failing peer")
        check.goto(f"{PAGE}/remove?url={peer.url}")
        check.check("the confirmation of a removal")
        check.finish()
    finally:
        context.close()


def test_a_peer_is_added_by_keyboard_after_a_mistyped_address(page, live_server, admin, tmp_path):
    sign_in_through_form(page, live_server, admin)
    page.goto(live_server(PAGE))
    with FakePeer(tmp_path / "fake", "Δήμος Ρόδου") as fake:
        tab_to(page, "#url", max_tabs=40)
        page.keyboard.type("http://127.0.0.1:9")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        field = page.locator("#url")
        assert field.get_attribute("aria-invalid") == "true"
        assert "url-error" in field.get_attribute("aria-describedby")
        assert "Could not reach http://127.0.0.1:9" in page.inner_text("#url-error")

        tab_to(page, "#url", max_tabs=40)
        page.keyboard.press("Control+A")
        page.keyboard.type(fake.url)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "Δήμος Ρόδου" in page.inner_text("h1")
        assert keys.fingerprint(fake.ring.current.public_key) in page.inner_text("main")
        tab_to(page, "button[type=submit].primary", max_tabs=40)
        assert page.evaluate("document.activeElement.form.action").endswith(f"{PAGE}/add/confirm"), focused(page)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert page.url.startswith(live_server(PAGE))
    assert "Δήμος Ρόδου" in page.inner_text(".messages") and page.locator(".peer h3").inner_text() == "Δήμος Ρόδου"
