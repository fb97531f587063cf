"""Notifications: told once, never to the one who acted; the count in the header; the page, which
marks read and leads to what happened; the digest choice; and the API."""
from __future__ import annotations

import re

import pytest
from flask_babel import lazy_gettext as _l

from auth import notifications
from auth.models import Notification, User
from knet.db import db
from tests.forms import csrf_token


@pytest.fixture
def kinds(app):
    notifications.register_kind(app, "test.answer", _l("%(actor)s answered your question “%(subject)s”"))


@pytest.fixture
def people(app, make_user, kinds):
    asker, helper, third = make_user("asker"), make_user("helper"), make_user("third")
    db.session.commit()
    return asker, helper, third


def _fresh(user_id: int) -> User:
    """The person as the database has them now (the requests changed them in their own sessions)."""
    db.session.expire_all()
    return db.session.get(User, user_id)


def _tell(recipients, actor, subject="Πώς γίνεται η απευθείας ανάθεση;", url="/questions/1#answer-1", **extra):
    told = notifications.notify(recipients, "test.answer", actor=actor, subject=subject, url=url, **extra)
    db.session.commit()
    return told


def test_each_person_is_told_once_and_never_of_their_own_doing(people):
    asker, helper, third = people
    told = _tell([asker, asker, helper, third], actor=helper, exclude={third.id})
    assert told == {asker.id}
    assert notifications.unread_count(asker) == 1
    assert notifications.unread_count(helper) == 0 and notifications.unread_count(third) == 0


def test_deactivated_people_are_not_told(people):
    asker, helper, _ = people
    asker.active = False
    assert _tell([asker], actor=helper) == set()


def test_a_notification_leads_only_to_a_path_on_this_node(people):
    asker, helper, _ = people
    for url in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            notifications.notify([asker], "test.answer", actor=helper, subject="x", url=url)


def test_the_sentence_is_made_in_the_readers_language(app, people, sign_in, client):
    asker, helper, _ = people
    _tell([asker], actor=helper)
    sign_in(asker)
    for language, sentence in (("en", f"{helper.name} answered your question “Πώς γίνεται η απευθείας ανάθεση;”"),
                               ("el", f"Ο/Η {helper.name} απάντησε στην ερώτησή σας «Πώς γίνεται η απευθείας ανάθεση;»")):
        client.set_cookie("knet_lang", language)
        assert sentence in client.get("/notifications").get_data(as_text=True), language


def test_header_counts_unread_and_the_page_marks_read_on_opening(people, sign_in, client):
    asker, helper, _ = people
    _tell([asker], actor=helper, subject="First")
    _tell([asker], actor=helper, subject="Second", url="/questions/2")
    sign_in(asker)
    client.set_cookie("knet_lang", "en")
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'class="notifications-link"[^>]*>Notifications <span class="unread-count">2 unread</span>', home)
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count(">New<") == 2
    second = db.session.scalar(db.select(Notification).where(Notification.subject == "Second"))
    opened = client.get(f"/notifications/{second.id}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/questions/2"
    assert "1 unread" in client.get("/").get_data(as_text=True)
    assert client.get("/notifications?show=unread").get_data(as_text=True).count(">New<") == 1


def test_nobody_opens_anybody_elses_notification(people, sign_in, client):
    asker, helper, _ = people
    _tell([asker], actor=helper)
    mine = db.session.scalar(db.select(Notification.id))
    sign_in(helper)
    for address in (f"/notifications/{mine}", "/notifications/0", f"/notifications/{2**31}", "/notifications/99999"):
        response = client.get(address)
        assert response.status_code == 404, address
    assert notifications.unread_count(_fresh(asker.id)) == 1


def test_notifications_page_needs_a_sign_in(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_mark_all_read_keeps_what_arrived_after_the_page_was_shown(people, sign_in, client):
    asker, helper, _ = people
    _tell([asker], actor=helper, subject="Seen")
    sign_in(asker)
    page = client.get("/notifications").get_data(as_text=True)
    up_to = re.search(r'name="up_to" type="hidden" value="(\d+)"|type="hidden" name="up_to" value="(\d+)"|name="up_to"[^>]*value="(\d+)"', page)
    assert up_to
    _tell([asker], actor=helper, subject="Arrived later")
    response = client.post("/notifications/read", data={"csrf_token": csrf_token(page),
                                                       "up_to": next(g for g in up_to.groups() if g)})
    assert response.status_code == 302
    unread = [n.subject for n in notifications.recent(_fresh(asker.id), unread_only=True)[0]]
    assert unread == ["Arrived later"]


def test_forms_without_their_csrf_token_are_refused(people, sign_in, client):
    asker, helper, _ = people
    _tell([asker], actor=helper)
    sign_in(asker)
    assert client.post("/notifications/read", data={}).status_code == 400
    assert client.post("/notifications/digest", data={"digest": "off"}).status_code == 400
    assert notifications.unread_count(_fresh(asker.id)) == 1
    assert _fresh(asker.id).digest == "daily"


def test_choosing_how_often_the_digest_comes(people, sign_in, client):
    asker, _, _ = people
    sign_in(asker)
    client.set_cookie("knet_lang", "en")
    page = client.get("/notifications").get_data(as_text=True)
    assert "does not send e-mail yet" in page
    response = client.post("/notifications/digest", data={"csrf_token": csrf_token(page), "digest": "weekly"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#digest")
    assert _fresh(asker.id).digest == "weekly"
    wrong = client.post("/notifications/digest", data={"csrf_token": csrf_token(page), "digest": "hourly"})
    assert wrong.status_code == 400 and "Choose how often" in wrong.get_data(as_text=True)
    assert _fresh(asker.id).digest == "weekly"


def test_the_api_lists_and_marks_read(people, make_token, client):
    asker, helper, third = people
    _tell([asker], actor=helper, subject="One")
    _tell([asker], actor=helper, subject="Two")
    _tell([third], actor=helper, subject="Not yours")
    reader, writer = make_token(asker, scope="read"), make_token(asker, scope="write")
    listed = client.get("/api/v1/notifications", headers={**reader, "Accept-Language": "en"}).get_json()
    assert listed["unread"] == 2 and listed["total"] == 2
    assert [n["subject"] for n in listed["notifications"]] == ["Two", "One"]
    assert listed["notifications"][0]["text"] == f"{helper.name} answered your question “Two”"
    assert listed["notifications"][0]["actor"] == "helper" and listed["notifications"][0]["read"] is False
    first = listed["notifications"][1]["id"]
    refused = client.post("/api/v1/notifications/read", json={"ids": [first]},
                          headers=reader)
    assert refused.status_code == 403
    marked = client.post("/api/v1/notifications/read", json={"ids": [first]},
                         headers=writer)
    assert marked.get_json() == {"marked": 1, "unread": 1}
    others = db.session.scalar(db.select(Notification.id).where(Notification.subject == "Not yours"))
    stranger = client.post("/api/v1/notifications/read", json={"ids": [others]},
                           headers=writer)
    assert stranger.status_code == 404 and stranger.content_type == "application/problem+json"
    everything = client.post("/api/v1/notifications/read", json={"all": True},
                             headers=writer)
    assert everything.get_json() == {"marked": 1, "unread": 0}
    assert notifications.unread_count(_fresh(third.id)) == 1


@pytest.mark.parametrize("body", [{"ids": []}, {"ids": "1"}, {"ids": [1.5]}, {"ids": [True]}, {"ids": list(range(101))},
                                  {"all": True, "up_to": -1}, {"all": True, "up_to": 2**40}, {"every": True}, {}])
def test_the_api_says_what_is_wrong_with_a_bad_request(people, make_token, client, body):
    asker, _, _ = people
    response = client.post("/api/v1/notifications/read", json=body,
                           headers=make_token(asker, scope="write"))
    assert response.status_code == 400
    assert response.content_type == "application/problem+json" and response.get_json()["detail"]


def test_the_api_needs_someone_signed_in(client):
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/read", json={"all": True}).status_code == 401


def test_marking_all_read_changes_the_count_on_pages_seen_before(people, sign_in, client, make_page):
    """The bulk UPDATE behind "mark all as read" must reach the page cache like any other change."""
    asker, helper, _ = people
    wiki_page = f"/wiki/{make_page(helper, 'Οδηγός προμηθειών', 'Κείμενο.').slug}"  # a page kept in the cache
    _tell([asker], actor=helper)
    sign_in(asker)
    client.set_cookie("knet_lang", "en")
    assert "1 unread" in client.get(wiki_page).get_data(as_text=True)
    page = client.get("/notifications").get_data(as_text=True)
    client.post("/notifications/read", data={"csrf_token": csrf_token(page)})
    client.get("/notifications")  # the page that shows the flash message
    assert "unread-count" not in client.get(wiki_page).get_data(as_text=True)
