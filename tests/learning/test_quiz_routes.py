"""The quiz pages: the questions without their answers, submitting by form, the result with what was
right and why, and every refusal as a page with a sentence."""
from __future__ import annotations

import re

import pytest

from knet.db import db
from learning import progress
from tests.forms import csrf_token


@pytest.fixture
def quiz_course(make_user, make_quiz):
    return make_quiz(make_user("tina", role="trainer"), max_attempts=2)


def _enrol(person, made) -> None:
    progress.enrol(person, made.course)
    db.session.commit()


def _form(made, answers: dict) -> dict:
    data: dict[str, object] = {}
    for kind, value in answers.items():
        data[f"q-{made.questions[kind]}"] = value
    return data


def _right(made) -> dict:
    return _form(made, {"single": made.options["30.000 €"],
                        "multiple": [made.options["Σύμβαση"], made.options["Απόφαση ανάθεσης"]],
                        "truefalse": "true", "numeric": "2,5"})


def test_the_quiz_page_shows_the_questions_but_no_answer(learner, quiz_course, sign_in, client):
    _enrol(learner, quiz_course)
    sign_in(learner)
    page = client.get(f"/learning/courses/{quiz_course.course.id}/quizzes/{quiz_course.quiz}").get_data(as_text=True)
    assert "Ποιο είναι το όριο της <strong>απευθείας ανάθεσης</strong>;" in page
    assert 'type="checkbox"' in page and 'inputmode="decimal"' in page
    for secret in ("Σωστά, για υπηρεσίες.", "Το όριο ορίζει το άρθρο 118.", "correct", "2.5", "2,5"):
        assert secret not in page, secret


def test_answering_right_passes_and_completes_the_course(learner, quiz_course, sign_in, client):
    _enrol(learner, quiz_course)
    lesson = quiz_course.course.modules[0].items[0].key
    progress.open_item(learner, quiz_course.course, lesson)
    db.session.commit()
    sign_in(learner)
    client.set_cookie("knet_lang", "en")
    address = f"/learning/courses/{quiz_course.course.id}/quizzes/{quiz_course.quiz}"
    token = csrf_token(client.get(address).get_data(as_text=True))
    sent = client.post(address, data={"csrf_token": token, **_right(quiz_course)})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/attempts/1")
    result = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Passed" in result and "4 of 4 right (100%)" in result
    assert "You have completed the course." in result
    assert re.search(r'href="/learning/certificates/[\w-]+"', result)
    assert "Σωστά, για υπηρεσίες." in result  # the chosen option's feedback, now that it is submitted


def test_a_wrong_answer_says_why_and_offers_another_try(learner, quiz_course, sign_in, client):
    _enrol(learner, quiz_course)
    sign_in(learner)
    client.set_cookie("knet_lang", "en")
    address = f"/learning/courses/{quiz_course.course.id}/quizzes/{quiz_course.quiz}"
    token = csrf_token(client.get(address).get_data(as_text=True))
    answers = _form(quiz_course, {"single": quiz_course.options["300.000 €"], "truefalse": "false"})
    result = client.get(client.post(address, data={"csrf_token": token, **answers}).headers["Location"])
    page = result.get_data(as_text=True)
    assert "Not passed yet" in page and "0 of 4 right (0%)" in page
    assert "2 questions were left unanswered." in page
    assert "The right answer: 30.000 €" in page and "Αυτό είναι όριο άλλης διαδικασίας." in page
    assert "Try again" in page and "1 attempt left" in page


def test_bad_answers_are_refused_with_a_sentence_and_nothing_is_kept(learner, quiz_course, sign_in, client):
    _enrol(learner, quiz_course)
    sign_in(learner)
    address = f"/learning/courses/{quiz_course.course.id}/quizzes/{quiz_course.quiz}"
    token = csrf_token(client.get(address).get_data(as_text=True))
    for answers in (_form(quiz_course, {"single": "no-such-option"}), _form(quiz_course, {"numeric": "δύο"}),
                    _form(quiz_course, {"single": [quiz_course.options["30.000 €"], quiz_course.options["300.000 €"]]})):
        refused = client.post(address, data={"csrf_token": token, **answers})
        assert refused.status_code == 400
        assert 'role="alert"' in refused.get_data(as_text=True)
    assert client.post(address, data=_right(quiz_course)).status_code == 400  # no CSRF token
    assert client.get(f"{address}/attempts/1").status_code == 404


def test_the_quiz_needs_an_enrolment_and_respects_the_attempts_limit(learner, quiz_course, sign_in, client):
    sign_in(learner)
    address = f"/learning/courses/{quiz_course.course.id}/quizzes/{quiz_course.quiz}"
    assert client.get(address).status_code == 409
    _enrol(learner, quiz_course)
    client.set_cookie("knet_lang", "en")
    for _ in range(2):
        token = csrf_token(client.get(address).get_data(as_text=True))
        client.post(address, data={"csrf_token": token})
    page = client.get(address).get_data(as_text=True)
    assert "You have used every attempt at this quiz." in page and "submit-quiz" not in page
    assert client.post(address, data={"csrf_token": csrf_token(page)}).status_code == 409


def test_unknown_quizzes_and_courses_are_not_found(learner, quiz_course, sign_in, client):
    _enrol(learner, quiz_course)
    sign_in(learner)
    course_id = quiz_course.course.id
    for address in (f"/learning/courses/{course_id}/quizzes/nope", f"/learning/courses/{2**31}/quizzes/x",
                    f"/learning/courses/{course_id}/quizzes/{quiz_course.course.modules[0].items[0].key}"):
        assert client.get(address).status_code == 404, address
