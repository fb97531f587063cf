"""Factories for learning tests: make_course(trainer, …) builds a course with a module, lessons and a
quiz, published unless asked otherwise."""
from __future__ import annotations

import pytest

from knet.db import db
from learning import courses, structure, versions
from learning.courses import CourseInput
from learning.structure import OptionInput, QuestionInput


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
