"""Who hears of what in Q&A (qa/notify.py, called by qa/services.py): answers, comments, accepted answers,
@mentions and new questions in followed tags and communities; each person once, never the actor, never
about hidden content or a question they may not read."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from auth.models import Notification
from knet.db import db
from knet.errors import Invalid
from qa import communities, moderation, services
from qa import tags as qa_tags
from qa.models import Community
from qa.notify import MAX_MENTIONS
from qa.services import QuestionInput
from tests.conftest import PASSWORD
from tests.forms import csrf_token

TITLE = "Πώς υπολογίζεται η υπερωρία των υπαλλήλων;"
#: What a Greek reader (the node's default language) reads when the community is unknown or not theirs to see.
NO_COMMUNITY = "Δεν υπάρχει τέτοια κοινότητα ή δεν έχετε δικαίωμα να τη δείτε."


@pytest.fixture
def people(make_user):
    return {name: make_user(name, role="reader") for name in ("asker", "helper", "maria", "nikos")} | {
        "mod": make_user("mod", role="moderator")}


def told(person) -> list[tuple[str, str, str]]:
    """What the person was told: (kind, subject, path), oldest first."""
    db.session.expire_all()
    rows = db.session.scalars(select(Notification).where(Notification.user_id == person.id).order_by(Notification.id))
    return [(n.kind, n.subject, n.url) for n in rows]


def kinds(person) -> list[str]:
    return [kind for kind, _subject, _url in told(person)]


def browse(app, user):
    client = app.test_client()
    client.set_cookie("knet_lang", "en")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": user.username, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    return client


def comment(actor, body: str, **target):
    remark = services.comment(actor, body, **target)
    db.session.commit()
    return remark


# Answers, comments, acceptance ---------------------------------------------------------------------

def test_the_asker_reads_of_an_answer_and_its_link_leads_to_it(app, people, make_question, make_answer):
    question = make_question(people["asker"], TITLE)
    reply = make_answer(people["helper"], question)
    assert told(people["asker"]) == [("qa.answer", TITLE, f"/questions/{question.id}#answer-{reply.id}")]
    assert told(people["helper"]) == []

    client = browse(app, people["asker"])
    page = client.get("/notifications").get_data(as_text=True)
    assert f"helper answered your question “{TITLE}”" in page
    notification = db.session.scalar(select(Notification).where(Notification.user_id == people["asker"].id))
    opened = client.get(f"/notifications/{notification.id}")
    assert opened.status_code == 302 and opened.location.endswith(f"/questions/{question.id}#answer-{reply.id}")
    assert f'id="answer-{reply.id}"' in client.get(f"/questions/{question.id}").get_data(as_text=True)


def test_a_comment_tells_the_author_of_what_it_is_under(app, people, make_question, make_answer):
    question = make_question(people["asker"], TITLE)
    reply = make_answer(people["helper"], question)
    on_question = comment(people["maria"], "Ποιο έτος αφορά;", question=question)
    on_answer = comment(people["nikos"], "Ισχύει και για τους συμβασιούχους;", answer=reply)

    assert told(people["asker"])[1:] == [("qa.comment", TITLE, f"/questions/{question.id}#comment-{on_question.id}")]
    assert told(people["helper"]) == [("qa.comment", TITLE, f"/questions/{question.id}#comment-{on_answer.id}")]
    page = browse(app, people["helper"]).get(f"/questions/{question.id}").get_data(as_text=True)
    assert f'id="comment-{on_answer.id}"' in page
    assert "nikos commented on your post in" in browse(app, people["helper"]).get("/notifications").get_data(
        as_text=True)


def test_nobody_is_told_of_what_they_did_themselves(people, make_question, make_answer):
    asker = people["asker"]
    question = make_question(asker, TITLE, body="Ρωτώ εγώ, @asker.")
    own = make_answer(asker, question, "Απαντώ μόνος μου.")
    comment(asker, "Σχόλιο στη δική μου ερώτηση.", question=question)
    comment(asker, "Σχόλιο στη δική μου απάντηση.", answer=own)
    services.accept(asker, own)
    db.session.commit()
    assert told(asker) == []


def test_the_author_of_an_accepted_answer_is_told_once(people, make_question, make_answer):
    question = make_question(people["asker"], TITLE)
    reply = make_answer(people["helper"], question)
    services.accept(people["asker"], reply)
    db.session.commit()
    services.accept(people["asker"], reply)  # again: nothing new happened
    db.session.commit()
    assert told(people["helper"]) == [("qa.accepted", TITLE, f"/questions/{question.id}#answer-{reply.id}")]


def test_a_moderator_accepting_their_own_answer_is_not_told_but_one_accepting_another_s_tells_its_author(
        people, make_question, make_answer):
    question = make_question(people["asker"], TITLE)
    mine = make_answer(people["mod"], question, "Η απάντηση του συντονιστή.")
    theirs = make_answer(people["helper"], question)
    services.accept(people["mod"], mine)
    db.session.commit()
    assert "qa.accepted" not in kinds(people["mod"])
    services.accept(people["mod"], theirs)
    db.session.commit()
    assert kinds(people["helper"]) == ["qa.accepted"]


# Mentions ------------------------------------------------------------------------------------------

def test_mentions_in_a_question_an_answer_and_a_comment(people, make_question, make_answer):
    question = make_question(people["asker"], TITLE, body="Ίσως ξέρει η @MARIA.")
    reply = make_answer(people["helper"], question, "Ρωτήστε και τον (@nikos), ή την @maria, που ξέρει.")
    remark = comment(people["helper"], "Δες το, @Nikos!", answer=reply)
    assert told(people["maria"]) == [("qa.mention", TITLE, f"/questions/{question.id}"),
                                     ("qa.mention", TITLE, f"/questions/{question.id}#answer-{reply.id}")]
    assert told(people["nikos"]) == [("qa.mention", TITLE, f"/questions/{question.id}#answer-{reply.id}"),
                                     ("qa.mention", TITLE, f"/questions/{question.id}#comment-{remark.id}")]


def test_a_username_with_a_dot_or_unusual_characters_can_be_mentioned(make_user, people, make_question):
    dotted, odd = make_user("admin.it", role="reader"), make_user("o*(b)\\x", role="reader")
    make_question(people["asker"], TITLE, body="Ρωτήστε τον @admin.it. Και την @o*(b)\\x για τα υπόλοιπα.")
    assert kinds(dotted) == ["qa.mention"]
    assert kinds(odd) == ["qa.mention"]


def test_code_e_mail_addresses_links_and_handles_elsewhere_are_not_mentions(people, make_question):
    body = ("Γράψτε στο maria@example.gr ή δείτε https://social.example/@maria (@maria@social.example).\n\n"
            "Η εντολή `notify @maria` και το μπλοκ:\n\n```\nping @nikos\n```\n\n"
            "και με εσοχή:\n\n    @nikos --help\n\n"
            "και το ``@maria` μέσα σε διπλά``.")
    make_question(people["asker"], TITLE, body=body)
    assert told(people["maria"]) == []
    assert told(people["nikos"]) == []


def test_a_private_question_never_tells_its_title_to_someone_mentioned(app, people, make_question, make_answer):
    secret = "Μυστική ερώτηση για τον προϋπολογισμό"
    question = make_question(people["asker"], secret, body="Να δει και η @maria.", visibility="private")
    make_answer(people["asker"], question, "Σημείωση για τον @nikos.")
    comment(people["asker"], "@maria @nikos", question=question)
    assert told(people["maria"]) == told(people["nikos"]) == []
    assert secret not in browse(app, people["maria"]).get("/notifications").get_data(as_text=True)


def test_a_question_made_private_no_longer_tells_the_author_of_an_answer(people, make_question, make_answer):
    question = make_question(people["asker"], TITLE)
    reply = make_answer(people["helper"], question)
    services.edit_question(people["asker"], question, QuestionInput(title=TITLE, body=question.body,
                                                                    visibility="private"))
    db.session.commit()
    comment(people["asker"], "Το έκανα ιδιωτικό.", answer=reply)
    assert told(people["helper"]) == []


def test_an_edit_tells_only_the_people_newly_mentioned(people, make_question, make_answer):
    question = make_question(people["asker"], TITLE, body="Ρωτώ την @maria.")
    services.edit_question(people["asker"], question,
                           QuestionInput(title=TITLE, body="Ρωτώ την @Maria και τον @nikos."))
    db.session.commit()
    assert kinds(people["maria"]) == ["qa.mention"]
    assert kinds(people["nikos"]) == ["qa.mention"]

    reply = make_answer(people["helper"], question, "Όπως είπε η @maria.")
    services.edit_answer(people["helper"], reply, "Όπως είπε η @maria· ο @nikos συμφωνεί.")
    services.edit_answer(people["helper"], reply, "Όπως είπε η @maria· ο @nikos συμφωνεί (διόρθωση).")
    db.session.commit()
    assert kinds(people["maria"]) == ["qa.mention", "qa.mention"]
    assert told(people["nikos"])[1:] == [("qa.mention", TITLE, f"/questions/{question.id}#answer-{reply.id}")]


def test_one_change_tells_each_person_once(people, make_question, make_answer):
    question = make_question(people["asker"], TITLE)
    reply = make_answer(people["helper"], question, "Κατά τη γνώμη μου, @asker, ισχύει· @asker @ASKER.")
    assert kinds(people["asker"]) == ["qa.answer"]
    comment(people["maria"], "@helper το επιβεβαιώνω.", answer=reply)
    assert kinds(people["helper"]) == ["qa.comment"]


def test_at_most_twenty_mentions_of_a_text_are_honoured(make_user, people, make_question):
    many = [make_user(f"colleague{number:02d}", role="reader") for number in range(25)]
    make_question(people["asker"], TITLE, body=" ".join(f"@{person.username}" for person in many))
    assert [len(told(person)) for person in many] == [1] * MAX_MENTIONS + [0] * 5


def test_unknown_and_deactivated_accounts_are_not_mentioned(people, make_question):
    people["nikos"].active = False
    db.session.commit()
    make_question(people["asker"], TITLE, body="Ρωτώ τον @nikos και τον @nobody.")
    assert told(people["nikos"]) == []


def test_hidden_content_tells_nobody(people, make_question, make_answer):
    question = make_question(people["asker"], TITLE)
    reply = make_answer(people["helper"], question)
    moderation.hide(people["mod"], "answer", reply.id, "Εκτός θέματος.")
    db.session.commit()
    comment(people["mod"], "Γιατί κρύφτηκε; @maria", answer=reply)
    services.edit_answer(people["helper"], reply, "Διόρθωσα, @nikos.")
    db.session.commit()
    assert kinds(people["helper"]) == []
    assert told(people["maria"]) == told(people["nikos"]) == []

    moderation.hide(people["mod"], "question", question.id, "Διπλή ανάρτηση.")
    db.session.commit()
    services.edit_question(people["asker"], question, QuestionInput(title=TITLE, body="Τώρα ρωτώ τη @maria."))
    db.session.commit()
    assert told(people["maria"]) == []


# Followers -----------------------------------------------------------------------------------------

@pytest.fixture
def community(people):
    made = communities.create_community(people["mod"], "Προμήθειες και διαγωνισμοί")
    for name in ("maria", "nikos"):
        communities.join(people[name], made)
    communities.follow(people["nikos"], made, False)
    db.session.commit()
    return made


def test_those_who_follow_a_community_read_of_its_new_questions(people, community, make_question):
    question = make_question(people["asker"], TITLE, community_id=community.id)
    assert told(people["maria"]) == [("qa.followed_community", TITLE, f"/questions/{question.id}")]
    assert told(people["mod"]) == [("qa.followed_community", TITLE, f"/questions/{question.id}")]
    assert told(people["nikos"]) == []  # a member who does not follow
    assert told(people["helper"]) == []  # not a member


def test_those_who_follow_a_tag_read_of_its_new_questions_once(people, community, make_question):
    for name in ("asker", "maria", "helper", "nikos"):
        for tag in ("Προμήθειες", "Διαγωνισμοί"):
            qa_tags.follow(people[name], qa_tags.named(tag))
    db.session.commit()
    question = make_question(people["asker"], TITLE, body="Ρωτώ και τον @nikos.", tags=["προμηθειες", "διαγωνισμοι"],
                             community_id=community.id)
    assert kinds(people["maria"]) == ["qa.followed_community"]
    assert told(people["helper"]) == [("qa.followed_tag", TITLE, f"/questions/{question.id}")]
    assert kinds(people["nikos"]) == ["qa.mention"]
    assert told(people["asker"]) == []


def test_the_followers_of_every_tag_are_found_in_one_query(people, make_question):
    names = [f"Θέμα {number}" for number in range(10)]
    for name in names:
        qa_tags.follow(people["maria"], qa_tags.named(name))
    qa_tags.follow(people["helper"], qa_tags.named(names[-1]))
    db.session.commit()
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        make_question(people["asker"], TITLE, tags=names)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len([s for s in statements if "qa_tag_follows" in s]) == 1
    assert kinds(people["maria"]) == kinds(people["helper"]) == ["qa.followed_tag"]


def test_a_private_new_question_tells_no_follower(people, community, make_question):
    qa_tags.follow(people["maria"], qa_tags.named("Προμήθειες"))
    db.session.commit()
    make_question(people["asker"], TITLE, tags=["Προμήθειες"], community_id=community.id, visibility="private")
    assert told(people["maria"]) == told(people["mod"]) == []


# A community one may not see -----------------------------------------------------------------------

def test_a_question_cannot_be_put_in_a_community_one_may_not_see(app, people, make_question, make_token):
    # No service makes a community like this today; the rule must hold for whatever a community's visibility is.
    unseen = Community(slug="kleisti", name="Κλειστή ομάδα", visibility="private", created_by_id=people["mod"].id)
    db.session.add(unseen)
    db.session.commit()
    for community_id in (unseen.id, 999_999):
        with pytest.raises(Invalid) as refused:
            services.ask(people["asker"], QuestionInput(title=TITLE, body="Κείμενο.", community_id=community_id))
        assert refused.value.extra["field"] == "community"
        assert str(refused.value.message) == NO_COMMUNITY
        db.session.rollback()
    question = make_question(people["asker"], TITLE)
    with pytest.raises(Invalid):
        services.edit_question(people["asker"], question,
                               QuestionInput(title=TITLE, body="Κείμενο.", community_id=unseen.id))
    db.session.rollback()

    response = app.test_client().post("/api/v1/questions", headers=make_token(people["asker"]), json={
        "title": TITLE, "body": "Κείμενο.", "community": unseen.id})
    assert response.status_code == 400
    assert response.json["detail"] == NO_COMMUNITY
    assert "Κλειστή ομάδα" not in response.get_data(as_text=True)
