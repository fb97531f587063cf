"""Fixtures of the learning tests: a trainer and a learner; make_course(trainer, …) builds a course with a
module, lessons and a quiz, published unless asked otherwise; make_quiz(trainer, …) one whose quiz has a
question of every kind."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from knet.db import db
from learning import certificates, courses, progress, structure, versions
from learning.courses import CourseInput
from learning.structure import OptionInput, QuestionInput


@pytest.fixture
def trainer(make_user):
    return make_user("tina", role="trainer")


@pytest.fixture
def learner(make_user):
    """Someone who only reads, and learns (test modules about certificates name one of their own)."""
    return make_user("lena", role="reader")


@pytest.fixture
def make_course(app):
    def make(trainer, title: str = "Δημόσιες συμβάσεις για αρχάριους", *, lessons: int = 2, quiz: bool = True,
             publish: bool = True, **fields):
        course = courses.create_course(trainer, CourseInput(title=title, summary="Τα βασικά των προμηθειών.",
                                                            **fields))
        module = structure.add_module(trainer, course, "Εισαγωγή")
        for number in range(1, lessons + 1):
            structure.add_lesson(trainer, module, f"Μάθημα {number}", f"Το κείμενο του μαθήματος {number}.")
        if quiz:
            test = structure.add_quiz(trainer, module, "Τεστ", pass_percent=50, max_attempts=3)
            structure.add_question(trainer, test, QuestionInput(
                kind="single", prompt="Ποιο είναι το όριο της απευθείας ανάθεσης;",
                options=[OptionInput("30.000 €", correct=True), OptionInput("300.000 €")]))
            structure.add_question(trainer, test, QuestionInput(kind="truefalse", prompt="Το ΚΗΜΔΗΣ είναι μητρώο.",
                                                                true_is_correct=True))
        if publish:
            versions.publish(trainer, course, "Πρώτη έκδοση")
        db.session.commit()
        return course

    return make


@dataclass
class QuizCourse:
    """A published course with one lesson and a quiz of four questions, one of each kind."""

    course: object
    quiz: str
    #: Question keys by kind: "single", "multiple", "truefalse", "numeric".
    questions: dict[str, str]
    #: Option keys by their text, for every choice question ("true" and "false" are their own keys).
    options: dict[str, str]

    def right_answers(self) -> dict:
        return {self.questions["single"]: [self.options["30.000 €"]],
                self.questions["multiple"]: [self.options["Σύμβαση"], self.options["Απόφαση ανάθεσης"]],
                self.questions["truefalse"]: ["true"], self.questions["numeric"]: "2,5"}


@pytest.fixture
def make_quiz(make_course):
    """make_quiz(trainer, …): a course whose quiz asks a single-choice, a multiple-choice, a true/false and
    a numeric question (5 / 2 = 2,5 ± 0,1), each with feedback; the quiz needs 75% to pass."""

    def make(trainer, title: str = "Προμήθειες στην πράξη", *, number: float = 2.5, tolerance: float = 0.1,
             pass_percent: int = 75, max_attempts: int = 0, shuffle: bool = False) -> QuizCourse:
        course = make_course(trainer, title, lessons=1, quiz=False, publish=False)
        quiz = structure.add_quiz(trainer, course.modules[0], "Τεστ προμηθειών", "Απαντήστε σε όλες.",
                                  pass_percent=pass_percent, max_attempts=max_attempts,
                                  shuffle_questions=shuffle, shuffle_options=shuffle)
        made = [structure.add_question(trainer, quiz, data) for data in (
            QuestionInput(kind="single", prompt="Ποιο είναι το όριο της **απευθείας ανάθεσης**;",
                          feedback="Το όριο ορίζει το άρθρο 118.",
                          options=[OptionInput("30.000 €", True, "Σωστά, για υπηρεσίες."),
                                   OptionInput("300.000 €", False, "Αυτό είναι όριο άλλης διαδικασίας.")]),
            QuestionInput(kind="multiple", prompt="Ποια αναρτώνται στο ΚΗΜΔΗΣ;", feedback="Αναρτώνται οι πράξεις.",
                          options=[OptionInput("Σύμβαση", True, "Ναι, πάντα."),
                                   OptionInput("Απόφαση ανάθεσης", True, "Ναι, κι αυτή."),
                                   OptionInput("Προσωπικό σημείωμα", False, "Όχι, είναι προσωπικό.")]),
            QuestionInput(kind="truefalse", prompt="Το ΚΗΜΔΗΣ είναι μητρώο.", true_is_correct=True,
                          feedback="Κεντρικό Ηλεκτρονικό Μητρώο Δημοσίων Συμβάσεων."),
            QuestionInput(kind="numeric", prompt="Πόσο κάνει 5 / 2;", number=number, tolerance=tolerance,
                          feedback="Πέντε διά δύο."),
        )]
        versions.publish(trainer, course, "Με τεστ")
        db.session.commit()
        options = {option["text"]: option["key"] for question in made for option in question.options}
        return QuizCourse(course, quiz.key, {question.kind: question.key for question in made}, options)

    return make


@pytest.fixture
def complete_course(app):
    """complete_course(learner, course): enrol, read every lesson and pass every quiz (recorded as
    learning.quizzes records a passing attempt), then issue the certificate, committed."""

    def complete(learner, course):
        enrolment, _new = progress.enrol(learner, course)
        for step in progress.outline(course, enrolment).steps:
            if step.item["kind"] == "lesson":
                progress.open_item(learner, course, step.item["key"])
            else:
                progress.record_quiz(enrolment, step.item["key"], 100, True)
        certificate = certificates.issue(enrolment)
        db.session.commit()
        return certificate

    return complete
