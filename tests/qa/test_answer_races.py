"""Answers given, hidden and restored at the same moment: a question's answer count is always the
number of its visible answers (the list of unanswered questions depends on it)."""
from __future__ import annotations

from sqlalchemy import func, select

from auth.models import User
from knet.db import db
from qa import moderation, services
from qa.models import Answer, Question
from tests.qa.at_once import at_once


def visible_answers(question_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Answer).where(Answer.question_id == question_id,
                                                                            Answer.hidden_at.is_(None)))


def test_answers_given_at_once_are_all_counted(app, make_user, make_question, make_answer, database_kind):
    asker = make_user("asker", role="reader")
    moderator = make_user("moderator", role="moderator")
    question = make_question(asker)
    first = make_answer(make_user("helper", role="reader"), question)
    hidden = make_answer(make_user("spammer", role="reader"), question)
    moderation.hide(moderator, "answer", hidden.id, "Διαφήμιση")
    db.session.commit()
    helpers = [make_user(f"helper{n}", role="reader").username for n in range(8)]
    question_id, first_id, hidden_id = question.id, first.id, hidden.id

    def answering(actor: User) -> None:
        services.answer(actor, db.session.get(Question, question_id), f"Η απάντηση του {actor.username}.")

    # Eight people answer, while one moderator hides the first answer and another restores the hidden one.
    make_user("moderator2", role="moderator")
    errors = at_once(app, [(name, answering) for name in helpers] + [
        ("moderator", lambda actor: moderation.hide(actor, "answer", first_id, "Εκτός θέματος")),
        ("moderator2", lambda actor: moderation.restore(actor, "answer", hidden_id))])
    db.session.expire_all()
    counted = db.session.get(Question, question_id).answer_count
    assert counted == visible_answers(question_id), "the count is the number of visible answers"
    if database_kind == "postgresql":
        # Row locks make every change wait its turn: nothing fails and every answer counts.
        assert errors == [] and counted == 1 + len(helpers)
    else:
        # SQLite lets one writer in at a time and refuses a stale one: a clear failure the person can repeat.
        assert all("locked" in error for error in errors), errors
