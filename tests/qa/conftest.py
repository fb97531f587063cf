"""Factories for Q&A tests: make_question(author, title=…), make_answer(author, question, body)."""
from __future__ import annotations

import pytest

from knet.db import db
from qa import services
from qa.services import QuestionInput


@pytest.fixture
def make_question(app):
    def make(author, title: str = "Πώς υπολογίζεται η υπερωρία;", body: str = "Ποιος είναι ο τύπος;", **fields):
        question = services.ask(author, QuestionInput(title=title, body=body, **fields))
        db.session.commit()
        return question

    return make


@pytest.fixture
def make_answer(app):
    def make(author, question, body: str = "Με τον τύπο του νόμου 4354/2015."):
        reply = services.answer(author, question, body)
        db.session.commit()
        return reply

    return make
