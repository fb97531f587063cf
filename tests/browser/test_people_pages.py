"""The people pages in a real Chromium: axe (WCAG 2.1 AA) in Greek and English, and the skills box by keyboard."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from auth import people
from auth.models import Department
from auth.people import ProfileInput
from knet import jobs
from knet.db import db
from tests.browser.conftest import activate, sign_in_through_form, tab_to
from tests.browser.test_accessibility import DESKTOP, Checker

pytestmark = pytest.mark.browser

SKILLS = "#skills"
OPTIONS = "#skills-suggestions [role=option]"


@pytest.fixture
def colleagues(make_user):
    maria, nikos = make_user("maria"), make_user("nikos")
    finance = Department(dn="ou=finance,dc=test", name="Διεύθυνση Οικονομικών")
    maria.department = Department(dn="ou=procurement,ou=finance,dc=test", name="Τμήμα Προμηθειών", parent=finance)
    maria.display_name, maria.title, maria.email, maria.phone = ("Μαρία Παπαδοπούλου", "Προϊσταμένη",
                                                                 "maria@dimos.test", "210 1234567")
    nikos.display_name = "Νίκος Γεωργίου"
    db.session.commit()
    people.update_profile(maria, maria, ProfileInput(
        skills=["Προμήθειες", "Δημόσιες συμβάσεις", "ΕΣΠΑ"], languages=["el", "en"],
        about="Ηλεκτρονικοί διαγωνισμοί στο ΕΣΗΔΗΣ.\nΣυμβάσεις έργων και υπηρεσιών."))
    picture = io.BytesIO()
    Image.new("RGB", (200, 200), (30, 90, 150)).save(picture, "PNG")
    people.set_photo(maria, maria, picture.getvalue())
    db.session.commit()
    jobs.run_pending()
    return {"maria": maria, "nikos": nikos, "finance": finance}


@pytest.mark.parametrize("language", ["el", "en"])
def test_people_pages_have_no_axe_violations_and_fit_a_phone(language, browser, live_server, colleagues):
    context = browser.new_context(viewport=DESKTOP, locale="el-GR" if language == "el" else "en-GB")
    context.add_cookies([{"name": "knet_lang", "value": language, "url": live_server.url}])
    try:
        check = Checker(context, live_server)
        check.sign_in(colleagues["maria"])
        for label, path in [
            ("directory", "/people"),
            ("who knows", "/people?q=προμηθειες"),
            ("nobody knows", "/people?q=αστροφυσικη"),
            ("by skill", "/people?skill=ΕΣΠΑ"),
            ("profile", "/people/maria"),
            ("profile without anything", "/people/nikos"),
            ("edit", "/people/maria/edit"),
            ("department", f"/departments/{colleagues['finance'].id}"),
        ]:
            check.goto(path)
            check.check(label)

        check.goto("/people/maria/edit")
        check.page.fill(SKILLS, ", ".join(f"skill {n}" for n in range(31)))
        with check.page.expect_navigation():
            check.page.click("#save")
        check.check("edit with errors")
        check.finish()
    finally:
        context.close()


def test_skills_are_offered_and_chosen_by_keyboard(page, live_server, colleagues):
    sign_in_through_form(page, live_server, colleagues["nikos"])
    page.goto(live_server("/people/nikos/edit"))
    tab_to(page, SKILLS)
    page.keyboard.type("GIS, προ")
    page.wait_for_selector(OPTIONS)
    box = page.locator(SKILLS)
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "true"
    assert page.locator(OPTIONS + " .suggestion-title").all_inner_texts() == ["Προμήθειες"]
    assert "1" in page.inner_text(OPTIONS + " .suggestion-type")  # how many people have it

    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "skills-suggestions-0"
    page.keyboard.press("Enter")  # chooses the skill; the form is not sent
    assert box.input_value() == "GIS, Προμήθειες, " and page.url.endswith("/people/nikos/edit")
    assert box.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.id") == "skills"

    page.keyboard.type("δημ")
    page.wait_for_selector(OPTIONS)
    page.keyboard.press("Escape")  # closes the list and keeps every skill typed
    assert box.get_attribute("aria-expanded") == "false"
    page.keyboard.press("Escape")
    assert box.input_value() == "GIS, Προμήθειες, δημ"

    tab_to(page, "#save")
    activate(page)
    assert page.url.endswith("/people/nikos")
    assert page.locator(".skill-tags a").all_inner_texts() == ["GIS", "Προμήθειες", "δημ"]
