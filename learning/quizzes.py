"""Taking quizzes: what a learner sees before answering, grading an attempt, what was right and why,
the learner's attempts, and the item analysis trainers read.

Learners answer the quiz of the newest published version and are graded against that version's
snapshot. Nothing a learner sees before submitting holds an answer: the question and option
structures built here copy only keys, kinds, prompts and option texts.

Answers come as {question key: answer}:
- single choice, multiple choice and true/false: a list of the keys of the options chosen (true/false
  questions have the two options "true" and "false", so ["true"] answers one); single choice and
  true/false take at most one;
- numeric: a number, or text such as "2,5" or "2.5" (a decimal comma or point).
A question left out, or answered with an empty list, null or blank text, is unanswered and counts as wrong.
"""
from __future__ import annotations

import logging
import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_decimal, lazy_gettext as _l, lazy_ngettext
from sqlalchemy import func, select

from auth.models import User
from knet.db import db, lock_row
from knet.errors import Conflict, Invalid, NotFound
from learning import progress, versions
from learning.courses import MAX_ID, require_editor
from learning.models import Course, Enrolment, Progress, QuizAttempt

logger = logging.getLogger(__name__)

#: A number as people type it: digits with at most one decimal comma or point, and a sign.
NUMBER = re.compile(r"[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)")
MAX_NUMBER_TEXT = 40


# Before submitting -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    key: str
    text: str


@dataclass(frozen=True)
class Question:
    """A question as a learner answers it: no right answer, no feedback."""

    key: str
    kind: str
    prompt_html: str
    #: Empty for numeric questions.
    options: tuple[Choice, ...]


@dataclass(frozen=True)
class QuizPage:
    key: str
    title: str
    #: The quiz's introduction, sanitised HTML.
    html: str
    #: The published version the learner answers.
    version: int
    questions: tuple[Question, ...]
    pass_percent: int
    #: 0: as many attempts as the learner likes.
    max_attempts: int
    attempts_used: int
    best_percent: int | None
    passed: bool

    @property
    def attempt(self) -> int:
        """The number the next attempt will have."""
        return self.attempts_used + 1

    @property
    def attempts_left(self) -> int | None:
        """None when there is no limit."""
        return max(0, self.max_attempts - self.attempts_used) if self.max_attempts else None

    @property
    def may_submit(self) -> bool:
        return self.attempts_left != 0


def quiz_for_learner(actor: User | None, course: Course, quiz_key: str, seed: str | None = None) -> QuizPage:
    """The quiz of the newest version as an enrolled learner answers it, without its answers.

    When the quiz shuffles, the order depends on the learner and the attempt (or on `seed`), so
    reloading the page keeps it and the next attempt gets a new one. Remembering where the learner
    is (progress.open_item) is left to the caller."""
    enrolment = progress.require_enrolment(actor, course)
    quiz = _quiz(progress.find_item(course, quiz_key))
    used = _attempt_count(enrolment, quiz_key)
    record = db.session.get(Progress, (enrolment.id, quiz_key))
    questions = tuple(Question(question["key"], question["kind"], question["prompt_html"],
                               tuple(Choice(option["key"], versions.option_text(question, option)) for option in options))
                      for question, options in _arranged(quiz, seed or _seed(enrolment, quiz_key, used + 1)))
    return QuizPage(key=quiz["key"], title=quiz["title"], html=quiz["html"], version=course.published_version,
                    questions=questions, pass_percent=quiz["pass_percent"], max_attempts=quiz["max_attempts"],
                    attempts_used=used, best_percent=record.best_percent if record else None,
                    passed=record is not None and record.passed_at is not None)


# Submitting and grading --------------------------------------------------------------------------

@dataclass(frozen=True)
class MarkedQuestion:
    """A question after submitting: what the learner answered, whether it was right, and why."""

    key: str
    kind: str
    prompt_html: str
    answered: bool
    right: bool
    #: What the learner chose: the texts of the options, or the number given.
    chosen: tuple[str, ...]
    #: The texts of the right options, or the right number (± its tolerance).
    right_answer: tuple[str, ...]
    #: The question's feedback, then that of each option chosen (plain text).
    feedback: tuple[str, ...]


@dataclass(frozen=True)
class AttemptResult:
    quiz_key: str
    title: str
    #: 1 for the learner's first attempt at this quiz, and so on.
    number: int
    version: int
    percent: int
    passed: bool
    pass_percent: int
    questions: tuple[MarkedQuestion, ...]
    submitted_at: datetime
    #: None when there is no limit.
    attempts_left: int | None
    #: Whether the whole course is now complete.
    course_completed: bool

    @property
    def right(self) -> int:
        return sum(question.right for question in self.questions)

    @property
    def unanswered(self) -> list[MarkedQuestion]:
        return [question for question in self.questions if not question.answered]


def submit(actor: User | None, course: Course, quiz_key: str, answers: object) -> AttemptResult:
    """Grade an enrolled learner's answers to a quiz of the newest version, keep the attempt and
    its effect on their progress, and return what was right and why (see the module for the format)."""
    enrolment = progress.require_enrolment(actor, course)
    quiz = _quiz(progress.find_item(course, quiz_key))
    # A learner's submissions wait for each other, so two at the same moment never share a number or
    # pass the attempts limit.
    lock_row(enrolment, "last_item_key")
    used = _attempt_count(enrolment, quiz_key)
    if quiz["max_attempts"] and used >= quiz["max_attempts"]:
        raise Conflict(lazy_ngettext("You have had your %(num)d attempt at “%(title)s”, the only one allowed.",
                                     "You have had all %(num)d attempts at “%(title)s”.",
                                     quiz["max_attempts"], title=quiz["title"]))
    given = _checked(quiz, answers)
    marks = {question["key"]: _is_right(question, given.get(question["key"])) for question in quiz["questions"]}
    percent = round(100 * sum(marks.values()) / len(marks))
    passed = percent >= quiz["pass_percent"]
    attempt = QuizAttempt(enrolment_id=enrolment.id, quiz_key=quiz_key, version=course.published_version,
                          number=used + 1, answers=given, marks=marks, percent=percent, passed=passed)
    db.session.add(attempt)
    db.session.flush()
    progress.record_quiz(enrolment, quiz_key, percent, passed)
    logger.info("%s scored %d%% in attempt %d at quiz %s of course %d", actor.username, percent, attempt.number,
                quiz_key, course.id)
    return _result(enrolment, quiz, attempt)


def attempt_result(actor: User | None, course: Course, quiz_key: str, number: int) -> AttemptResult:
    """An earlier attempt of the learner's, marked against the version it answered."""
    enrolment = progress.require_enrolment(actor, course)
    attempt = db.session.scalar(select(QuizAttempt).where(
        QuizAttempt.enrolment_id == enrolment.id, QuizAttempt.quiz_key == quiz_key,
        QuizAttempt.number == number)) if 0 < number <= MAX_ID else None
    if attempt is None:
        raise NotFound(_l("You have no such attempt at this quiz."))
    frozen = versions.get_version(course, attempt.version).snapshot
    quiz = next(item for item in versions.items_of(frozen) if item["key"] == quiz_key)
    return _result(enrolment, quiz, attempt)


def attempts(actor: User | None, course: Course, quiz_key: str) -> list[QuizAttempt]:
    """The learner's attempts at a quiz, first to last (number, percent, passed, submitted_at)."""
    enrolment = progress.require_enrolment(actor, course)
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.enrolment_id == enrolment.id, QuizAttempt.quiz_key == quiz_key).order_by(QuizAttempt.number)))


def _quiz(item: dict) -> dict:
    if item["kind"] != "quiz":
        raise NotFound(_l("This course has no such quiz."))
    return item


def _attempt_count(enrolment: Enrolment, quiz_key: str) -> int:
    return db.session.scalar(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.enrolment_id == enrolment.id, QuizAttempt.quiz_key == quiz_key))


def _seed(enrolment: Enrolment, quiz_key: str, number: int) -> str:
    return f"{enrolment.id}/{quiz_key}/{number}"


def _arranged(quiz: dict, seed: str) -> list[tuple[dict, list[dict]]]:
    """The questions, each with its options, in the order the learner sees them."""
    shuffler = random.Random(seed)  # a text seed gives the same order in every process
    questions = list(quiz["questions"])
    if quiz["shuffle_questions"]:
        shuffler.shuffle(questions)
    arranged = []
    for question in questions:
        options = list(question["options"])
        # True comes before false, always: shuffling them would only confuse.
        if quiz["shuffle_options"] and question["kind"] in ("single", "multiple"):
            shuffler.shuffle(options)
        arranged.append((question, options))
    return arranged


def _label(question: dict) -> str:
    """The beginning of a question's text, to name it in a message."""
    words = " ".join(question["prompt"].split())
    return words if len(words) <= 60 else words[:60] + "…"


def _checked(quiz: dict, answers: object) -> dict:
    """The answers given, each checked against its question: {key: [option keys] or a number}."""
    if not isinstance(answers, dict):
        raise Invalid(_l("Send the answers as pairs of a question's key and its answer."), field="answers")
    questions = {question["key"]: question for question in quiz["questions"]}
    given = {}
    for key, answer in answers.items():
        question = questions.get(key) if isinstance(key, str) else None
        if question is None:
            raise Invalid(_l("This quiz has no question “%(key)s”.", key=str(key)[:40]), field="answers")
        value = _number(question, answer) if question["kind"] == "numeric" else _choices(question, answer)
        if value is not None:
            given[key] = value
    return given


def _choices(question: dict, answer: object) -> list[str] | None:
    if answer is None:
        return None
    if not isinstance(answer, list) or any(not isinstance(choice, str) for choice in answer):
        raise Invalid(_l("Answer “%(question)s” with a list of the keys of the options you choose.",
                         question=_label(question)), field=question["key"])
    chosen = list(dict.fromkeys(answer))
    keys = {option["key"] for option in question["options"]}
    unknown = next((choice for choice in chosen if choice not in keys), None)
    if unknown is not None:
        raise Invalid(_l("“%(question)s” has no option “%(option)s”.", question=_label(question),
                         option=unknown[:40]), field=question["key"])
    if question["kind"] != "multiple" and len(chosen) > 1:
        raise Invalid(_l("Choose only one answer to “%(question)s”.", question=_label(question)),
                      field=question["key"])
    return chosen or None


def _number(question: dict, answer: object) -> float | None:
    refused = Invalid(_l("The answer to “%(question)s” must be a number, such as 2,5.", question=_label(question)),
                      field=question["key"])
    if answer is None:
        return None
    if isinstance(answer, str):
        text = answer.strip().replace("\u2212", "-")  # the minus sign some keyboards type
        if not text:
            return None
        if len(text) > MAX_NUMBER_TEXT or not NUMBER.fullmatch(text):
            raise refused
        answer = text.replace(",", ".")
    elif isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise refused
    try:
        number = float(answer)
    except OverflowError:  # an int too large for a float
        raise refused from None
    if not math.isfinite(number):
        raise refused
    return number


def _is_right(question: dict, given: list[str] | float | None) -> bool:
    """One point: the exact set of right options, or a number within the tolerance (inclusive)."""
    if given is None:
        return False
    if question["kind"] == "numeric":
        distance, tolerance = abs(given - question["number"]), question["tolerance"]
        # 2.6 is within 2.5 ± 0.1, though in binary floating point it is a hair further.
        return distance <= tolerance or math.isclose(distance, tolerance, rel_tol=1e-9, abs_tol=1e-12)
    return set(given) == {option["key"] for option in question["options"] if option["correct"]}


def _result(enrolment: Enrolment, quiz: dict, attempt: QuizAttempt) -> AttemptResult:
    """An attempt marked question by question, in the order it was shown."""
    questions = tuple(_marked(question, options, attempt.answers.get(question["key"]),
                              bool(attempt.marks.get(question["key"])))
                      for question, options in _arranged(quiz, _seed(enrolment, quiz["key"], attempt.number)))
    limit = quiz["max_attempts"]
    used = _attempt_count(enrolment, quiz["key"])
    return AttemptResult(quiz_key=quiz["key"], title=quiz["title"], number=attempt.number, version=attempt.version,
                         percent=attempt.percent, passed=attempt.passed, pass_percent=quiz["pass_percent"],
                         questions=questions, submitted_at=attempt.submitted_at,
                         attempts_left=max(0, limit - used) if limit else None,
                         course_completed=enrolment.completed_at is not None)


def _marked(question: dict, options: list[dict], given: list[str] | float | None, right: bool) -> MarkedQuestion:
    if question["kind"] == "numeric":
        chosen = () if given is None else (format_decimal(given),)
        right_answer = format_decimal(question["number"])
        if question["tolerance"]:
            right_answer += " ± " + format_decimal(question["tolerance"])
        return MarkedQuestion(question["key"], question["kind"], question["prompt_html"], given is not None, right,
                              chosen, (right_answer,), tuple(filter(None, [question["feedback"]])))
    picked = [option for option in options if option["key"] in (given or ())]
    feedback = [question["feedback"]] + [option["feedback"] for option in picked]
    return MarkedQuestion(question["key"], question["kind"], question["prompt_html"], bool(picked), right,
                          tuple(versions.option_text(question, option) for option in picked),
                          tuple(versions.option_text(question, option) for option in options if option["correct"]),
                          tuple(filter(None, feedback)))


# Item analysis -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuestionStats:
    key: str
    #: Its place in the quiz as the trainer ordered it, from 1.
    position: int
    kind: str
    prompt_html: str
    #: Attempts that were asked this question (in any version that had it).
    attempts: int
    #: Of those, how many got it wrong (unanswered included) and how many left it unanswered.
    wrong: int
    unanswered: int

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.attempts if self.attempts else 0.0

    @property
    def wrong_percent(self) -> int:
        return round(100 * self.wrong_share)


@dataclass(frozen=True)
class QuizStats:
    key: str
    title: str
    attempts: int
    #: Learners who made at least one attempt, and those who passed.
    learners: int
    learners_passed: int
    #: Over every attempt; None before the first.
    average_percent: int | None
    #: The share of attempts that passed, in percent; None before the first.
    pass_rate: int | None
    #: The newest version's questions, the most often wrong first.
    questions: tuple[QuestionStats, ...]


def item_analysis(actor: User | None, course: Course) -> list[QuizStats]:
    """For the course's trainers: each quiz of the newest version with its attempts, average and pass
    rate, and which of its questions learners most often get wrong. Questions are counted by their
    stable keys, so their attempts in earlier versions count too."""
    require_editor(actor, course)
    if course.published_version == 0:
        return []
    quizzes = [item for item in versions.items_of(versions.get_version(course).snapshot) if item["kind"] == "quiz"]
    rows = db.session.execute(
        select(QuizAttempt.enrolment_id, QuizAttempt.quiz_key, QuizAttempt.answers, QuizAttempt.marks,
               QuizAttempt.percent, QuizAttempt.passed)
        .join(Enrolment, Enrolment.id == QuizAttempt.enrolment_id)
        .where(Enrolment.course_id == course.id, QuizAttempt.quiz_key.in_([quiz["key"] for quiz in quizzes]))).all()
    by_quiz = defaultdict(list)
    for row in rows:
        by_quiz[row.quiz_key].append(row)
    return [_quiz_stats(quiz, by_quiz[quiz["key"]]) for quiz in quizzes]


def _quiz_stats(quiz: dict, rows: list) -> QuizStats:
    questions = []
    for position, question in enumerate(quiz["questions"], start=1):
        asked = [row for row in rows if question["key"] in row.marks]
        questions.append(QuestionStats(
            question["key"], position, question["kind"], question["prompt_html"], len(asked),
            wrong=sum(not row.marks[question["key"]] for row in asked),
            unanswered=sum(question["key"] not in row.answers for row in asked)))
    questions.sort(key=lambda stats: (-stats.wrong_share, -stats.attempts))  # stable: ties keep the quiz's order
    return QuizStats(
        key=quiz["key"], title=quiz["title"], attempts=len(rows), learners=len({row.enrolment_id for row in rows}),
        learners_passed=len({row.enrolment_id for row in rows if row.passed}),
        average_percent=round(sum(row.percent for row in rows) / len(rows)) if rows else None,
        pass_rate=round(100 * sum(row.passed for row in rows) / len(rows)) if rows else None,
        questions=tuple(questions))
