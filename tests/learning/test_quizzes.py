"""Taking quizzes (learning.quizzes): what learners see before answering, grading, attempts and their
limit, feedback after submitting, submissions at the same moment, and the trainers' item analysis."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text

from auth.models import User
from knet.db import db
from knet.errors import Conflict, Forbidden, Invalid, NotFound
from learning import progress, quizzes, structure, versions
from learning.models import Course, QuizAttempt
from learning.structure import OptionInput, QuestionInput


@pytest.fixture(autouse=True)
def english(app):
    """Messages and numbers in English, so the tests still hold once the Greek translations are in."""
    with force_locale("en"):
        yield


def _enrolled(people, course):
    for person in people:
        progress.enrol(person, course)
    db.session.commit()


def _stored_attempts() -> int:
    return db.session.scalar(select(func.count()).select_from(QuizAttempt))


# Before submitting -------------------------------------------------------------------------------

def test_the_quiz_a_learner_sees_holds_no_answers(trainer, learner, make_quiz):
    made = make_quiz(trainer, number=7.389, tolerance=0.125)
    _enrolled([learner], made.course)
    page = quizzes.quiz_for_learner(learner, made.course, made.quiz)
    assert [q.kind for q in page.questions] == ["single", "multiple", "truefalse", "numeric"]
    assert [o.text for o in page.questions[1].options] == ["Σύμβαση", "Απόφαση ανάθεσης", "Προσωπικό σημείωμα"]
    assert [(o.key, o.text) for o in page.questions[2].options] == [("true", "True"), ("false", "False")]
    assert page.questions[3].options == ()
    assert "<strong>απευθείας ανάθεσης</strong>" in page.questions[0].prompt_html
    dumped = json.dumps(asdict(page), ensure_ascii=False)
    for secret in ("correct", "feedback", "tolerance", "7.389", "0.125", "Σωστά", "άρθρο 118", "Όχι, είναι",
                   "Πέντε διά δύο", "Κεντρικό Ηλεκτρονικό"):
        assert secret not in dumped
    assert (page.pass_percent, page.max_attempts, page.attempts_used, page.attempts_left) == (75, 0, 0, None)
    assert (page.best_percent, page.passed, page.may_submit, page.attempt) == (None, False, True, 1)


def test_only_enrolled_learners_see_and_take_a_quiz_and_only_quizzes_are_quizzes(trainer, learner, make_quiz):
    made = make_quiz(trainer)
    with pytest.raises(Conflict, match="Enrol"):
        quizzes.quiz_for_learner(learner, made.course, made.quiz)
    with pytest.raises(Conflict, match="Enrol"):
        quizzes.submit(learner, made.course, made.quiz, made.right_answers())
    with pytest.raises(Conflict):
        quizzes.submit(None, made.course, made.quiz, made.right_answers())
    _enrolled([learner], made.course)
    lesson = made.course.modules[0].items[0].key
    for key in (lesson, "no-such-quiz"):
        with pytest.raises(NotFound):
            quizzes.quiz_for_learner(learner, made.course, key)
        with pytest.raises(NotFound):
            quizzes.submit(learner, made.course, key, {})
    assert _stored_attempts() == 0


def test_shuffled_quizzes_keep_their_order_for_an_attempt_and_change_it_for_the_next(trainer, learner, make_quiz):
    made = make_quiz(trainer, shuffle=True)
    _enrolled([learner], made.course)

    def order():
        page = quizzes.quiz_for_learner(learner, made.course, made.quiz)
        return [(q.key, tuple(o.key for o in q.options)) for q in page.questions]

    orders = []
    for _ in range(8):
        shown = order()
        assert order() == shown  # reloading the page shows the same order
        assert sorted(key for key, _ in shown) == sorted(made.questions.values())
        assert dict(shown)[made.questions["truefalse"]] == ("true", "false")  # true/false are never swapped
        result = quizzes.submit(learner, made.course, made.quiz, made.right_answers())
        assert [q.key for q in result.questions] == [key for key, _ in shown]  # the result follows the order shown
        orders.append(shown)
    assert len(set(map(tuple, orders))) > 1
    seeded = quizzes.quiz_for_learner(learner, made.course, made.quiz, seed="same")
    assert seeded == quizzes.quiz_for_learner(learner, made.course, made.quiz, seed="same")


def test_an_unshuffled_quiz_keeps_the_trainers_order(trainer, learner, make_quiz):
    made = make_quiz(trainer)
    _enrolled([learner], made.course)
    for seed in ("a", "b", "c"):
        page = quizzes.quiz_for_learner(learner, made.course, made.quiz, seed)
        assert [q.key for q in page.questions] == list(made.questions.values())
        assert [o.text for o in page.questions[0].options] == ["30.000 €", "300.000 €"]


# Grading -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, answer, right", [
    ("single", ["30.000 €"], True), ("single", ["300.000 €"], False), ("single", [], False),
    ("multiple", ["Σύμβαση", "Απόφαση ανάθεσης"], True), ("multiple", ["Απόφαση ανάθεσης", "Σύμβαση"], True),
    ("multiple", ["Σύμβαση"], False), ("multiple", ["Σύμβαση", "Απόφαση ανάθεσης", "Προσωπικό σημείωμα"], False),
    ("multiple", ["Σύμβαση", "Σύμβαση", "Απόφαση ανάθεσης"], True),
    ("truefalse", ["true"], True), ("truefalse", ["false"], False),
    ("numeric", 2.5, True), ("numeric", "2,5", True), ("numeric", "2.5", True), ("numeric", " 2,5 ", True),
    ("numeric", "2,6", True), ("numeric", "2.4", True), ("numeric", 2.6, True), ("numeric", "2,61", False),
    ("numeric", 2, False), ("numeric", "-2,5", False), ("numeric", "\u22122,5", False), ("numeric", ",5", False),
    ("numeric", "", False), ("numeric", None, False),
])
def test_each_kind_of_question_is_graded(trainer, learner, make_quiz, kind, answer, right):
    made = make_quiz(trainer)
    _enrolled([learner], made.course)
    if kind != "numeric":
        answer = [made.options[text] for text in answer]
    result = quizzes.submit(learner, made.course, made.quiz, {made.questions[kind]: answer})
    marked = {q.kind: q for q in result.questions}
    assert marked[kind].right is right
    assert [q.right for q in result.questions if q.kind != kind] == [False, False, False]  # unanswered
    assert (result.percent, result.passed) == ((25, False) if right else (0, False))


def test_a_number_needs_an_exact_tolerance_of_zero(trainer, learner, make_quiz):
    made = make_quiz(trainer, number=0.3, tolerance=0)
    _enrolled([learner], made.course)
    numeric = made.questions["numeric"]
    assert quizzes.submit(learner, made.course, made.quiz, {numeric: "0,3"}).questions[3].right
    assert not quizzes.submit(learner, made.course, made.quiz, {numeric: "0,31"}).questions[3].right


def test_the_score_the_pass_mark_and_what_was_unanswered(trainer, learner, make_quiz):
    made = make_quiz(trainer, pass_percent=75)
    _enrolled([learner], made.course)
    answers = made.right_answers()
    del answers[made.questions["numeric"]]
    result = quizzes.submit(learner, made.course, made.quiz, answers)
    assert (result.right, result.percent, result.passed, result.number) == (3, 75, True, 1)
    assert [q.key for q in result.unanswered] == [made.questions["numeric"]]
    answers[made.questions["truefalse"]] = ["false"]
    answers[made.questions["single"]] = []
    result = quizzes.submit(learner, made.course, made.quiz, answers)
    assert (result.right, result.percent, result.passed, result.number) == (1, 25, False, 2)
    assert {q.kind for q in result.unanswered} == {"single", "numeric"}
    stored = quizzes.attempts(learner, made.course, made.quiz)
    assert [(a.number, a.percent, a.passed, a.version) for a in stored] == [(1, 75, True, 1), (2, 25, False, 1)]
    assert stored[1].marks == {made.questions["single"]: False, made.questions["multiple"]: True,
                               made.questions["truefalse"]: False, made.questions["numeric"]: False}
    assert made.questions["single"] not in stored[1].answers
    page = quizzes.quiz_for_learner(learner, made.course, made.quiz)
    assert (page.attempts_used, page.best_percent, page.passed) == (2, 75, True)


def test_after_submitting_the_learner_sees_what_was_right_and_why(trainer, learner, make_quiz):
    made = make_quiz(trainer)
    _enrolled([learner], made.course)
    result = quizzes.submit(learner, made.course, made.quiz, {
        made.questions["single"]: [made.options["300.000 €"]],
        made.questions["multiple"]: [made.options["Σύμβαση"], made.options["Προσωπικό σημείωμα"]],
        made.questions["truefalse"]: ["true"], made.questions["numeric"]: "2,55"})
    single, multiple, truefalse, numeric = result.questions
    assert (single.right, single.chosen, single.right_answer) == (False, ("300.000 €",), ("30.000 €",))
    assert single.feedback == ("Το όριο ορίζει το άρθρο 118.", "Αυτό είναι όριο άλλης διαδικασίας.")
    assert multiple.chosen == ("Σύμβαση", "Προσωπικό σημείωμα")
    assert multiple.right_answer == ("Σύμβαση", "Απόφαση ανάθεσης")
    assert multiple.feedback == ("Αναρτώνται οι πράξεις.", "Ναι, πάντα.", "Όχι, είναι προσωπικό.")
    assert (truefalse.right, truefalse.chosen, truefalse.right_answer) == (True, ("True",), ("True",))
    assert truefalse.feedback == ("Κεντρικό Ηλεκτρονικό Μητρώο Δημοσίων Συμβάσεων.",)
    assert (numeric.right, numeric.chosen, numeric.right_answer) == (True, ("2.55",), ("2.5 ± 0.1",))
    assert numeric.feedback == ("Πέντε διά δύο.",)
    with force_locale("el"):  # Greek readers see decimal commas
        again = quizzes.attempt_result(learner, made.course, made.quiz, 1).questions[3]
    assert (again.chosen, again.right_answer) == (("2,55",), ("2,5 ± 0,1",))
    # The same attempt can be shown again later (after a redirect), even once a new version is out.
    structure.delete_question(trainer, made.course.modules[0].items[-1].questions[0])
    versions.publish(trainer, made.course, "Χωρίς την πρώτη ερώτηση")
    assert quizzes.attempt_result(learner, made.course, made.quiz, 1).questions == result.questions
    for number in (2, 0, 2**63):
        with pytest.raises(NotFound):
            quizzes.attempt_result(learner, made.course, made.quiz, number)


# Bad answers -------------------------------------------------------------------------------------

def _q(kind: str, answer):
    """Answers to one question of make_quiz's quiz, built once it exists."""
    return lambda made: {made.questions[kind]: answer(made) if callable(answer) else answer}


BAD_ANSWERS = {
    "a list": (lambda made: [], "pairs of a question"),
    "text": (lambda made: "everything right", "pairs of a question"),
    "nothing": (lambda made: None, "pairs of a question"),
    "a question of another quiz": (lambda made: {"0123456789abcdef": ["true"]}, "no question “0123456789abcdef”"),
    "an option of another question": (_q("single", lambda made: [made.options["Σύμβαση"]]), "has no option"),
    "an invented option": (_q("truefalse", ["maybe"]), "has no option “maybe”"),
    "two options of a single choice": (
        _q("single", lambda made: [made.options["30.000 €"], made.options["300.000 €"]]), "only one answer"),
    "both true and false": (_q("truefalse", ["true", "false"]), "only one answer"),
    "a bare option key": (_q("single", lambda made: made.options["30.000 €"]), "a list of the keys"),
    "true/false as a boolean": (_q("truefalse", True), "a list of the keys"),
    "true/false as text": (_q("truefalse", "true"), "a list of the keys"),
    "a number for a choice": (_q("multiple", 2), "a list of the keys"),
    "a list of numbers": (_q("multiple", [1, 2]), "a list of the keys"),
    "a list for a number": (_q("numeric", ["2,5"]), "must be a number"),
    "a boolean for a number": (_q("numeric", True), "must be a number"),
    "an object for a number": (_q("numeric", {"value": 2.5}), "must be a number"),
    "words for a number": (_q("numeric", "δυόμισι"), "must be a number"),
    "NaN": (_q("numeric", float("nan")), "must be a number"),
    "infinity": (_q("numeric", float("-inf")), "must be a number"),
    "infinity as text": (_q("numeric", "inf"), "must be a number"),
    "NaN as text": (_q("numeric", "NaN"), "must be a number"),
    "an exponent": (_q("numeric", "1e3"), "must be a number"),
    "two separators": (_q("numeric", "1.000,5"), "must be a number"),
    "underscores": (_q("numeric", "2_5"), "must be a number"),
    "a huge whole number": (_q("numeric", 10**400), "must be a number"),
    "a huge typed number": (_q("numeric", "9" * 400), "must be a number"),
}


@pytest.mark.parametrize("case", BAD_ANSWERS)
def test_bad_answers_are_refused_with_a_sentence_naming_the_problem(trainer, learner, make_quiz, case):
    made = make_quiz(trainer)
    _enrolled([learner], made.course)
    build, sentence = BAD_ANSWERS[case]
    with pytest.raises(Invalid) as refused:
        quizzes.submit(learner, made.course, made.quiz, build(made))
    assert sentence in refused.value.message and refused.value.message.endswith(".")
    assert _stored_attempts() == 0
    assert quizzes.quiz_for_learner(learner, made.course, made.quiz).attempts_used == 0


def test_a_refused_answer_names_the_question(trainer, learner, make_quiz):
    made = make_quiz(trainer)
    _enrolled([learner], made.course)
    with pytest.raises(Invalid) as refused:
        quizzes.submit(learner, made.course, made.quiz, {made.questions["numeric"]: "πολλά"})
    assert refused.value.message == "The answer to “Πόσο κάνει 5 / 2;” must be a number, such as 2,5."
    assert refused.value.extra["field"] == made.questions["numeric"]


# Attempts ----------------------------------------------------------------------------------------

def test_the_attempts_limit_allows_retakes_until_it_is_reached(trainer, learner, make_quiz):
    made = make_quiz(trainer, max_attempts=3)
    _enrolled([learner], made.course)
    wrong = {made.questions["truefalse"]: ["false"]}
    first = quizzes.submit(learner, made.course, made.quiz, made.right_answers())
    assert (first.number, first.percent, first.passed, first.attempts_left) == (1, 100, True, 2)
    second = quizzes.submit(learner, made.course, made.quiz, wrong)  # passed already: retaking is allowed
    assert (second.number, second.passed, second.attempts_left) == (2, False, 1)
    assert quizzes.submit(learner, made.course, made.quiz, wrong).attempts_left == 0
    with pytest.raises(Conflict) as refused:
        quizzes.submit(learner, made.course, made.quiz, made.right_answers())
    assert refused.value.message == "You have had all 3 attempts at “Τεστ προμηθειών”."
    with pytest.raises(Conflict, match="all 3 attempts"):  # out of attempts: even bad answers get this answer
        quizzes.submit(learner, made.course, made.quiz, "garbage")
    page = quizzes.quiz_for_learner(learner, made.course, made.quiz)
    assert (page.attempts_used, page.attempts_left, page.may_submit, page.best_percent, page.passed) == (
        3, 0, False, 100, True)
    assert [a.number for a in quizzes.attempts(learner, made.course, made.quiz)] == [1, 2, 3]
    assert _stored_attempts() == 3


def test_a_single_attempt_is_named_as_such(trainer, learner, make_quiz):
    made = make_quiz(trainer, max_attempts=1)
    _enrolled([learner], made.course)
    quizzes.submit(learner, made.course, made.quiz, {})
    with pytest.raises(Conflict) as refused:
        quizzes.submit(learner, made.course, made.quiz, {})
    assert refused.value.message == "You have had your 1 attempt at “Τεστ προμηθειών”, the only one allowed."


def test_each_learner_sees_only_their_own_attempts(trainer, learner, make_user, make_quiz):
    made = make_quiz(trainer, max_attempts=1)
    other = make_user("olga", role="reader")
    _enrolled([learner, other], made.course)
    quizzes.submit(learner, made.course, made.quiz, made.right_answers())
    assert quizzes.attempts(other, made.course, made.quiz) == []
    assert quizzes.submit(other, made.course, made.quiz, {}).number == 1  # the limit is per learner
    with pytest.raises(NotFound):
        quizzes.attempt_result(other, made.course, made.quiz, 2)
    assert quizzes.attempt_result(other, made.course, made.quiz, 1).percent == 0


def test_passing_the_quiz_after_reading_every_lesson_completes_the_course(trainer, learner, make_user, make_course):
    course = make_course(trainer)  # two lessons and a quiz: one single-choice and one true/false question
    enrolment, _ = progress.enrol(learner, course)
    quiz = course.modules[0].items[-1]
    single, truefalse = quiz.questions
    right = next(option["key"] for option in single.options if option["correct"])
    wrong = next(option["key"] for option in single.options if not option["correct"])
    result = quizzes.submit(learner, course, quiz.key, {single.key: [right], truefalse.key: ["true"]})
    assert result.passed and not result.course_completed  # the lessons are not read yet
    for lesson in course.modules[0].items[:-1]:
        progress.open_item(learner, course, lesson.key)
    assert enrolment.completed_at is not None  # the quiz was passed already: reading the last lesson completes it

    other, _ = progress.enrol(make_user("olga", role="reader"), course)
    for lesson in course.modules[0].items[:-1]:
        progress.open_item(other.user, course, lesson.key)
    failed = quizzes.submit(other.user, course, quiz.key, {single.key: [wrong], truefalse.key: ["false"]})
    assert (failed.percent, failed.passed, failed.course_completed, other.completed_at) == (0, False, False, None)
    passed = quizzes.submit(other.user, course, quiz.key, {single.key: [right]})  # 50% is the pass mark
    assert (passed.percent, passed.passed, passed.course_completed) == (50, True, True)
    assert other.completed_at is not None
    assert progress.outline(course, other).complete


# Item analysis -----------------------------------------------------------------------------------

def test_item_analysis_shows_which_questions_learners_get_wrong(trainer, make_user, make_quiz):
    made = make_quiz(trainer)
    ann, bob, cleo, dora, eve = (make_user(name, role="reader") for name in ("ann", "bob", "cleo", "dora", "eve"))
    _enrolled([ann, bob, cleo, dora, eve], made.course)
    right, q = made.right_answers(), made.questions
    quizzes.submit(ann, made.course, made.quiz, right)  # 100%
    quizzes.submit(bob, made.course, made.quiz, {**right, q["single"]: [made.options["300.000 €"]],
                                                 q["numeric"]: ""})  # 50%, the number unanswered
    quizzes.submit(bob, made.course, made.quiz, right)  # 100%
    quizzes.submit(cleo, made.course, made.quiz, {**right, q["single"]: [made.options["300.000 €"]],
                                                  q["multiple"]: [made.options["Σύμβαση"]]})  # 50%
    quizzes.submit(dora, made.course, made.quiz, {})  # 0%, nothing answered
    (stats,) = quizzes.item_analysis(trainer, made.course)
    assert (stats.key, stats.title, stats.attempts, stats.learners, stats.learners_passed) == (
        made.quiz, "Τεστ προμηθειών", 5, 4, 2)
    assert (stats.average_percent, stats.pass_rate) == (60, 40)
    assert [(s.kind, s.position, s.attempts, s.wrong, s.wrong_percent, s.unanswered) for s in stats.questions] == [
        ("single", 1, 5, 3, 60, 1), ("multiple", 2, 5, 2, 40, 1), ("numeric", 4, 5, 2, 40, 2),
        ("truefalse", 3, 5, 1, 20, 1)]

    # A new version drops the true/false question and adds one; the others keep their numbers by key.
    quiz = made.course.modules[0].items[-1]
    structure.delete_question(trainer, next(question for question in quiz.questions if question.kind == "truefalse"))
    added = structure.add_question(trainer, quiz, QuestionInput(kind="single", prompt="Ποιος υπογράφει;", options=[
        OptionInput("Ο δήμαρχος", True), OptionInput("Ο κλητήρας")]))
    versions.publish(trainer, made.course, "Νέα ερώτηση")
    quizzes.submit(eve, made.course, made.quiz, {q["single"]: right[q["single"]],
                                                 added.key: [added.options[1]["key"]]})  # 25%
    (stats,) = quizzes.item_analysis(trainer, made.course)
    assert (stats.attempts, stats.learners, stats.average_percent, stats.pass_rate) == (6, 5, 54, 33)
    assert [(s.key, s.attempts, s.wrong) for s in stats.questions] == [
        (added.key, 1, 1), (q["single"], 6, 3), (q["multiple"], 6, 3), (q["numeric"], 6, 3)]


def test_item_analysis_is_for_the_course_trainers(trainer, make_user, make_quiz, make_course):
    made = make_quiz(trainer)
    for outsider in (make_user("rita", role="reader"), make_user("otto", role="trainer")):
        with pytest.raises(Forbidden):
            quizzes.item_analysis(outsider, made.course)
    (stats,) = quizzes.item_analysis(make_user("ada", role="admin"), made.course)
    assert (stats.attempts, stats.average_percent, stats.pass_rate) == (0, None, None)
    assert [s.wrong_percent for s in stats.questions] == [0, 0, 0, 0]
    assert quizzes.item_analysis(trainer, make_course(trainer, "Πρόχειρο", publish=False)) == []
    assert quizzes.item_analysis(trainer, make_course(trainer, "Χωρίς τεστ", quiz=False)) == []


# Submissions at the same moment ------------------------------------------------------------------

def _submit(app, username: str, course_id: int, quiz_key: str, answers: dict, outcomes: list,
            before_commit: threading.Event | None = None, flushed: threading.Event | None = None,
            start: threading.Barrier | None = None) -> None:
    """Submit in a thread of its own, with its own connection and transaction, as a second request would."""
    with app.app_context(), force_locale("en"):
        try:
            actor = User.by_username(username)
            course = db.session.get(Course, course_id)
            if start is not None:
                start.wait()
            result = quizzes.submit(actor, course, quiz_key, answers)
            if flushed is not None:
                flushed.set()
                before_commit.wait(30)
            db.session.commit()
            outcomes.append(result.number)
        except Exception as exc:  # noqa: BLE001 - every failure is reported by the test
            db.session.rollback()
            outcomes.append(f"{type(exc).__name__}: {exc}")
        finally:
            if flushed is not None:
                flushed.set()
            db.session.remove()


def _wait_until_blocked(database_kind: str) -> None:
    """Until another connection waits for a lock (PostgreSQL shows it; on SQLite, give it a moment)."""
    if database_kind != "postgresql":
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = db.session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))
        db.session.rollback()  # PostgreSQL shows the same activity for the rest of a transaction
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("The second submission never waited for the first.")


def test_a_second_submission_at_the_same_moment_waits_and_finds_no_attempt_left(app, trainer, learner, make_quiz,
                                                                                database_kind):
    made = make_quiz(trainer, max_attempts=1)
    _enrolled([learner], made.course)
    first, second = [], []
    flushed, release = threading.Event(), threading.Event()
    # The first submission is graded and written, but not yet committed, when the second arrives.
    one = threading.Thread(target=_submit, args=(app, "lena", made.course.id, made.quiz, made.right_answers(), first,
                                                 release, flushed))
    one.start()
    assert flushed.wait(30)
    two = threading.Thread(target=_submit, args=(app, "lena", made.course.id, made.quiz, {}, second))
    two.start()
    _wait_until_blocked(database_kind)
    release.set()
    one.join(30)
    two.join(30)
    assert (first, second) == ([1], ["Conflict: You have had your 1 attempt at “Τεστ προμηθειών”, the only one allowed."])
    db.session.expire_all()
    assert [(a.number, a.percent) for a in quizzes.attempts(learner, made.course, made.quiz)] == [(1, 100)]


def test_many_submissions_at_once_never_share_a_number_or_pass_the_limit(app, trainer, learner, make_quiz):
    made = make_quiz(trainer, max_attempts=3)
    _enrolled([learner], made.course)
    outcomes, start = [], threading.Barrier(8)
    threads = [threading.Thread(target=_submit, args=(app, "lena", made.course.id, made.quiz, made.right_answers(),
                                                      outcomes), kwargs={"start": start}) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    numbers = sorted(outcome for outcome in outcomes if isinstance(outcome, int))
    refusals = [outcome for outcome in outcomes if isinstance(outcome, str)]
    assert numbers == [1, 2, 3]
    assert refusals == ["Conflict: You have had all 3 attempts at “Τεστ προμηθειών”."] * 5
    db.session.expire_all()
    assert [a.number for a in quizzes.attempts(learner, made.course, made.quiz)] == numbers
