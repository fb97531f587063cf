"""The rules of Q&A, through the services."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from knet import content, jobs
from knet.db import db
from knet.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from knet.search import rebuild as rebuilding
from knet.search.indexing import index_path, node_index
from knet.search import Filters, Viewer
from knet.search.index import search
from qa import moderation, services, tags
from qa.models import PostRevision, QuestionTag, Vote
from qa.services import QuestionInput


@pytest.fixture
def people(make_user):
    return {"asker": make_user("asker", role="reader"), "helper": make_user("helper", role="reader"),
            "other": make_user("other", role="reader"), "mod": make_user("mod", role="moderator")}


def english(exc_info) -> str:
    with force_locale("en"):
        return exc_info.value.message


# Asking and answering -----------------------------------------------------------------------------

def test_a_reader_asks_and_the_first_revision_is_kept(app, people, make_question):
    question = make_question(people["asker"], tags=["Μισθοδοσία", " ΜΙΣΘΟΔΟΣΙΑ ", "υπερωρίες"])
    assert question.tag_names == ["Μισθοδοσία", "υπερωρίες"]
    assert question.revision == 1 and [r.number for r in services.revisions(question)] == [1]


@pytest.mark.parametrize("title, body, says", [
    ("Γιατί;", "κείμενο", "at least 10"),
    ("Ένας σωστός τίτλος ερώτησης", "   ", "empty"),
    ("Ένας σωστός τίτλος ερώτησης\x00", "κείμενο", "cannot be stored"),
    ("x" * 201, "κείμενο", "longer than 200"),
])
def test_a_bad_question_is_refused_with_the_field_named(app, people, title, body, says):
    with pytest.raises(Invalid) as refused:
        services.ask(people["asker"], QuestionInput(title=title, body=body))
    assert says in english(refused)
    assert db.session.scalar(select(func.count()).select_from(PostRevision)) == 0


def test_anonymous_people_cannot_ask(app):
    with pytest.raises(Unauthorized):
        services.ask(None, QuestionInput(title="Ένας σωστός τίτλος", body="κείμενο"))


def test_tags_are_one_whatever_their_case_accents_or_spaces(app, people, make_question):
    make_question(people["asker"], tags=["Προμήθειες"])
    make_question(people["other"], title="Άλλη ερώτηση για προμήθειες", tags=["προμηθειες", "ΠΡΟΜΗΘΕΙΕΣ  "])
    assert [tag.name for tag in db.session.scalars(select(QuestionTag))] == ["Προμήθειες"]
    assert [(tag.name, uses) for tag, uses in tags.suggestions("προμ")] == [("Προμήθειες", 2)]
    with pytest.raises(Invalid):
        tags.normalise(["<script>"])
    with pytest.raises(Invalid):
        tags.normalise([f"tag{n}" for n in range(11)])


def test_editing_keeps_every_revision_and_only_the_author_or_a_moderator_may(app, people, make_question):
    question = make_question(people["asker"])
    services.edit_question(people["asker"], question, QuestionInput(title=question.title + " (2024)",
                                                                    body="Νέο κείμενο.", summary="έτος"))
    services.edit_question(people["mod"], question, QuestionInput(title=question.title, body="Από συντονιστή."))
    assert [r.number for r in services.revisions(question)] == [3, 2, 1]
    with pytest.raises(Forbidden):
        services.edit_question(people["other"], question, QuestionInput(title=question.title, body="x"))


def test_answers_and_comments(app, people, make_question, make_answer):
    question = make_question(people["asker"])
    reply = make_answer(people["helper"], question)
    services.comment(people["asker"], "Ευχαριστώ!", answer=reply)
    services.comment(people["other"], "Ποιο έτος;", question=question)
    assert question.answer_count == 1
    assert [c.body for c in services.comments_on(people["other"], answer=reply)] == ["Ευχαριστώ!"]
    services.edit_answer(people["helper"], reply, "Με τον τύπο του νόμου 4354/2015, άρθρο 20.")
    assert reply.revision == 2
    with pytest.raises(Forbidden):
        services.edit_answer(people["other"], reply, "όχι")


# Votes ----------------------------------------------------------------------------------------------

def test_one_vote_per_person_changeable_never_on_your_own(app, people, make_question, make_answer):
    question = make_question(people["asker"])
    reply = make_answer(people["helper"], question)
    assert services.vote(people["other"], 1, answer=reply) == 1
    assert services.vote(people["other"], 1, answer=reply) == 1  # the same vote again counts once
    assert services.vote(people["other"], -1, answer=reply) == -1  # changed
    assert services.vote(people["asker"], 1, answer=reply) == 0
    assert services.vote(people["other"], 0, answer=reply) == 1  # taken back
    assert services.my_vote(people["asker"], answer=reply) == 1
    with pytest.raises(Forbidden):
        services.vote(people["helper"], 1, answer=reply)
    for bad in (2, -5, True):
        with pytest.raises(Invalid):
            services.vote(people["other"], bad, question=question)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 1


# Accepting ------------------------------------------------------------------------------------------

def test_the_asker_or_a_moderator_accepts_and_the_accepted_answer_comes_first(app, people, make_question,
                                                                              make_answer):
    question = make_question(people["asker"])
    first, second = make_answer(people["helper"], question), make_answer(people["other"], question, "Αλλιώς.")
    services.vote(people["mod"], 1, answer=first)
    with pytest.raises(Forbidden) as refused:
        services.accept(people["other"], second)
    assert "Only the person who asked" in english(refused)
    services.accept(people["asker"], second)
    assert [a.id for a in services.visible_answers(people["other"], question)] == [second.id, first.id]
    services.accept(people["mod"], first)
    assert question.accepted_answer_id == first.id


# Moderation -----------------------------------------------------------------------------------------

def test_a_closed_question_takes_no_answers_and_says_why(app, people, make_question):
    question = make_question(people["asker"])
    with pytest.raises(Forbidden):
        moderation.close(people["other"], question, "εκτός θέματος")
    with pytest.raises(Invalid):
        moderation.close(people["mod"], question, "  ")
    moderation.close(people["mod"], question, "Εκτός θέματος")
    with pytest.raises(Conflict) as refused:
        services.answer(people["helper"], question, "Απάντηση")
    assert "closed" in english(refused) and "Εκτός θέματος" in english(refused)
    moderation.reopen(people["mod"], question)
    services.answer(people["helper"], question, "Απάντηση")


def test_a_locked_question_takes_nothing(app, people, make_question, make_answer):
    question = make_question(people["asker"])
    reply = make_answer(people["helper"], question)
    moderation.lock(people["mod"], question, "διαφωνίες")
    for attempt in (lambda: services.answer(people["other"], question, "x"),
                    lambda: services.comment(people["other"], "x", question=question),
                    lambda: services.vote(people["other"], 1, answer=reply),
                    lambda: services.edit_question(people["asker"], question, QuestionInput(question.title, "x"))):
        with pytest.raises(Conflict):
            attempt()
    moderation.unlock(people["mod"], question)
    services.vote(people["other"], 1, answer=reply)


def test_a_duplicate_points_to_its_original(app, people, make_question):
    original = make_question(people["other"], title="Πώς υπολογίζονται οι υπερωρίες;")
    repeat = make_question(people["asker"])
    moderation.mark_duplicate(people["asker"], repeat, original)
    assert repeat.duplicate_of is original and repeat.is_closed
    with pytest.raises(Invalid):
        moderation.mark_duplicate(people["mod"], original, repeat)  # never a circle
    with pytest.raises(Forbidden):
        moderation.mark_duplicate(people["helper"], original, repeat)


def test_hidden_content_is_gone_for_everyone_but_moderators_and_comes_back(app, people, make_question, make_answer):
    question = make_question(people["asker"])
    reply = make_answer(people["helper"], question)
    moderation.flag(people["other"], "answer", reply.id, "Προσβλητικό")
    moderation.flag(people["other"], "answer", reply.id, "Προσβλητικό")  # once per person
    assert len(moderation.open_flags(people["mod"])) == 1
    moderation.hide(people["mod"], "answer", reply.id, "Προσβλητικό κείμενο")
    assert moderation.open_flags(people["mod"]) == []
    assert services.visible_answers(people["other"], question) == [] and question.answer_count == 0
    with pytest.raises(NotFound):
        services.get_answer(people["other"], reply.id)
    assert services.visible_answers(people["mod"], question) == [reply]
    moderation.restore(people["mod"], "answer", reply.id)
    assert services.visible_answers(people["other"], question) == [reply] and question.answer_count == 1
    actions = [entry.action for entry in moderation.log(people["mod"])]
    assert actions == ["restore", "hide"]
    with pytest.raises(Forbidden):
        moderation.log(people["other"])


def test_private_questions_stay_with_their_asker(app, people, make_question):
    question = make_question(people["asker"], visibility="private")
    with pytest.raises(NotFound):
        services.get_question(people["other"], question.id)
    with pytest.raises(NotFound):
        services.get_question(None, question.id)


# Search ---------------------------------------------------------------------------------------------

def test_search_finds_questions_and_answers(app, people, make_question, make_answer):
    question = make_question(people["asker"], title="Προθεσμία για την ενστάση", body="Πόσες μέρες έχουμε;",
                             visibility="public")
    make_answer(people["helper"], question, "Δεκαπέντε εργάσιμες ημέρες από την κοινοποίηση.")
    jobs.run_pending()
    found = search(node_index(), "ενσταση", viewer=Viewer())
    assert {hit.type for hit in found.hits} == {"question", "answer"}
    answers = search(node_index(), "κοινοποιηση", viewer=Viewer())
    assert [hit.type for hit in answers.hits] == ["answer"]


def test_answering_commenting_and_editing_keep_the_question_in_step_in_the_index(app, people, make_question,
                                                                                 make_answer):
    """A question's last activity is its search document's date: every activity under it re-indexes it (a busy
    question was found stale by `knet index check`, found by the crash test under load)."""
    question = make_question(people["asker"])
    jobs.run_pending()
    reply = make_answer(people["helper"], question)
    db.session.commit()
    jobs.run_pending()
    services.comment(people["asker"], "Ευχαριστώ!", answer=reply)
    db.session.commit()
    jobs.run_pending()
    services.edit_answer(people["helper"], reply, "Με τον τύπο του νόμου 4354/2015, άρθρο 20.")
    db.session.commit()
    jobs.run_pending()
    drift = rebuilding.check(index_path(app), content.content_types().values())
    assert (drift.missing, drift.stale, drift.extra) == ([], [], [])


def test_an_accepted_answer_ranks_above_others_for_the_same_match(app, people, make_question, make_answer):
    question = make_question(people["asker"], title="Ποια φόρμα για άδεια μητρότητας;", visibility="public")
    same = "Συμπληρώνετε το έντυπο Α12 της υπηρεσίας προσωπικού."
    plain = make_answer(people["helper"], question, same)
    accepted = make_answer(people["other"], question, same)
    jobs.run_pending()
    first = search(node_index(), "εντυπο", viewer=Viewer(), filters=Filters(type="answer"))
    assert [hit.uri for hit in first.hits] == [services.answer_uri(plain.id), services.answer_uri(accepted.id)]
    services.accept(people["asker"], accepted)
    db.session.commit()
    jobs.run_pending()
    ranked = search(node_index(), "εντυπο", viewer=Viewer(), filters=Filters(type="answer"))
    assert [hit.uri for hit in ranked.hits] == [services.answer_uri(accepted.id), services.answer_uri(plain.id)]
