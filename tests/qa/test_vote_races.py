"""Votes sent at the same moment: each person's vote counts once and the score is the sum of the votes."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from auth.models import User
from knet.db import db
from qa import services
from qa.models import Answer, Vote


def _vote_at_once(app, votes: list[tuple[str, int]], answer_id: int) -> list[str]:
    """Every (username, value) votes in its own thread and transaction, all released together."""
    start, errors = threading.Barrier(len(votes)), []

    def cast(username: str, value: int) -> None:
        with app.app_context():
            try:
                actor = User.by_username(username)
                reply = db.session.get(Answer, answer_id)
                start.wait()
                services.vote(actor, value, answer=reply)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - every failure is reported by the test
                db.session.rollback()
                errors.append(f"{username}: {type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cast, args=vote) for vote in votes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_concurrent_votes_never_count_twice(app, make_user, make_question, make_answer, database_kind):
    asker, helper = make_user("asker", role="reader"), make_user("helper", role="reader")
    voters = [make_user(f"voter{n}", role="reader").username for n in range(8)]
    reply = make_answer(helper, make_question(asker))
    # Eight people vote once each, and one of them also clicks four more times at the same moment.
    errors = _vote_at_once(app, [(name, 1) for name in voters] + [(voters[0], 1)] * 4, reply.id)
    db.session.expire_all()
    rows = db.session.scalars(select(Vote).where(Vote.answer_id == reply.id)).all()
    assert len(rows) == len({row.user_id for row in rows})  # one row per person, whatever happened
    assert db.session.get(Answer, reply.id).score == sum(row.value for row in rows)
    if database_kind == "postgresql":
        # Row locks make every vote wait its turn: nothing fails and everyone counts.
        assert errors == [] and len(rows) == len(voters)
    else:
        # SQLite lets one writer in at a time and refuses a stale one; a refused vote is a clear
        # failure the person can repeat, never a double count.
        assert len(rows) + len(errors) >= len(voters)


def test_concurrent_changes_of_one_vote_leave_one_vote(app, make_user, make_question, make_answer, database_kind):
    asker, helper, voter = (make_user(name, role="reader") for name in ("asker", "helper", "voter"))
    reply = make_answer(helper, make_question(asker))
    errors = _vote_at_once(app, [("voter", 1), ("voter", -1), ("voter", 1), ("voter", -1), ("voter", 0)], reply.id)
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).select_from(Vote).where(Vote.answer_id == reply.id))
    assert count <= 1
    assert db.session.get(Answer, reply.id).score in (-1, 0, 1)
    assert db.session.get(Answer, reply.id).score == (services.my_vote(voter, answer=reply))
    if database_kind == "postgresql":
        assert errors == []
