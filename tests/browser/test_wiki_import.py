"""The MediaWiki import in a real Chromium: an administrator uploads a corpus export, follows the job to
its report, opens an imported page and its history; axe finds nothing on these pages in Greek or English."""
from __future__ import annotations

import pytest

from knet import jobs
from tests.browser.test_accessibility import Checker

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["el", "en"])
def test_an_upload_is_imported_and_its_pages_open(language, browser, live_server, app, corpus, make_user):
    admin = make_user("admin", role="admin")
    context = browser.new_context(locale="el-GR" if language == "el" else "en-GB",
                                  viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    context.set_default_timeout(10_000)
    checker = Checker(context, live_server)
    try:
        checker.sign_in(admin)
        page = checker.page
        checker.goto("/admin/mediawiki-import")
        checker.check("upload form")
        page.set_input_files("#file", str(corpus / "mediawiki" / "pywikibot_pair-0.10.xml"))
        page.select_option("#visibility", "public")
        with page.expect_navigation():
            page.click("#submit")
        status = page.locator("#import-status")
        assert status.get_attribute("data-state") == "waiting"
        checker.check("status, waiting")
        # The worker's turn; the page, which follows the job by itself, then shows the report.
        jobs.run_pending()
        page.wait_for_selector("#pages-created", timeout=15_000)
        assert page.inner_text("#pages-created") == "1" and page.inner_text("#revisions") == "2"
        assert "geodis" in page.inner_text("main")
        checker.check("report")
        with page.expect_navigation():
            page.click("text=Çullu, Agdam")
        assert page.locator("h1").inner_text() == "Çullu, Agdam"
        assert page.locator("main a.wikilink", has_text="Çullu, Quzanlı").count() == 1
        checker.check("imported page")
        checker.goto("/wiki/cullu-agdam/history")
        assert page.locator("table.history tbody tr").count() == 2
        assert page.locator("table.history", has_text="Carlossuarez46").count() == 1
        checker.check("history")
        checker.finish()
    finally:
        context.close()
