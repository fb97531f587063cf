"""What a visitor (staff of a peer municipality, signed in here through their home node) may do: read network
and public objects, ask, answer, comment, vote, enrol and earn certificates; never see internal objects."""
from __future__ import annotations

import pytest

from auth.sign_on import PeerNode
from auth.visitors import visitor_for
from knet.db import db
from knet.errors import NotFound
from learning import certificates, progress, versions
from qa import services as qa

HOME = PeerNode("http://127.0.0.1:5999", "Δήμος Αθηναίων", "active")


@pytest.fixture
def visitor(app):
    user = visitor_for(HOME, {"sub": "7", "preferred_username": "maria", "name": "Μαρία Παπαδοπούλου"})
    db.session.commit()
    return user


def test_a_visitor_asks_answers_comments_and_votes_on_network_questions(app, visitor, make_user):
    colleague = make_user("nikos")
    question = qa.ask(colleague, qa.QuestionInput("Πώς δηλώνουμε βλάβες;", "Ποια εφαρμογή;", visibility="network"))
    internal = qa.ask(colleague, qa.QuestionInput("Εσωτερική ερώτηση", "Μόνο για εμάς.", visibility="internal"))
    db.session.commit()
    reply = qa.answer(visitor, question, "Με την εφαρμογή του δήμου μας.")
    qa.comment(visitor, "Ποια έκδοση;", question=question)
    assert qa.vote(visitor, 1, question=question) == 1
    own = qa.ask(visitor, qa.QuestionInput("Έχετε οδηγό για τον ΚΗΜΔΗΣ;", "Ψάχνουμε οδηγό.", visibility="network"))
    db.session.commit()
    assert reply.author == visitor and own.author == visitor
    assert qa.get_question(visitor, question.id) == question
    with pytest.raises(NotFound):  # pages and the API reach a question only through get_question
        qa.get_question(visitor, internal.id)


def test_a_visitor_enrols_in_a_network_course_and_earns_its_certificate(app, visitor, trainer, make_course):
    course = make_course(trainer, "Ψηφιακές υπογραφές", lessons=2, quiz=False, visibility="network")
    internal = make_course(trainer, "Εσωτερικές διαδικασίες", lessons=1, quiz=False, visibility="internal")
    enrolment, new = progress.enrol(visitor, course)
    assert new
    for item in versions.items_of(versions.get_version(course).snapshot):
        progress.open_item(visitor, course, item["key"])
    db.session.commit()
    assert enrolment.completed_at is not None
    certificate = certificates.certificate_of(visitor, course)
    assert certificate is not None
    with pytest.raises(NotFound):
        progress.enrol(visitor, internal)
