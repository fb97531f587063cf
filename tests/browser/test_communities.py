"""Community pages in a real Chromium: joining by keyboard, and axe (WCAG 2.1 A/AA) in Greek and English."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from knet import jobs
from knet.db import db
from qa import communities, services
from qa.services import QuestionInput
from tests.browser.conftest import activate, sign_in_through_form, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker

pytestmark = pytest.mark.browser


@pytest.fixture
def procurement(make_user, make_page):
    """A public community with a moderator, a member, questions (one answered), and a wiki page on its subject."""
    moderator, maria = make_user("eleni", role="moderator"), make_user("maria", role="reader")
    moderator.display_name, maria.display_name = "Ελένη Κωνσταντίνου", "Μαρία Παπαδοπούλου"
    community = communities.create_community(
        moderator, "Προμήθειες", "Για όσους κάνουν **διαγωνισμούς** και απευθείας αναθέσεις.\n\n"
                                 "- ΕΣΗΔΗΣ\n- ΚΗΜΔΗΣ", "public")
    db.session.commit()
    asked = services.ask(maria, QuestionInput(title="Πώς ανεβάζω προκήρυξη στο ΕΣΗΔΗΣ;", body="Βήμα βήμα;",
                                              visibility="public", tags=["ΕΣΗΔΗΣ"], community_id=community.id))
    services.ask(maria, QuestionInput(title="Ποιο είναι το όριο της απευθείας ανάθεσης;", body="Για υπηρεσίες.",
                                      visibility="public", community_id=community.id))
    db.session.flush()
    services.answer(moderator, asked, "Από το μενού «Διαγωνισμοί».")
    db.session.commit()
    make_page(make_user("nikos"), "Οδηγός προμηθειών", "Όλα για τις προμήθειες του δήμου.", visibility="public")
    jobs.run_pending()
    return {"moderator": moderator, "maria": maria, "community": community,
            "path": f"/communities/{quote(community.slug)}"}


def test_a_colleague_joins_a_community_by_keyboard(page, live_server, procurement):
    maria, community = procurement["maria"], procurement["community"]
    sign_in_through_form(page, live_server, maria)
    page.goto(live_server(procurement["path"]))
    tab_to(page, "#join")
    activate(page)
    assert page.locator(".messages").inner_text().strip()
    assert page.locator("#leave").is_visible() and page.locator("#unfollow").is_visible()
    db.session.expire_all()
    membership = communities.membership_of(maria, community)
    assert membership is not None and membership.following

    tab_to(page, "#unfollow")
    activate(page, "Space")
    db.session.expire_all()
    assert communities.membership_of(maria, community).following is False
    tab_to(page, "#follow")
    activate(page)
    db.session.expire_all()
    assert communities.membership_of(maria, community).following is True


@pytest.mark.parametrize("language", ["el", "en"])
def test_community_pages_have_no_axe_violations_and_fit_a_phone(language, browser, live_server, procurement):
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        for label, path in [("communities, anonymous", "/communities"),
                            ("community, anonymous", procurement["path"])]:
            check.goto(path)
            assert check.page.evaluate("document.documentElement.lang") == language
            check.check(label)

        check.sign_in(procurement["moderator"])
        communities.join(procurement["maria"], procurement["community"])
        db.session.commit()
        for label, path in [("communities, signed in", "/communities"),
                            ("community, its moderator", procurement["path"]),
                            ("new community", "/communities/new"),
                            ("edit community", procurement["path"] + "/edit")]:
            check.goto(path)
            check.check(label)
        check.goto(procurement["path"])  # the activity line is an image with a name and a description
        assert check.page.get_attribute("svg.sparkline", "role") == "img"
        assert check.page.locator("#activity-desc").text_content().startswith("3 ")

        check.goto(procurement["path"])  # the only moderator tries to leave: refused, with the reason
        with check.page.expect_navigation():
            check.page.click("#leave")
        check.check("community, refusal")

        check.goto("/communities/new")
        check.page.fill("#name", "ΠΡΟΜΗΘΕΙΕΣ")
        with check.page.expect_navigation():
            check.page.click("#save")
        check.check("new community, duplicate name")
        check.finish()
    finally:
        context.close()
