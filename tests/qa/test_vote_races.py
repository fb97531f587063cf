"""Votes sent at the same moment: each person's vote counts once and the score is the sum of the votes."""
from __future__ import annotations

from sqlalchemy import func, select

from knet.db import db
from qa import services
from qa.models import Answer, Vote
from tests.qa.at_once import at_once


def _vote_at_once(app, votes: list[tuple[str, int]], answer_id: int) -> list[str]:
    """Every (username, value) votes in its own thread and transaction, all released together."""
    return at_once(app, [(username, lambda actor, value=value: services.vote(
        actor, value, answer=db.session.get(Answer, answer_id))) for username, value in votes])


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
