"""/api/v1/questions and /api/v1/answers as an API client sees them: fields, rules, problem documents, races."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from knet.db import db
from qa import moderation, services
from qa.models import Answer, Comment, PostRevision, Question, QuestionTag, Vote
from tests.openapi import documented

QUESTION_FIELDS = {"id", "title", "body", "html", "language", "visibility", "tags", "author", "community", "score",
                   "answer_count", "accepted_answer", "closed", "closed_reason", "duplicate_of", "locked", "locked_reason", "hidden",
                   "hidden_reason", "revision", "created", "active", "uri", "url"}
DETAIL_FIELDS = QUESTION_FIELDS | {"my_vote", "comments", "answers"}
ANSWER_FIELDS = {"id", "question", "body", "html", "author", "score", "accepted", "my_vote", "hidden", "hidden_reason",
                 "revision", "created", "updated", "comments", "uri", "url"}
TITLE = "Πώς δηλώνεται η υπερωρία στη μισθοδοσία;"


def assert_problem(response, status: int | tuple[int, ...], sentence: bool = True) -> dict:
    """A problem document with a detail a person can act on (a whole sentence, unless it ends with a quoted reason)."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == response.status_code and body["title"]
    detail = body["detail"]
    assert isinstance(detail, str) and len(detail) > 10, detail
    assert detail.rstrip().endswith((".", "!", "?", ";")) or not sentence, detail
    return body


def db_state() -> tuple:
    """Everything a refused request must leave as it was, read through a connection of its own."""
    with db.engine.connect() as conn:
        counts = tuple(conn.scalar(select(func.count()).select_from(table)) for table in (
            Question.__table__, Answer.__table__, Comment.__table__, PostRevision.__table__, Vote.__table__,
            QuestionTag.__table__))
        questions = conn.execute(select(Question.id, Question.title, Question.body, Question.revision,
                                        Question.visibility, Question.score, Question.accepted_answer_id,
                                        Question.answer_count).order_by(Question.id)).all()
        answers = conn.execute(select(Answer.id, Answer.body, Answer.score).order_by(Answer.id)).all()
    return counts, questions, answers


@pytest.fixture
def people(make_user):
    return {"asker": make_user("asker", role="reader"), "helper": make_user("helper", role="reader"),
            "other": make_user("other", role="reader"), "mod": make_user("mod", role="moderator")}


@pytest.fixture
def tokens(people, make_token):
    """Write tokens, with English answers (the sentences the tests look for)."""
    return {name: {**make_token(person, "write"), "Accept-Language": "en"} for name, person in people.items()}


@pytest.fixture
def question(people, make_question):
    return make_question(people["asker"], title=TITLE, body="Ποιο έντυπο;", tags=["Μισθοδοσία"],
                         visibility="internal")


@pytest.fixture
def reply(people, question, make_answer):
    return make_answer(people["helper"], question, "Με το έντυπο Ε4.")


def ask(client, headers, **fields):
    return client.post("/api/v1/questions", json={"title": TITLE, "body": "Κείμενο.", **fields}, headers=headers)


# Reading -----------------------------------------------------------------------------------------

def test_list_is_newest_first_with_exactly_the_documented_fields(client, tokens, people, make_question):
    first = make_question(people["asker"], title="Η πρώτη ερώτηση του καταλόγου")
    second = make_question(people["helper"], title="Η δεύτερη ερώτηση του καταλόγου", tags=["Προμήθειες"])
    response = client.get("/api/v1/questions", headers=tokens["other"])
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.json
    assert [item["id"] for item in data["items"]] == [second.id, first.id]
    assert (data["total"], data["page"], data["next"], data["prev"]) == (2, 1, None, None)
    item = data["items"][0]
    assert set(item) == QUESTION_FIELDS
    assert (item["title"], item["author"], item["tags"], item["language"], item["visibility"]) == (
        "Η δεύτερη ερώτηση του καταλόγου", "helper", ["Προμήθειες"], "el", "internal")
    assert (item["score"], item["answer_count"], item["accepted_answer"], item["closed"], item["locked"]) == (
        0, 0, None, False, False)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00\Z", item["created"])
    assert item["uri"].endswith(f"/questions/{second.id}")
    assert client.get(item["url"], headers=tokens["other"]).json["id"] == second.id


def test_list_pages_through_with_next_and_prev(client, tokens, people, make_question):
    made = [make_question(people["asker"], title=f"Ερώτηση αριθμός {n} για σελίδες") for n in range(3)]
    first = client.get("/api/v1/questions?per_page=2", headers=tokens["other"]).json
    assert [i["id"] for i in first["items"]] == [made[2].id, made[1].id] and first["total"] == 3
    second = client.get(first["next"], headers=tokens["other"]).json
    assert [i["id"] for i in second["items"]] == [made[0].id] and second["next"] is None
    assert client.get(second["prev"], headers=tokens["other"]).json["items"] == first["items"]


def test_list_filters(client, app, tokens, people, make_question, make_answer):
    from qa.models import Community

    community = Community(slug="misthodosia", name="Μισθοδοσία")
    db.session.add(community)
    db.session.commit()
    greek = make_question(people["asker"], title="Ερώτηση για τις προμήθειες", tags=["Προμήθειες"])
    english = make_question(people["asker"], title="A question about procurement", language="en",
                            tags=["ΠΡΟΜΗΘΕΙΕΣ", "English"])
    answered = make_question(people["asker"], title="Ερώτηση μέσα σε κοινότητα", community_id=community.id)
    make_answer(people["helper"], answered)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/questions?{query}", headers=tokens["other"])
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["id"] for item in response.json["items"]]

    assert ids("tag=προμηθειες") == [english.id, greek.id]  # one tag whatever its case or accents
    assert ids("tag=english") == [english.id]
    assert ids("tag=nothing-like-it") == []
    assert ids("language=en") == [english.id]
    assert ids("unanswered=true") == [english.id, greek.id]
    assert ids("unanswered=false") == [answered.id, english.id, greek.id]
    assert ids(f"community={community.id}") == [answered.id]
    assert ids("community=99999") == [] and ids("community=99999999999999999999999") == []
    assert ids("tag=Προμήθειες&language=el&unanswered=true") == [greek.id]
    links = client.get("/api/v1/questions?tag=Προμήθειες&per_page=1", headers=tokens["other"]).json
    assert client.get(links["next"], headers=tokens["other"]).json["items"][0]["id"] == greek.id


@pytest.mark.parametrize("query, field", [("language=fr", "language"), ("community=abc", "community"),
                                          ("community=-1", "community"), ("community=１", "community"),
                                          ("unanswered=maybe", "unanswered"), ("tag=a%00b", "tag"),
                                          ("page=0", None), ("per_page=1000", None), ("page=x", None)])
def test_bad_list_parameters_are_400s(client, tokens, question, query, field):
    body = assert_problem(client.get(f"/api/v1/questions?{query}", headers=tokens["other"]), 400)
    assert body.get("field") == field


def test_a_question_with_its_answers_accepted_first(client, tokens, people, question, reply, make_answer):
    better = make_answer(people["other"], question, "Με το έντυπο Ε4, ηλεκτρονικά.")
    services.vote(people["mod"], 1, answer=reply)
    services.vote(people["other"], -1, question=question)
    services.comment(people["other"], "Για ποιο έτος;", question=question)
    services.comment(people["asker"], "Ευχαριστώ!", answer=better)
    services.accept(people["asker"], better)
    db.session.commit()
    data = client.get(f"/api/v1/questions/{question.id}", headers=tokens["other"]).json
    assert set(data) == DETAIL_FIELDS
    assert (data["score"], data["my_vote"], data["answer_count"], data["accepted_answer"]) == (-1, -1, 2, better.id)
    assert [(c["body"], c["author"]) for c in data["comments"]] == [("Για ποιο έτος;", "other")]
    assert set(data["comments"][0]) == {"id", "body", "html", "author", "created", "hidden"}
    answers = data["answers"]
    assert all(set(a) == ANSWER_FIELDS for a in answers)
    assert [(a["id"], a["accepted"], a["score"], a["author"]) for a in answers] == [
        (better.id, True, 0, "other"), (reply.id, False, 1, "helper")]
    assert [c["body"] for c in answers[0]["comments"]] == ["Ευχαριστώ!"] and answers[1]["comments"] == []
    assert client.get(f"/api/v1/questions/{question.id}", headers=tokens["mod"]).json["answers"][1]["my_vote"] == 1
    one = client.get(answers[1]["url"], headers=tokens["other"])
    assert one.status_code == 200 and one.json == {**answers[1], "my_vote": 0}


def test_anonymous_callers_see_public_questions_only(client, people, make_question):
    public = make_question(people["asker"], title="Μια δημόσια ερώτηση για όλους", visibility="public")
    internal = make_question(people["asker"], title="Μια εσωτερική ερώτηση του δήμου")
    assert [item["id"] for item in client.get("/api/v1/questions").json["items"]] == [public.id]
    assert client.get(f"/api/v1/questions/{public.id}").json["my_vote"] == 0
    assert_problem(client.get(f"/api/v1/questions/{internal.id}"), 404)


def test_a_private_question_is_invisible_to_others(client, tokens, people, make_question, make_answer):
    private = make_question(people["asker"], title="Μια ιδιωτική ερώτηση για μένα", visibility="private")
    reply = make_answer(people["asker"], private, "Σημείωση για μένα.")
    mine = client.get("/api/v1/questions", headers=tokens["asker"]).json
    assert [item["id"] for item in mine["items"]] == [private.id]
    for name in ("other", "mod"):
        listed = client.get("/api/v1/questions", headers=tokens[name]).json
        assert listed["items"] == [] and listed["total"] == 0
        assert_problem(client.get(f"/api/v1/questions/{private.id}", headers=tokens[name]), 404)
        assert_problem(client.get(f"/api/v1/answers/{reply.id}", headers=tokens[name]), 404)
    before = db_state()
    assert_problem(client.post(f"/api/v1/questions/{private.id}/answers", json={"body": "x"},
                               headers=tokens["other"]), 404)
    assert_problem(client.post(f"/api/v1/questions/{private.id}/vote", json={"value": 1},
                               headers=tokens["other"]), 404)
    assert_problem(client.put(f"/api/v1/questions/{private.id}", json={"body": "x"}, headers=tokens["other"]), 404)
    assert db_state() == before


def test_hidden_content_only_for_moderators(client, tokens, people, question, reply, make_question):
    hidden = make_question(people["helper"], title="Μια ερώτηση που θα κρυφτεί")
    moderation.hide(people["mod"], "question", hidden.id, "Εκτός θέματος")
    moderation.hide(people["mod"], "answer", reply.id, "Προσβλητικό")
    db.session.commit()
    assert [i["id"] for i in client.get("/api/v1/questions", headers=tokens["other"]).json["items"]] == [question.id]
    assert_problem(client.get(f"/api/v1/questions/{hidden.id}", headers=tokens["other"]), 404)
    assert client.get(f"/api/v1/questions/{question.id}", headers=tokens["other"]).json["answers"] == []
    assert_problem(client.get(f"/api/v1/answers/{reply.id}", headers=tokens["other"]), 404)
    seen = client.get("/api/v1/questions", headers=tokens["mod"]).json["items"]
    assert [(i["id"], i["hidden"], i["hidden_reason"]) for i in seen] == [
        (hidden.id, True, "Εκτός θέματος"), (question.id, False, None)]
    answers = client.get(f"/api/v1/questions/{question.id}", headers=tokens["mod"]).json["answers"]
    assert [(a["id"], a["hidden"]) for a in answers] == [(reply.id, True)]


@pytest.mark.parametrize("path", ["/api/v1/questions/99999", "/api/v1/questions/99999999999999999999999",
                                  "/api/v1/answers/99999999999999999999999", "/api/v1/answers/2147483648",
                                  "/api/v1/questions/-1", "/api/v1/questions/abc", "/api/v1/questions/1%00"])
def test_unknown_or_impossible_ids_are_404s(client, tokens, question, path):
    assert_problem(client.get(path, headers=tokens["other"]), 404)


@pytest.mark.parametrize("method, suffix, payload", [
    ("PUT", "", {"body": "Αλλαγή."}), ("POST", "/answers", {"body": "Απάντηση."}), ("POST", "/vote", {"value": 1})])
def test_writes_to_impossible_question_ids_are_404s(client, tokens, question, method, suffix, payload):
    for number in (99999, 2**31, 10**30):
        assert_problem(client.open(f"/api/v1/questions/{number}{suffix}", method=method, json=payload,
                                   headers=tokens["other"]), 404)
    for number in (99999, 10**30):
        assert_problem(client.post(f"/api/v1/answers/{number}/vote", json={"value": 1}, headers=tokens["other"]), 404)
        assert_problem(client.post(f"/api/v1/answers/{number}/accept", headers=tokens["asker"]), 404)


# Asking and editing --------------------------------------------------------------------------------

def test_ask_answers_201_with_its_location(client, tokens):
    response = ask(client, tokens["asker"], tags=["Μισθοδοσία", " ΜΙΣΘΟΔΟΣΙΑ ", "υπερωρίες"],
                   title=f"  {TITLE}  ", body="Ποιο **έντυπο**;")
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.json
    assert set(data) == DETAIL_FIELDS
    assert (data["title"], data["author"], data["tags"], data["revision"]) == (
        TITLE, "asker", ["Μισθοδοσία", "υπερωρίες"], 1)
    assert (data["language"], data["visibility"], data["community"]) == ("el", "internal", None)  # the defaults
    assert data["html"] == "<p>Ποιο <strong>έντυπο</strong>;</p>"
    assert (data["answers"], data["comments"], data["my_vote"]) == ([], [], 0)
    assert response.headers["Location"] == data["url"] == f"/api/v1/questions/{data['id']}"
    assert client.get(response.headers["Location"], headers=tokens["other"]).json == data


def test_ask_in_a_community_and_in_english(client, tokens):
    from qa.models import Community

    community = Community(slug="promithies", name="Προμήθειες")
    db.session.add(community)
    db.session.commit()
    response = ask(client, tokens["asker"], title="How are small purchases approved?", language="en",
                   visibility="public", community=community.id)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert (response.json["language"], response.json["visibility"], response.json["community"]) == (
        "en", "public", community.id)


def test_the_author_edits_and_every_revision_is_kept(client, tokens, question):
    url = f"/api/v1/questions/{question.id}"
    response = client.put(url, json={"body": "Ποιο έντυπο, και μέχρι πότε;", "summary": "προθεσμία",
                                     "base_revision": 1}, headers=tokens["asker"])
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.json
    assert (data["revision"], data["body"], data["title"], data["tags"]) == (
        2, "Ποιο έντυπο, και μέχρι πότε;", TITLE, ["Μισθοδοσία"])  # what was not sent is kept
    response = client.put(url, json={"tags": [], "visibility": "public"}, headers=tokens["mod"])
    assert response.status_code == 200 and (response.json["revision"], response.json["tags"]) == (3, [])
    assert [r.summary for r in services.revisions(db.session.get(Question, question.id))] == ["", "προθεσμία", ""]


def test_editing_someone_elses_question_is_403(client, tokens, question):
    before = db_state()
    body = assert_problem(client.put(f"/api/v1/questions/{question.id}", json={"body": "Δικό μου τώρα."},
                                     headers=tokens["other"]), 403)
    assert "author" in body["detail"]
    assert db_state() == before


def test_editing_from_a_stale_revision_is_409(client, tokens, question):
    url = f"/api/v1/questions/{question.id}"
    assert client.put(url, json={"body": "Δεύτερη.", "base_revision": 1}, headers=tokens["asker"]).status_code == 200
    before = db_state()
    body = assert_problem(client.put(url, json={"body": "Από παλιά.", "base_revision": 1}, headers=tokens["mod"]), 409)
    assert body["current_revision"] == 2
    for base in ("2", True, 2.0, [2]):
        assert assert_problem(client.put(url, json={"body": "x", "base_revision": base},
                                         headers=tokens["asker"]), 400)["field"] == "base_revision"
    assert db_state() == before


def test_a_locked_question_is_edited_only_by_moderators(client, tokens, people, question):
    moderation.lock(people["mod"], question, "Διαφωνίες")
    db.session.commit()
    url = f"/api/v1/questions/{question.id}"
    before = db_state()
    assert_problem(client.put(url, json={"body": "Αλλαγή."}, headers=tokens["asker"]), 409)
    assert db_state() == before
    assert client.put(url, json={"body": "Από συντονιστή."}, headers=tokens["mod"]).status_code == 200


# Answering ---------------------------------------------------------------------------------------

def test_answer_answers_201_with_its_location(client, tokens, question):
    response = client.post(f"/api/v1/questions/{question.id}/answers", json={"body": "Με το *Ε4*."},
                           headers=tokens["helper"])
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.json
    assert set(data) == ANSWER_FIELDS
    assert (data["question"], data["author"], data["body"], data["html"], data["score"], data["accepted"]) == (
        question.id, "helper", "Με το *Ε4*.", "<p>Με το <em>Ε4</em>.</p>", 0, False)
    assert response.headers["Location"] == data["url"] == f"/api/v1/answers/{data['id']}"
    assert client.get(data["url"], headers=tokens["other"]).json == data
    assert client.get(f"/api/v1/questions/{question.id}", headers=tokens["other"]).json["answer_count"] == 1


def test_a_closed_question_takes_no_answers_and_says_why(client, tokens, people, question):
    moderation.close(people["mod"], question, "Εκτός θέματος")
    db.session.commit()
    before = db_state()
    body = assert_problem(client.post(f"/api/v1/questions/{question.id}/answers", json={"body": "Απάντηση."},
                                      headers=tokens["helper"]), 409, sentence=False)  # it ends with the reason
    assert "closed" in body["detail"] and "Εκτός θέματος" in body["detail"]
    assert db_state() == before
    data = client.get(f"/api/v1/questions/{question.id}", headers=tokens["helper"]).json
    assert (data["closed"], data["closed_reason"]) == (True, "Εκτός θέματος")


def test_a_locked_question_takes_no_answers_votes_or_acceptance(client, tokens, people, question, reply):
    moderation.lock(people["mod"], question, "Διαφωνίες")
    db.session.commit()
    before = db_state()
    body = assert_problem(client.post(f"/api/v1/questions/{question.id}/answers", json={"body": "Απάντηση."},
                                      headers=tokens["other"]), 409)
    assert "locked" in body["detail"]
    assert_problem(client.post(f"/api/v1/answers/{reply.id}/vote", json={"value": 1}, headers=tokens["other"]), 409)
    assert_problem(client.post(f"/api/v1/questions/{question.id}/vote", json={"value": 1},
                               headers=tokens["other"]), 409)
    assert_problem(client.post(f"/api/v1/answers/{reply.id}/accept", headers=tokens["asker"]), 409)
    assert db_state() == before
    assert client.get(f"/api/v1/questions/{question.id}", headers=tokens["other"]).json["locked"] is True


# Accepting ---------------------------------------------------------------------------------------

def test_the_asker_accepts_and_takes_it_back(client, tokens, question, reply):
    url = f"/api/v1/answers/{reply.id}/accept"
    response = client.post(url, headers=tokens["asker"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["accepted"] is True and set(response.json) == ANSWER_FIELDS
    assert client.get(f"/api/v1/questions/{question.id}", headers=tokens["other"]).json["accepted_answer"] == reply.id
    assert client.post(url, json={}, headers=tokens["asker"]).status_code == 200  # again: no change
    response = client.delete(url, headers=tokens["asker"])
    assert response.status_code == 200 and response.json["accepted"] is False
    assert client.get(f"/api/v1/questions/{question.id}", headers=tokens["other"]).json["accepted_answer"] is None
    body = assert_problem(client.delete(url, headers=tokens["asker"]), 409)
    assert "not the accepted" in body["detail"]


def test_a_moderator_may_accept_someone_else_may_not(client, tokens, question, reply):
    url = f"/api/v1/answers/{reply.id}/accept"
    before = db_state()
    for name in ("other", "helper"):  # not even the answer's author
        body = assert_problem(client.post(url, headers=tokens[name]), 403)
        assert "Only the person who asked" in body["detail"]
    assert db_state() == before
    assert client.post(url, headers=tokens["mod"]).json["accepted"] is True
    assert_problem(client.delete(url, headers=tokens["other"]), 403)
    assert client.delete(url, headers=tokens["mod"]).json["accepted"] is False


def test_accept_takes_no_fields(client, tokens, reply):
    before = db_state()
    for raw in (b'{"value": 1}', b"[]", b"{", b"null"):
        assert_problem(client.post(f"/api/v1/answers/{reply.id}/accept", data=raw, content_type="application/json",
                                   headers=tokens["asker"]), 400)
    assert db_state() == before


# Voting ------------------------------------------------------------------------------------------

def test_votes_on_questions_and_answers(client, tokens, question, reply):
    question_url, answer_url = f"/api/v1/questions/{question.id}/vote", f"/api/v1/answers/{reply.id}/vote"
    assert client.post(answer_url, json={"value": 1}, headers=tokens["other"]).json == {"score": 1, "vote": 1}
    assert client.post(answer_url, json={"value": 1}, headers=tokens["other"]).json == {"score": 1, "vote": 1}
    assert client.post(answer_url, json={"value": 1}, headers=tokens["asker"]).json == {"score": 2, "vote": 1}
    assert client.post(answer_url, json={"value": -1}, headers=tokens["other"]).json == {"score": 0, "vote": -1}
    assert client.post(answer_url, json={"value": 0}, headers=tokens["other"]).json == {"score": 1, "vote": 0}
    assert client.post(question_url, json={"value": -1}, headers=tokens["helper"]).json == {"score": -1, "vote": -1}
    data = client.get(f"/api/v1/questions/{question.id}", headers=tokens["helper"]).json
    assert (data["score"], data["my_vote"], data["answers"][0]["score"]) == (-1, -1, 1)


def test_voting_on_your_own_is_403(client, tokens, question, reply):
    before = db_state()
    body = assert_problem(client.post(f"/api/v1/questions/{question.id}/vote", json={"value": 1},
                                      headers=tokens["asker"]), 403)
    assert "yourself" in body["detail"]
    assert_problem(client.post(f"/api/v1/answers/{reply.id}/vote", json={"value": 1}, headers=tokens["helper"]), 403)
    assert db_state() == before


@pytest.mark.parametrize("payload", [{"value": 2}, {"value": -2}, {"value": "1"}, {"value": True}, {"value": 1.0},
                                     {"value": None}, {"value": [1]}, {"value": 10**30}, {}, {"value": 1, "x": 1}])
def test_a_bad_vote_is_400(client, tokens, question, reply, payload):
    before = db_state()
    for url in (f"/api/v1/questions/{question.id}/vote", f"/api/v1/answers/{reply.id}/vote"):
        body = assert_problem(client.post(url, json=payload, headers=tokens["other"]), 400)
        assert body["field"] in ("value", "x")
    assert db_state() == before


# Tokens ------------------------------------------------------------------------------------------

def write_requests(question_id: int, answer_id: int) -> list[tuple[str, str, dict | None]]:
    """Every API request of Q&A that changes something, with a valid body."""
    return [
        ("POST", "/api/v1/questions", {"title": TITLE, "body": "Κείμενο."}),
        ("PUT", f"/api/v1/questions/{question_id}", {"body": "Αλλαγή."}),
        ("POST", f"/api/v1/questions/{question_id}/answers", {"body": "Απάντηση."}),
        ("POST", f"/api/v1/questions/{question_id}/vote", {"value": 1}),
        ("POST", f"/api/v1/answers/{answer_id}/vote", {"value": 1}),
        ("POST", f"/api/v1/answers/{answer_id}/accept", None),
        ("DELETE", f"/api/v1/answers/{answer_id}/accept", None),
    ]


def test_writes_without_a_token_are_401(client, question, reply):
    question.visibility = "public"
    db.session.commit()
    assert client.get(f"/api/v1/questions/{question.id}").status_code == 200  # reading needs none
    before = db_state()
    for method, path, payload in write_requests(question.id, reply.id):
        assert_problem(client.open(path, method=method, json=payload), 401)
    assert db_state() == before


def test_writes_with_a_read_token_are_403(client, people, make_token, question, reply):
    read = {**make_token(people["asker"], "read"), "Accept-Language": "en"}
    assert client.get(f"/api/v1/questions/{question.id}", headers=read).status_code == 200
    assert client.get("/api/v1/questions", headers=read).json["total"] == 1
    before = db_state()
    for method, path, payload in write_requests(question.id, reply.id):
        body = assert_problem(client.open(path, method=method, json=payload, headers=read), 403)
        assert "only read" in body["detail"]
    assert db_state() == before


@pytest.mark.parametrize("header", ["Bearer knet_not-a-real-token", "Basic bWFyaWE6cGFzcw=="])
def test_unknown_or_malformed_token_is_401(client, question, reply, header):
    assert_problem(client.get("/api/v1/questions", headers={"Authorization": header}), 401)
    before = db_state()
    for method, path, payload in write_requests(question.id, reply.id):
        assert_problem(client.open(path, method=method, json=payload, headers={"Authorization": header}), 401)
    assert db_state() == before


# Bad input never changes anything --------------------------------------------------------------

MALFORMED = [b"{", b"{'title': 'x'}", b"", b"\xff\xfe", b"[" * 100_000, b'{"title": "a",}', b"NaN garbage", b"[]",
             b'"title"', b"3", b"null"]


def test_malformed_json_or_not_an_object_is_a_400(client, tokens, question, reply, subtests):
    before = db_state()
    for raw in MALFORMED:
        with subtests.test(raw=raw[:20]):
            for method, path, _payload in write_requests(question.id, reply.id):
                if method == "DELETE" or (path.endswith("/accept") and not raw):
                    continue  # takes no body: an empty one is right
                response = client.open(path, method=method, data=raw, content_type="application/json",
                                       headers=tokens["asker"])
                assert_problem(response, (400, 403))  # voting on your own question is refused either way
    assert db_state() == before


def test_unknown_fields_are_named(client, tokens, question):
    before = db_state()
    body = assert_problem(ask(client, tokens["asker"], colour="blue"), 400)
    assert body["field"] == "colour" and "colour" in body["detail"]
    body = assert_problem(client.put(f"/api/v1/questions/{question.id}", json={"body": "x", "author": "other"},
                                     headers=tokens["asker"]), 400)
    assert body["field"] == "author"
    assert assert_problem(ask(client, tokens["asker"], summary="πρώτη"), 400)["field"] == "summary"
    body = assert_problem(client.post(f"/api/v1/questions/{question.id}/answers", json={"body": "x", "score": 5},
                                      headers=tokens["helper"]), 400)
    assert body["field"] == "score"
    assert db_state() == before


@pytest.mark.parametrize("fields", [{"title": TITLE}, {"body": "Κείμενο."}])
def test_a_missing_required_field_is_named(client, tokens, question, fields):
    before = db_state()
    body = assert_problem(client.post("/api/v1/questions", json=fields, headers=tokens["asker"]), 400)
    missing = ({"title", "body"} - set(fields)).pop()
    assert body["field"] == missing and missing in body["detail"]
    body = assert_problem(client.post(f"/api/v1/questions/{question.id}/answers", json={}, headers=tokens["helper"]),
                          400)
    assert body["field"] == "body"
    assert db_state() == before


INVALID_FIELDS = [
    ({"title": ""}, "title"),
    ({"title": "Γιατί;"}, "title"),
    ({"title": "α" * 201}, "title"),
    ({"title": 5}, "title"),
    ({"title": None}, "title"),
    ({"title": ["a"]}, "title"),
    ({"body": "   "}, "body"),
    ({"body": 5}, "body"),
    ({"body": {"text": "x"}}, "body"),
    ({"tags": "Μισθοδοσία"}, "tags"),
    ({"tags": [1, 2]}, "tags"),
    ({"tags": [["a"]]}, "tags"),
    ({"tags": None}, "tags"),
    ({"tags": ["<script>"]}, "tags"),
    ({"tags": [f"tag{n}" for n in range(11)]}, "tags"),
    ({"tags": ["α" * 51]}, "tags"),
    ({"language": "fr"}, "language"),
    ({"language": 1}, "language"),
    ({"language": ["el"]}, "language"),
    ({"visibility": "everyone"}, "visibility"),
    ({"visibility": True}, "visibility"),
    ({"community": "1"}, "community"),
    ({"community": True}, "community"),
    ({"community": 1.5}, "community"),
    ({"community": 99999}, "community"),
    ({"community": 10**30}, "community"),
    ({"community": -(10**30)}, "community"),
    ({"title": f"{TITLE}\x00"}, "title"),
    ({"body": "α\x00β"}, "body"),
    ({"body": "σπασμένο \udfff"}, "body"),
    ({"tags": ["α\x00"]}, "tags"),
]


def test_invalid_fields_are_400s_naming_the_field(client, tokens, question, subtests):
    before = db_state()
    for fields, field in INVALID_FIELDS:
        with subtests.test(fields=repr(fields)[:60]):
            body = assert_problem(ask(client, tokens["asker"], **fields), 400)
            assert body.get("field") == field
            body = assert_problem(client.put(f"/api/v1/questions/{question.id}", json=fields,
                                             headers=tokens["asker"]), 400)
            assert body.get("field") == field
    for body_value in ("", "   ", 5, None, "α\x00β", "\ud800"):
        with subtests.test(answer=repr(body_value)):
            body = assert_problem(client.post(f"/api/v1/questions/{question.id}/answers", json={"body": body_value},
                                              headers=tokens["helper"]), 400)
            assert body["field"] == "body"
    for summary in (3, "x" * 501, "\x00"):
        body = assert_problem(client.put(f"/api/v1/questions/{question.id}", json={"summary": summary},
                                         headers=tokens["asker"]), 400)
        assert body["field"] == "summary"
    assert db_state() == before


def test_oversized_text_is_413(client, tokens, question):
    before = db_state()
    just_over = "a" * (512 * 1024 + 1)
    assert "512 KiB" in assert_problem(ask(client, tokens["asker"], body=just_over), 413)["detail"]
    assert_problem(client.post(f"/api/v1/questions/{question.id}/answers", json={"body": just_over},
                               headers=tokens["helper"]), 413)
    assert_problem(ask(client, tokens["asker"], body="a" * (4 * 1024 * 1024)), 413)
    assert db_state() == before


# Votes at the same moment, through HTTP ---------------------------------------------------------------

def _vote_at_once(app, votes: list[tuple[dict, int]], path: str) -> list:
    """Every (token header, value) votes through its own client in its own thread, all released together."""
    start, responses, lock = threading.Barrier(len(votes)), [], threading.Lock()

    def cast(headers: dict, value: int) -> None:
        client = app.test_client()
        start.wait()
        response = client.post(path, json={"value": value}, headers=headers)
        with lock:
            responses.append(response)

    db.session.rollback()  # the test's own session holds nothing while the votes run
    threads = [threading.Thread(target=cast, args=vote) for vote in votes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(responses) == len(votes), "a vote never answered"
    return responses


def _refused_properly(responses) -> list:
    """The refused votes, each checked to be a problem the client can act on (never a 500)."""
    refused = [r for r in responses if r.status_code != 200]
    for response in refused:
        assert_problem(response, (409, 503))
    return refused


@pytest.mark.parametrize("target", ["answer", "question"])
def test_concurrent_votes_through_the_api_count_once_each(app, make_user, make_token, people, question, reply,
                                                          database_kind, target):
    voters = [make_token(make_user(f"voter{n}", role="reader"), "write") for n in range(8)]
    path = f"/api/v1/answers/{reply.id}/vote" if target == "answer" else f"/api/v1/questions/{question.id}/vote"
    # Eight people vote once each, and one of them also clicks four more times at the same moment.
    responses = _vote_at_once(app, [(headers, 1) for headers in voters] + [(voters[0], 1)] * 4, path)
    refused = _refused_properly(responses)
    db.session.expire_all()
    column = Vote.answer_id if target == "answer" else Vote.question_id
    rows = db.session.scalars(select(Vote).where(column == (reply.id if target == "answer" else question.id))).all()
    item = db.session.get(Answer, reply.id) if target == "answer" else db.session.get(Question, question.id)
    assert len(rows) == len({row.user_id for row in rows})  # one row per person, whatever happened
    assert item.score == sum(row.value for row in rows) == len(rows)
    for response in responses:
        if response.status_code == 200:
            assert response.json["vote"] == 1 and 1 <= response.json["score"] <= len(voters)
    if database_kind == "postgresql":
        # Row locks make every vote wait its turn: nothing fails and everyone counts.
        assert refused == [] and len(rows) == len(voters)
    else:
        # SQLite lets one writer in at a time; a refused vote is a problem the person can repeat, never a double
        # count, and only the repeated clicks of one person may be refused without its vote being counted.
        assert len(rows) + len(refused) >= len(voters)


def test_concurrent_changes_of_one_vote_leave_one_vote(app, people, tokens, reply, database_kind):
    values = [1, -1, 1, -1, 0]
    responses = _vote_at_once(app, [(tokens["other"], value) for value in values], f"/api/v1/answers/{reply.id}/vote")
    refused = _refused_properly(responses)
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).select_from(Vote).where(Vote.answer_id == reply.id))
    score = db.session.get(Answer, reply.id).score
    assert count <= 1 and score in (-1, 0, 1)
    assert score == services.my_vote(people["other"], answer=db.session.get(Answer, reply.id))
    if database_kind == "postgresql":
        assert refused == []
    # The vote answered last is the one stored (each answer reports the state its own transaction committed).
    scores = {r.json["score"] for r in responses if r.status_code == 200}
    assert scores <= {-1, 0, 1}


@pytest.mark.parametrize("error, status", [
    (OperationalError("UPDATE qa_answers …", {}, Exception("database is locked")), 503),
    (IntegrityError("INSERT INTO qa_votes …", {}, Exception("UNIQUE constraint failed")), 409),
])
def test_a_vote_the_database_refuses_is_a_problem_to_repeat(client, tokens, reply, monkeypatch, error, status):
    """What SQLite does to a writer that waited too long, or to a second vote inserted at the same moment."""
    def refused(*args, **kwargs):
        raise error

    monkeypatch.setattr(services, "vote", refused)
    before = db_state()
    response = client.post(f"/api/v1/answers/{reply.id}/vote", json={"value": 1}, headers=tokens["other"])
    body = assert_problem(response, status)
    assert body["detail"] == "Your vote could not be saved at the same moment as another; please try again."
    assert (response.headers.get("Retry-After") == "1") == (status == 503)
    assert db_state() == before
    monkeypatch.undo()
    assert client.post(f"/api/v1/answers/{reply.id}/vote", json={"value": 1}, headers=tokens["other"]).json == {
        "score": 1, "vote": 1}


# Description ---------------------------------------------------------------------------------------

def test_openapi_describes_every_qa_rule_and_its_schemas(client, app):
    spec = documented(client, app, "qa_api")
    assert len([rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("qa_api.")]) >= 8
    described = spec["components"]["schemas"]
    assert set(described["Question"]["properties"]) == QUESTION_FIELDS
    assert set(described["QuestionDetail"]["properties"]) | QUESTION_FIELDS == DETAIL_FIELDS
    assert set(described["Answer"]["properties"]) == ANSWER_FIELDS
