"""Following tags (qa/tags.py): from the tag's list of questions (a form with its CSRF token, working
without JavaScript, its state said in words) and through /api/v1/tags; and what following brings."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from auth.models import Notification
from knet.db import db
from knet.errors import Invalid, Unauthorized
from qa import tags as qa_tags
from qa.models import tag_follows
from tests.conftest import PASSWORD
from tests.forms import csrf_token

TITLE = "Πώς γίνεται μια απευθείας ανάθεση;"


@pytest.fixture
def people(make_user):
    return {name: make_user(name, role="reader") for name in ("asker", "maria")}


def browse(app, user=None):
    """A client as this person (signed in through the real form), or an anonymous one; pages in English."""
    client = app.test_client()
    client.set_cookie("knet_lang", "en")
    if user is not None:
        token = csrf_token(client.get("/login").get_data(as_text=True))
        assert client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
    return client


def follow_form(page: str) -> tuple[str, str, str]:
    """The follow form of a tag's list: where it posts, the tag it names, its button's words."""
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page[page.index('class="tag-follow"'):],
                     re.S)
    assert form, "the list has no follow form"
    tag = re.search(r'name="tag" value="([^"]*)"', form.group(2)).group(1)
    button = re.search(r"<button[^>]*>([^<]+)</button>", form.group(2)).group(1)
    return form.group(1), tag, button


def following(person) -> list[str]:
    db.session.expire_all()
    return [tag.name for tag in qa_tags.followed_tags(person)]


# The service -----------------------------------------------------------------------------------------

def test_following_is_kept_once_whatever_the_spelling_and_can_be_undone(people):
    maria = people["maria"]
    qa_tags.follow(maria, qa_tags.named("Προμήθειες"))
    qa_tags.follow(maria, qa_tags.named(" ΠΡΟΜΗΘΕΙΕΣ "))
    qa_tags.follow(maria, qa_tags.named("Αδειες"))
    db.session.commit()
    assert following(maria) == ["Αδειες", "Προμήθειες"]
    assert qa_tags.is_following(maria, qa_tags.find("προμηθειες"))
    assert not qa_tags.is_following(people["asker"], qa_tags.find("προμηθειες"))
    assert db.session.scalar(select(func.count()).select_from(tag_follows)) == 2

    qa_tags.follow(maria, qa_tags.find("προμήθειες"), False)
    qa_tags.follow(maria, qa_tags.find("προμήθειες"), False)
    db.session.commit()
    assert following(maria) == ["Αδειες"]


def test_a_tag_name_is_checked_and_only_people_signed_in_follow(people):
    for bad in ("", "   ", "α,β", "<script>", "x" * 51, "a\x00b"):
        with pytest.raises(Invalid):
            qa_tags.named(bad)
    with pytest.raises(Unauthorized):
        qa_tags.follow(None, qa_tags.named("Προμήθειες"))
    with pytest.raises(Unauthorized):
        qa_tags.followed_tags(None)


def test_a_question_in_a_followed_tag_however_spelt_tells_its_followers(app, people, make_question):
    qa_tags.follow(people["maria"], qa_tags.named("Προμήθειες"))
    db.session.commit()
    question = make_question(people["asker"], TITLE, tags=["προμηθειες"])
    db.session.expire_all()
    notified = db.session.scalars(select(Notification).where(Notification.user_id == people["maria"].id)).all()
    assert [(n.kind, n.url) for n in notified] == [("qa.followed_tag", f"/questions/{question.id}")]
    page = browse(app, people["maria"]).get("/notifications").get_data(as_text=True)
    assert f"asker asked “{TITLE}” in a topic you follow" in page


# The page ----------------------------------------------------------------------------------------------

def test_following_a_tag_from_its_list_of_questions(app, people, make_question):
    make_question(people["asker"], TITLE, tags=["Προμήθειες"])
    client = browse(app, people["maria"])
    page = client.get("/questions?tag=προμήθειες").get_data(as_text=True)
    assert "You do not follow the tag “προμήθειες”." in page
    action, tag, button = follow_form(page)
    assert (action, tag, button) == ("/questions/tags/follow", "προμήθειες", "Follow this tag")

    response = client.post(action, data={"csrf_token": csrf_token(page), "tag": tag})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "You follow the tag “Προμήθειες”: you will be told of each new question in it." in page  # the flash
    assert "You follow the tag “Προμήθειες”: you are told of each new question in it." in page  # the state
    assert following(people["maria"]) == ["Προμήθειες"]
    action, tag, button = follow_form(page)
    assert (action, button) == ("/questions/tags/unfollow", "Stop following this tag")
    assert 'Tags you follow:' in client.get("/questions").get_data(as_text=True)

    response = client.post(action, data={"csrf_token": csrf_token(page), "tag": tag})
    page = client.get(response.location).get_data(as_text=True)
    assert "You no longer follow the tag “Προμήθειες”." in page
    assert "You do not follow the tag “Προμήθειες”." in page
    assert following(people["maria"]) == []


def test_a_tag_no_question_has_yet_can_be_followed(app, people):
    client = browse(app, people["maria"])
    page = client.get("/questions?tag=Ψηφιακή υπογραφή").get_data(as_text=True)
    assert "No questions match." in page
    action, tag, _button = follow_form(page)
    assert client.post(action, data={"csrf_token": csrf_token(page), "tag": tag}).status_code == 302
    assert following(people["maria"]) == ["Ψηφιακή υπογραφή"]


def test_a_follow_without_its_csrf_token_is_refused(app, people, make_question):
    make_question(people["asker"], TITLE, tags=["Προμήθειες"])
    client = browse(app, people["maria"])
    response = client.post("/questions/tags/follow", data={"tag": "Προμήθειες"})
    assert response.status_code == 400
    assert "The form had expired or did not come from this site." in response.get_data(as_text=True)
    assert following(people["maria"]) == []


def test_a_bad_tag_name_is_refused_with_the_reason(app, people):
    client = browse(app, people["maria"])
    page = client.get("/questions").get_data(as_text=True)
    for bad, reason in (("α,β", "may not contain commas"), ("", "Say which tag to follow.")):
        response = client.post("/questions/tags/follow", data={"csrf_token": csrf_token(page), "tag": bad})
        assert response.status_code == 400
        assert reason in response.get_data(as_text=True)
    assert following(people["maria"]) == []


def test_visitors_are_asked_to_sign_in_to_follow_a_tag(app, people, make_question):
    make_question(people["asker"], TITLE, tags=["Προμήθειες"])
    client = browse(app)
    page = client.get("/questions?tag=Προμήθειες").get_data(as_text=True)
    assert "Sign in to follow this tag and be told of its new questions" in page
    assert "Follow this tag" not in page
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/questions/tags/follow", data={"csrf_token": token, "tag": "Προμήθειες"})
    assert response.status_code == 302 and "/login" in response.location


# The API -----------------------------------------------------------------------------------------------

def test_following_tags_through_the_api(app, people, make_token):
    client, token = app.test_client(), make_token(people["maria"])
    response = client.put("/api/v1/tags/Προμήθειες/follow", headers=token)
    assert response.status_code == 200
    assert response.json == {"name": "Προμήθειες", "following": True,
                             "questions": "/api/v1/questions?tag=" + quote("Προμήθειες")}
    assert client.put("/api/v1/tags/ΠΡΟΜΗΘΕΙΕΣ/follow", headers=token).json["name"] == "Προμήθειες"
    assert client.put("/api/v1/tags/Ν. 4412/2016/follow", headers=token).json["name"] == "Ν. 4412/2016"
    listed = client.get("/api/v1/tags/followed", headers=token).json["items"]
    assert [(tag["name"], tag["following"]) for tag in listed] == [("Ν. 4412/2016", True), ("Προμήθειες", True)]
    response = client.delete("/api/v1/tags/προμηθειες/follow", headers=token)
    assert response.status_code == 200 and response.json["following"] is False
    assert [tag["name"] for tag in client.get("/api/v1/tags/followed", headers=token).json["items"]] == [
        "Ν. 4412/2016"]


def test_the_tag_api_refuses_with_a_problem_a_person_can_act_on(app, people, make_token):
    client = app.test_client()
    refusals = [
        (client.put("/api/v1/tags/Προμήθειες/follow"), 401),
        (client.get("/api/v1/tags/followed"), 401),
        (client.put("/api/v1/tags/Προμήθειες/follow", headers=make_token(people["maria"], "read")), 403),
        (client.put("/api/v1/tags/α,β/follow", headers=make_token(people["maria"])), 400),
        (client.put("/api/v1/tags/Προμήθειες/follow", headers=make_token(people["maria"]), json={"x": 1}), 400),
        (client.delete("/api/v1/tags/Ανύπαρκτη/follow", headers=make_token(people["maria"])), 404),
    ]
    for response, status in refusals:
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        assert response.json["detail"].rstrip().endswith((".", "”")) and len(response.json["detail"]) > 10
    assert following(people["maria"]) == []


def test_the_openapi_document_describes_following_tags(client):
    spec = client.get("/api/v1/openapi.json").json
    assert set(spec["paths"]["/tags/{name}/follow"]) >= {"put", "delete"}
    assert "get" in spec["paths"]["/tags/followed"]
    assert set(spec["components"]["schemas"]["Tag"]["properties"]) == {"name", "following", "questions"}
