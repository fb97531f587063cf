"""Federation's pages in a real Chromium: a peer's page, question and deleted object as this node keeps them,
network search results, and a fork compared with its source: axe (WCAG 2.1 A/AA) in Greek and English at
desktop and phone width."""
from __future__ import annotations

import pytest

from knet import content, jobs
from knet.db import db
from tests.browser.test_accessibility import DESKTOP, Checker
from tests.federation.test_replicas import PEER, URI, activity, apply, page, peer  # noqa: F401 - peer is a fixture
from wiki import forks

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["el", "en"])
def test_copies_of_peers_objects_have_no_axe_violations(language, browser, live_server, peer, make_user):
    body = "# Ανακύκλωση\n\nΜπλε κάδοι για χαρτί."
    apply(peer, activity("Create", 1, page(1, "Οδηγός ανακύκλωσης", body) | {
        "knet:licence": "CC-BY-4.0", "tag": [{"type": "Hashtag", "name": "περιβάλλον"}],
        "source": {"content": body, "mediaType": "text/markdown"}}))
    question = content.document(id=f"{PEER}/questions/5", type="Page", name="Πώς δηλώνω βλάβη;",
                                url=f"{PEER}/questions/5", content="<p>Ερώτηση για βλάβες.</p>", visibility="public")
    answer = content.document(id=f"{PEER}/answers/8", type="Note", name="", url=f"{PEER}/questions/5",
                              content="<p>Από την εφαρμογή.</p>", visibility="public", author="Νίκος",
                              in_reply_to=f"{PEER}/questions/5")
    apply(peer, activity("Create", 2, question))
    apply(peer, activity("Create", 3, answer))
    apply(peer, activity("Create", 4, page(2, "Παλιά σελίδα")))
    apply(peer, activity("Delete", 5, None, uri=f"{PEER}/pages/2"))
    editor = make_user("maria")
    fork = forks.fork(editor, URI)
    db.session.commit()
    apply(peer, activity("Update", 6, page(1, "Οδηγός ανακύκλωσης", body + "\n\nΚαι γυαλί.") | {
        "knet:licence": "CC-BY-4.0", "source": {"content": body + "\n\nΚαι γυαλί.", "mediaType": "text/markdown"}}))
    jobs.run_pending()

    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        check.goto(f"/network/object?uri={URI}")
        check.check("a peer's page, anonymously")
        check.goto(f"/network/object?uri={PEER}/questions/5")
        check.check("a peer's question with an answer")
        check.goto(f"/network/object?uri={PEER}/pages/2", status=410)
        check.check("a peer's deleted page")
        check.goto("/search?q=ανακύκλωση&scope=network")
        assert check.page.locator(".search-results .home").count() == 1
        check.check("network search results")
        check.sign_in(editor)
        check.goto(f"/network/object?uri={URI}")
        assert check.page.locator("form[action='/pages/fork'] button").count() == 1
        check.check("a peer's page with the fork button")
        check.goto(f"/wiki/{fork.slug}")
        check.check("a fork whose source changed")
        check.goto(f"/wiki/{fork.slug}/source-changes")
        check.check("a fork compared with its source")
        check.finish()
    finally:
        context.close()
