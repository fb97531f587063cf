"""Locking a question with a reason (qa.moderation.lock): stored on the question and in the log, shown on its
page to everyone who sees it, cleared on unlock."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from knet.db import db
from knet.errors import Forbidden, Invalid, Unauthorized
from qa import moderation
from qa.models import ModerationEntry, Question
from tests.forms import csrf_token

REASON = "Η συζήτηση ξέφυγε· θα ξανανοίξει μετά την απόφαση του δημοτικού συμβουλίου."


@pytest.fixture
def people(make_user):
    return {"asker": make_user("asker", role="reader"), "other": make_user("other", role="reader"),
            "mod": make_user("mod", role="moderator")}


@pytest.fixture
def question(people, make_question):
    return make_question(people["asker"], visibility="public")




def text(response) -> str:
    return response.get_data(as_text=True)


def shown_reason(html: str) -> str | None:
    found = re.search(r"<p>Locked: (.*?)</p>", html)
    return found.group(1) if found else None


def log_reasons() -> list[tuple[str, str]]:
    return [(entry.action, entry.reason) for entry in db.session.query(ModerationEntry).order_by(ModerationEntry.id)]


# The service ---------------------------------------------------------------------------------------

def test_the_reason_is_kept_on_the_question_and_in_the_log_until_unlocked(app, people, question):
    moderation.lock(people["mod"], question, f"  {REASON}\n ")
    db.session.commit()
    assert question.locked_at is not None and question.locked_reason == REASON
    moderation.lock(people["mod"], question, "Άλλος λόγος.")  # locking again: the newer reason
    moderation.unlock(people["mod"], question)
    db.session.commit()
    assert question.locked_at is None and question.locked_reason is None
    assert log_reasons() == [("lock", REASON), ("lock", "Άλλος λόγος."), ("unlock", "")]


def test_a_lock_without_a_reason_stores_none(app, people, question):
    moderation.lock(people["mod"], question, "   ")
    assert question.locked_at is not None and question.locked_reason is None
    moderation.lock(people["mod"], question)
    assert question.locked_reason is None


@pytest.mark.parametrize("reason, says", [
    ("x" * 501, "at most 500 characters"),
    ("λόγος\x00", "cannot be stored"),
    ("λόγος \ud800", "cannot be stored"),
])
def test_a_bad_reason_is_refused_and_nothing_is_locked(app, people, question, reason, says):
    with pytest.raises(Invalid) as refused:
        moderation.lock(people["mod"], question, reason)
    with force_locale("en"):
        assert says in refused.value.message
    assert refused.value.extra["field"] == "reason"
    db.session.rollback()
    assert db.session.get(Question, question.id).locked_at is None and log_reasons() == []


def test_only_moderators_lock(app, people, question):
    with pytest.raises(Forbidden):
        moderation.lock(people["asker"], question, REASON)
    with pytest.raises(Unauthorized):
        moderation.lock(None, question, REASON)
    assert question.locked_reason is None


# The page ------------------------------------------------------------------------------------------

def test_everyone_who_sees_the_question_reads_why_it_is_locked(app, people, question, browse):
    moderation.lock(people["mod"], question, REASON)
    db.session.commit()
    for person in (None, people["other"], people["asker"], people["mod"]):
        html = text(browse(person).get(f"/questions/{question.id}"))
        assert shown_reason(html) == REASON, person
        assert "This question is locked." in html


def test_the_reason_is_text_never_markup(app, people, question, browse):
    moderation.lock(people["mod"], question, '<img src=x onerror="alert(1)"> **όχι**')
    db.session.commit()
    html = text(browse(None).get(f"/questions/{question.id}"))
    assert shown_reason(html) == "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; **όχι**"


def test_a_lock_without_a_reason_says_locked_and_no_reason(app, people, question, browse):
    moderation.lock(people["mod"], question)
    db.session.commit()
    html = text(browse(None).get(f"/questions/{question.id}"))
    assert "This question is locked." in html and shown_reason(html) is None


def test_moderators_lock_with_an_optional_labelled_reason_and_unlock(app, people, question, browse):
    mod = browse(people["mod"])
    address = f"/questions/{question.id}"
    html = text(mod.get(address))
    form = re.search(rf'<form method="post" action="{address}/lock".*?</form>', html, re.S).group(0)
    assert '<label for="lock-reason">Why it is locked (optional)</label>' in form
    field = re.search(r'<input [^>]*id="lock-reason"[^>]*>', form).group(0)
    assert 'name="reason"' in field and 'maxlength="500"' in field and "required" not in field

    locked = mod.post(f"{address}/lock", data={"csrf_token": csrf_token(html), "reason": REASON})
    assert locked.status_code == 302
    html = text(mod.get(address))
    assert shown_reason(html) == REASON and f'action="{address}/unlock"' in html
    assert f'action="{address}/lock"' not in html
    assert REASON in text(mod.get("/moderation"))  # and in the log

    unlocked = mod.post(f"{address}/unlock", data={"csrf_token": csrf_token(html)})
    assert unlocked.status_code == 302
    html = text(mod.get(address))
    assert shown_reason(html) is None and "This question is locked." not in html
    refused = mod.post(f"{address}/lock", data={"csrf_token": csrf_token(html), "reason": "x" * 501})
    assert refused.status_code == 400 and db.session.get(Question, question.id).locked_at is None


def test_people_who_are_not_moderators_get_no_lock_form(app, people, question, browse):
    html = text(browse(people["other"]).get(f"/questions/{question.id}"))
    assert "lock-reason" not in html and "/lock" not in html
    assert "lock-reason" not in text(browse(None).get(f"/questions/{question.id}"))


# The refusals (qa/services.py) ------------------------------------------------------------------

def test_what_a_locked_question_refuses_says_why_it_is_locked(app, people, question, make_answer, make_token,
                                                              client, browse):
    reply = make_answer(people["other"], question)
    moderation.lock(people["mod"], question, REASON)
    db.session.commit()
    token = {**make_token(people["other"]), "Accept-Language": "en"}
    answered = client.post(f"/api/v1/questions/{question.id}/answers", json={"body": "Κι άλλη."}, headers=token)
    voted = client.post(f"/api/v1/questions/{question.id}/vote", json={"value": 1}, headers=token)
    for refused in (answered, voted):
        assert refused.status_code == 409
        assert "This question is locked" in refused.json["detail"] and REASON in refused.json["detail"]
    other = browse(people["asker"])
    html = text(other.get(f"/questions/{question.id}"))
    commented = other.post(f"/answers/{reply.id}/comments", data={"csrf_token": csrf_token(html), "body": "Σχόλιο"})
    assert commented.status_code == 409 and REASON in text(commented)
