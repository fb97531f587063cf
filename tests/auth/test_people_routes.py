"""The people pages, the skills autocompletion, photos and /api/v1/people through the test client."""
from __future__ import annotations

import io
import re

import pytest
from flask import url_for
from PIL import Image

from auth import people
from auth.models import Department, User
from auth.people import ProfileInput
from knet import jobs
from knet.db import db
from tests.forms import csrf_token


def png(width: int = 300, height: int = 200, colour=(10, 90, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def english(client):
    """Pages in English (the sentences the tests read are not translated yet)."""
    client.set_cookie("knet_lang", "en")
    return client


@pytest.fixture
def maria(make_user):
    user = make_user("maria")
    unit = Department(dn="ou=procurement,ou=finance,dc=test", name="Τμήμα Προμηθειών",
                      parent=Department(dn="ou=finance,dc=test", name="Διεύθυνση Οικονομικών"))
    user.display_name, user.title, user.department = "Μαρία Παπαδοπούλου", "Προϊσταμένη", unit
    user.email, user.phone = "maria@dimos.test", "210 1234567"
    db.session.commit()
    return user


def edit_form(client, username: str, **fields) -> dict:
    """The edit form's fields as a browser would send them, with some changed."""
    page = client.get(f"/people/{username}/edit")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "skills": "", "about": "",
            "visibility": "internal", "save": "Save"}
    data.update(fields)
    return data


def save_profile(client, username: str, **fields):
    return client.post(f"/people/{username}/edit", data=edit_form(client, username, **fields),
                       content_type="multipart/form-data")


def text(response) -> str:
    return response.get_data(as_text=True)


def listing(html: str) -> str:
    """The directory page's list of people (not the header, not the departments and skills beside it)."""
    return html.split('id="people-results-heading"')[1].split('class="people-browse"')[0]


# Sign-in ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/people", "/people/maria", "/people/maria/edit", "/people/maria/photo",
                                  "/people/skills/suggestions?q=gis", "/departments/1"])
def test_anonymous_visitors_are_sent_to_sign_in(client, maria, app, path):
    response = client.get(path)
    assert response.status_code == 302
    with app.test_request_context():
        sign_in_path = url_for("auth.sign_in")
    assert response.headers["Location"].startswith(sign_in_path) and "next=" in response.headers["Location"]


def test_the_main_navigation_links_to_people(english, maria, sign_in):
    sign_in(maria)
    assert re.search(r'<a href="/people"[^>]*>People</a>', text(english.get("/")))


# Editing -------------------------------------------------------------------------------------

def test_people_edit_their_own_profile(english, maria, sign_in):
    sign_in(maria)
    form = english.get("/people/maria/edit")
    html = text(form)
    assert 'enctype="multipart/form-data"' in html and 'accept="image/png,image/jpeg,image/webp"' in html
    assert 'data-suggest-url="/people/skills/suggestions"' in html and 'data-suggest-fill="list"' in html
    response = save_profile(english, "maria", skills="Προμήθειες, ΕΣΠΑ, προμηθειες, ", about="Διαγωνισμοί.",
                            languages=["el", "fr"], visibility="network")
    assert response.status_code == 302 and response.headers["Location"] == "/people/maria"
    db.session.refresh(maria)
    assert [skill.name for skill in maria.skills] == ["ΕΣΠΑ", "Προμήθειες"]
    assert maria.languages == "el fr" and maria.profile_visibility == "network" and maria.about == "Διαγωνισμοί."
    again = text(english.get("/people/maria/edit"))
    assert 'value="ΕΣΠΑ, Προμήθειες"' in again and re.search(r'value="fr"[^>]*checked|checked[^>]*value="fr"', again)
    assert save_profile(english, "maria", skills="ΕΣΠΑ").status_code == 302  # no language ticked, no skill left
    db.session.refresh(maria)
    assert maria.languages == "" and [skill.name for skill in maria.skills] == ["ΕΣΠΑ"]


def test_invalid_input_shows_the_form_again_with_the_reason(english, maria, sign_in):
    sign_in(maria)
    response = save_profile(english, "maria", skills=", ".join(f"skill {n}" for n in range(31)), about="Κείμενο")
    assert response.status_code == 400
    html = text(response)
    assert "The profile was not saved" in html and 'id="skills-error"' in html and "at most 30 skills" in html
    assert "Κείμενο" in html  # what was typed is kept
    db.session.refresh(maria)
    assert maria.skills == [] and maria.about == ""


def test_nobody_edits_someone_elses_profile_but_an_administrator(english, maria, make_user, sign_in):
    sign_in(make_user("nikos", role="editor"))
    for response in (english.get("/people/maria/edit"),
                     english.post("/people/maria/edit", data={
                         "about": "Hacked", "csrf_token": csrf_token(text(english.get("/people")))})):
        assert response.status_code == 403
        assert "You may change only your own profile" in text(response)
    assert "/people/maria/edit" not in text(english.get("/people/maria"))
    english.post("/sign-out", data={"csrf_token": csrf_token(text(english.get("/people")))})
    sign_in(make_user("root", role="admin"))
    assert save_profile(english, "maria", about="Από τον διαχειριστή").status_code == 302
    db.session.refresh(maria)
    assert maria.about == "Από τον διαχειριστή"


def test_a_form_without_its_csrf_token_is_refused(english, maria, sign_in):
    sign_in(maria)
    response = english.post("/people/maria/edit", data={"about": "Χωρίς token", "visibility": "internal"})
    assert response.status_code == 400
    db.session.refresh(maria)
    assert maria.about == ""


# Photos --------------------------------------------------------------------------------------

def test_a_photo_is_uploaded_fetched_and_removed(english, maria, sign_in):
    sign_in(maria)
    response = save_profile(english, "maria", photo=(io.BytesIO(png()), "me.png", "image/png"))
    assert response.status_code == 302, text(response)[:2000]
    profile = text(english.get("/people/maria"))
    match = re.search(r'<img class="person-photo large" src="(/people/maria/photo\?v=\d+)" alt="([^"]+)"', profile)
    assert match and match.group(2) == "Photo of Μαρία Παπαδοπούλου"
    photo = english.get(match.group(1))
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.headers["X-Content-Type-Options"] == "nosniff" and photo.headers["ETag"]
    assert "private" in photo.headers["Cache-Control"] and "max-age" in photo.headers["Cache-Control"]
    assert Image.open(io.BytesIO(photo.data)).size == (300, 200)
    assert english.get(match.group(1), headers={"If-None-Match": photo.headers["ETag"]}).status_code == 304
    assert "no-cache" in english.get("/people/maria/photo").headers["Cache-Control"]  # unversioned: revalidate

    assert save_profile(english, "maria", remove_photo="y").status_code == 302
    assert english.get("/people/maria/photo").status_code == 404
    assert 'class="person-photo large initials"' in text(english.get("/people/maria"))


def test_a_file_that_is_not_an_image_is_refused_with_a_sentence(english, maria, sign_in):
    sign_in(maria)
    response = save_profile(english, "maria", about="Κάτι",
                            photo=(io.BytesIO(b"I am text, not a picture"), "photo.png", "image/png"))
    assert response.status_code == 400
    assert "The photo must be a PNG, JPEG or WebP image of at most 2 MB." in text(response)
    db.session.refresh(maria)
    assert maria.photo is None and maria.about == ""  # nothing of the form was saved


# Pages ---------------------------------------------------------------------------------------

@pytest.fixture
def colleagues(maria, make_user):
    nikos, eleni = make_user("nikos"), make_user("eleni")
    nikos.display_name, eleni.display_name = "Νίκος Γεωργίου", "Ελένη Νικολάου"
    nikos.department = Department(dn="ou=technical,dc=test", name="Τεχνικές Υπηρεσίες")
    eleni.department = maria.department.parent
    db.session.commit()
    people.update_profile(maria, maria, ProfileInput(skills=["Προμήθειες", "ΕΣΠΑ"], about="Διαγωνισμοί και ΕΣΗΔΗΣ.",
                                                     languages=["el", "en"]))
    people.update_profile(nikos, nikos, ProfileInput(skills=["GIS", "ΕΣΠΑ"]))
    db.session.commit()
    jobs.run_pending()
    return {"maria": maria, "nikos": nikos, "eleni": eleni}


def test_the_profile_page(english, colleagues, sign_in):
    sign_in(colleagues["nikos"])
    html = text(english.get("/people/maria"))
    assert "<h1 id=\"profile-name\">Μαρία Παπαδοπούλου</h1>" in html and "Προϊσταμένη" in html
    finance, procurement = colleagues["maria"].department.path
    assert f'href="/departments/{finance.id}">Διεύθυνση Οικονομικών</a>' in html
    assert f'href="/departments/{procurement.id}">Τμήμα Προμηθειών</a>' in html
    assert 'href="/people?skill=%CE%95%CE%A3%CE%A0%CE%91">ΕΣΠΑ</a>' in html
    assert 'href="mailto:maria@dimos.test"' in html and 'href="tel:2101234567"' in html
    assert "Διαγωνισμοί και ΕΣΗΔΗΣ." in html and "Greek, English" in html and "Reader" in html
    assert "Δήμος Δοκιμών" in html  # the municipality
    assert english.get("/people/nobody").status_code == 404


def test_someone_who_has_left_keeps_a_profile_that_says_so(english, colleagues, sign_in):
    colleagues["maria"].active = False
    db.session.commit()
    sign_in(colleagues["nikos"])
    response = english.get("/people/maria")
    assert response.status_code == 200 and "no longer works at Δήμος Δοκιμών" in text(response)
    assert "Μαρία Παπαδοπούλου" not in text(english.get("/people"))


def test_the_directory_lists_searches_and_browses(english, colleagues, sign_in):
    sign_in(colleagues["nikos"])
    everyone = text(english.get("/people"))
    assert all(name in everyone for name in ("Μαρία Παπαδοπούλου", "Νίκος Γεωργίου", "Ελένη Νικολάου"))
    assert "3 people." in everyone
    assert re.search(r'<a href="/people\?skill=%CE%95%CE%A3%CE%A0%CE%91">ΕΣΠΑ</a>\s*<span class="count">2 people',
                     everyone)
    assert "Διεύθυνση Οικονομικών</a>\n    <span class=\"count\">2 people" in everyone

    found = text(english.get("/people", query_string={"q": "προμηθειες"}))
    assert "Who knows about “προμηθειες”" in found and "Μαρία Παπαδοπούλου" in found and "<mark" in found
    assert "Νίκος Γεωργίου" not in listing(found)

    by_skill = text(english.get("/people", query_string={"skill": "εσπα"}))
    listed = listing(by_skill)
    assert "People who know about “ΕΣΠΑ”" in by_skill and "2 people." in listed
    assert "Μαρία Παπαδοπούλου" in listed and "Νίκος Γεωργίου" in listed and "Ελένη Νικολάου" not in listed
    assert "Nobody has added “άγνωστο”" in text(english.get("/people?skill=άγνωστο"))


def test_the_directory_is_paginated(english, colleagues, sign_in, app):
    app.config["KNET"]["page_size"] = 2
    sign_in(colleagues["nikos"])
    first, second = text(english.get("/people")), text(english.get("/people?page=2"))
    assert "Page 1 of 2" in first and 'href="/people?page=2"' in first
    assert "Ελένη Νικολάου" in first and "Νίκος Γεωργίου" in second


def test_a_department_page_lists_its_sub_units_and_their_people(english, colleagues, sign_in):
    sign_in(colleagues["nikos"])
    finance = colleagues["eleni"].department
    html = text(english.get(f"/departments/{finance.id}"))
    assert "<h1>Διεύθυνση Οικονομικών</h1>" in html and "Sub-units" in html
    own, sub_unit = html.split("Sub-unit:", 1)[0], html.split("Sub-unit:", 1)[1]
    assert "Ελένη Νικολάου" in own.split('id="people-heading"')[1] and "Μαρία Παπαδοπούλου" in sub_unit
    direct = text(english.get(f"/departments/{finance.id}?only=direct"))
    assert "Ελένη Νικολάου" in direct and "Μαρία Παπαδοπούλου" not in direct
    assert english.get("/departments/9999").status_code == 404


# Suggestions and search ------------------------------------------------------------------------

def test_skill_suggestions_as_json(english, colleagues, sign_in):
    sign_in(colleagues["eleni"])
    response = english.get("/people/skills/suggestions", query_string={"q": "εσ"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "no-store" in response.headers["Cache-Control"]
    assert response.json == {"query": "εσ", "results": [
        {"title": "ΕΣΠΑ", "people": 2, "detail": "2 people", "link": "/people?skill=%CE%95%CE%A3%CE%A0%CE%91"}]}
    assert english.get("/people/skills/suggestions?q=").json["results"] == []


def test_a_person_is_found_by_the_search_api_as_a_person(client, colleagues, make_token):
    body = client.get("/api/v1/search?q=ΕΣΗΔΗΣ", headers=make_token(colleagues["nikos"], "read")).json
    [result] = body["results"]
    assert result["type"] == "person" and result["title"] == "Μαρία Παπαδοπούλου"
    assert result["uri"].endswith("/people/maria") and sorted(result["tags"]) == ["ΕΣΠΑ", "Προμήθειες"]
    assert client.get("/api/v1/search?q=ΕΣΗΔΗΣ").json["total"] == 0  # never to anonymous visitors


def test_the_search_page_labels_people(english, colleagues, sign_in):
    sign_in(colleagues["nikos"])
    html = text(english.get("/search?q=ΕΣΗΔΗΣ"))
    assert 'href="/people/maria">Μαρία Παπαδοπούλου</a>' in html and "Person" in html


# The API ----------------------------------------------------------------------------------------

def test_people_in_the_api(client, colleagues, make_token):
    token = make_token(colleagues["eleni"], "read")
    assert client.get("/api/v1/people").status_code == 401
    body = client.get("/api/v1/people?per_page=2", headers=token).json
    assert body["total"] == 3 and [p["username"] for p in body["people"]] == ["eleni", "maria"]
    assert body["next"] and body["prev"] is None
    maria = client.get("/api/v1/people/maria", headers=token).json
    assert maria["skills"] == ["ΕΣΠΑ", "Προμήθειες"] and maria["languages"] == ["el", "en"]
    assert maria["department"]["path"] == ["Διεύθυνση Οικονομικών", "Τμήμα Προμηθειών"]
    assert maria["url"] == "/people/maria" and maria["photo"] is None and maria["active"] is True
    found = client.get("/api/v1/people?q=προμηθειες", headers=token).json
    assert [p["username"] for p in found["people"]] == ["maria"]
    assert [p["username"] for p in client.get("/api/v1/people?skill=ΕΣΠΑ", headers=token).json["people"]] == [
        "maria", "nikos"]
    assert client.get("/api/v1/skills?q=ε", headers=token).json == {"skills": [{"name": "ΕΣΠΑ", "people": 2}]}
    assert client.get("/api/v1/people/nobody", headers=token).status_code == 404


def test_people_are_described_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/people", "/people/{username}", "/skills"} <= set(paths)


def test_users_without_a_display_name_are_listed_by_username(english, make_user, sign_in):
    sign_in(make_user("zeta"))
    make_user("alpha")
    assert User.by_username("alpha").name == "alpha"
    html = text(english.get("/people"))
    assert html.index(">alpha</a>") < html.index(">zeta</a>")


def test_your_own_profile_offers_to_sign_out_everywhere(app, make_user, sign_in):
    maria = make_user("maria")
    client = sign_in(maria)
    own = client.get("/people/maria").get_data(as_text=True)
    assert 'action="/sign-out-everywhere"' in own
    make_user("nikos")
    assert 'action="/sign-out-everywhere"' not in client.get("/people/nikos").get_data(as_text=True)
    token = csrf_token(own)
    assert client.post("/sign-out-everywhere", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/v1/me").status_code == 401
