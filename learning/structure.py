"""Editing a course's working copy: its modules, and in each module its lessons and quizzes in order,
and each quiz's questions. Learners never see the working copy, only what learning.versions froze.

Every module, item, question and option gets a stable key when it is made; it never changes, so
progress recorded against it survives later versions.
"""
from __future__ import annotations

import math
from operator import attrgetter
import secrets
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l

from auth.models import User
from knet import markup
from knet.db import db, utcnow
from knet.errors import Invalid, NotFound, TooLarge
from learning.courses import MAX_ID, MAX_TITLE, checked_text, require_editor
from learning.models import QUESTION_KINDS, Course, Item, Module, QuizQuestion

MAX_MODULES = 50
MAX_ITEMS = 50
MAX_QUESTIONS = 100
MAX_OPTIONS = 10
MAX_OPTION_TEXT = 500
MAX_FEEDBACK = 2000
TRUE_FALSE = ("true", "false")


@dataclass
class OptionInput:
    text: str
    correct: bool = False
    feedback: str = ""
    #: Kept from the option being edited; a new option gets one.
    key: str | None = None


@dataclass
class QuestionInput:
    kind: str
    prompt: str
    options: list[OptionInput] = field(default_factory=list)
    #: true/false questions: which one is right.
    true_is_correct: bool = True
    number: float | None = None
    tolerance: float = 0.0
    feedback: str = ""


def new_key() -> str:
    return secrets.token_hex(8)


def touch(course: Course) -> None:
    """Note that the working copy changed since the last publishing."""
    course.updated_at = utcnow()
    course.has_unpublished_changes = True


def _title(value: object) -> str:
    title = " ".join(checked_text(value, "title").split())
    if not 1 <= len(title) <= MAX_TITLE:
        raise Invalid(_l("The title must have between 1 and %(max)d characters.", max=MAX_TITLE), field="title")
    return title


def _body(value: object, name: str = "body") -> str:
    body = checked_text(value, name)
    limit = current_app.config["KNET"]["max_body_bytes"]
    if len(body.encode("utf-8")) > limit:
        raise TooLarge(_l("The text is larger than %(kb)d KB.", kb=limit // 1024))
    return body


# Modules -----------------------------------------------------------------------------------------

def get_module(course: Course, module_id: int) -> Module:
    module = db.session.get(Module, module_id) if 0 < module_id <= MAX_ID else None
    if module is None or module.course_id != course.id:
        raise NotFound(_l("This course has no such module."))
    return module


def add_module(actor: User | None, course: Course, title: str) -> Module:
    require_editor(actor, course)
    if len(course.modules) >= MAX_MODULES:
        raise Invalid(_l("A course may have at most %(max)d modules.", max=MAX_MODULES), field="title")
    module = Module(course=course, key=new_key(), title=_title(title), position=len(course.modules))
    db.session.add(module)
    touch(course)
    db.session.flush()
    return module


def rename_module(actor: User | None, module: Module, title: str) -> Module:
    require_editor(actor, module.course)
    module.title = _title(title)
    touch(module.course)
    db.session.flush()
    return module


def move_module(actor: User | None, module: Module, offset: int) -> None:
    """Move a module up (-1) or down (+1)."""
    require_editor(actor, module.course)
    _move(module.course.modules, module, offset)
    touch(module.course)
    db.session.flush()


def delete_module(actor: User | None, module: Module) -> None:
    course = module.course
    require_editor(actor, course)
    course.modules.remove(module)
    _renumber(course.modules)
    touch(course)
    db.session.flush()


# Lessons and quizzes -----------------------------------------------------------------------------

def get_item(course: Course, item_id: int) -> Item:
    item = db.session.get(Item, item_id) if 0 < item_id <= MAX_ID else None
    if item is None or item.module.course_id != course.id:
        raise NotFound(_l("This course has no such lesson or quiz."))
    return item


def add_lesson(actor: User | None, module: Module, title: str, body: str) -> Item:
    return _add_item(actor, module, Item(kind="lesson", title=_title(title), body=_body(body),
                                         html=markup.render(_body(body))))


def add_scorm(actor: User | None, module: Module, title: str) -> Item:
    """A SCORM lesson, without its package yet (learning.scorm_package.add_package gives it one)."""
    return _add_item(actor, module, Item(kind="scorm", title=_title(title)))


def update_lesson(actor: User | None, item: Item, title: str, body: str) -> Item:
    """Save a lesson's title and text (a SCORM lesson's text introduces its package)."""
    require_editor(actor, item.module.course)
    item.title, item.body = _title(title), _body(body)
    item.html = markup.render(item.body)
    touch(item.module.course)
    db.session.flush()
    return item


def add_quiz(actor: User | None, module: Module, title: str, introduction: str = "", *, pass_percent: int = 70,
             max_attempts: int = 0, shuffle_questions: bool = False, shuffle_options: bool = False) -> Item:
    quiz = Item(kind="quiz", title=_title(title))
    _quiz_settings(quiz, introduction, pass_percent, max_attempts, shuffle_questions, shuffle_options)
    return _add_item(actor, module, quiz)


def update_quiz(actor: User | None, quiz: Item, title: str, introduction: str = "", *, pass_percent: int = 70,
                max_attempts: int = 0, shuffle_questions: bool = False, shuffle_options: bool = False) -> Item:
    require_editor(actor, quiz.module.course)
    _is_quiz(quiz)
    quiz.title = _title(title)
    _quiz_settings(quiz, introduction, pass_percent, max_attempts, shuffle_questions, shuffle_options)
    touch(quiz.module.course)
    db.session.flush()
    return quiz


def move_item(actor: User | None, item: Item, offset: int) -> None:
    """Move a lesson or quiz up (-1) or down (+1) within its module."""
    require_editor(actor, item.module.course)
    _move(item.module.items, item, offset)
    touch(item.module.course)
    db.session.flush()


def delete_item(actor: User | None, item: Item) -> None:
    module = item.module
    require_editor(actor, module.course)
    module.items.remove(item)
    _renumber(module.items)
    touch(module.course)
    db.session.flush()


def _add_item(actor: User | None, module: Module, item: Item) -> Item:
    require_editor(actor, module.course)
    if len(module.items) >= MAX_ITEMS:
        raise Invalid(_l("A module may have at most %(max)d lessons and quizzes.", max=MAX_ITEMS), field="title")
    item.key, item.position = new_key(), len(module.items)
    module.items.append(item)
    touch(module.course)
    db.session.flush()
    return item


def _quiz_settings(quiz: Item, introduction: object, pass_percent: object, max_attempts: object,
                   shuffle_questions: object, shuffle_options: object) -> None:
    if type(pass_percent) is not int or not 1 <= pass_percent <= 100:
        raise Invalid(_l("The pass mark is a percentage from 1 to 100."), field="pass_percent")
    if type(max_attempts) is not int or not 0 <= max_attempts <= 100:
        raise Invalid(_l("The number of attempts is from 1 to 100, or 0 for no limit."), field="max_attempts")
    quiz.body = _body(introduction, "introduction")
    quiz.html = markup.render(quiz.body)
    quiz.pass_percent, quiz.max_attempts = pass_percent, max_attempts
    quiz.shuffle_questions, quiz.shuffle_options = bool(shuffle_questions), bool(shuffle_options)


def _is_quiz(item: Item) -> None:
    if item.kind != "quiz":
        raise Invalid(_l("Questions belong to quizzes, not to lessons."))


# Quiz questions ----------------------------------------------------------------------------------

def get_question(quiz: Item, question_id: int) -> QuizQuestion:
    question = db.session.get(QuizQuestion, question_id) if 0 < question_id <= MAX_ID else None
    if question is None or question.quiz_id != quiz.id:
        raise NotFound(_l("This quiz has no such question."))
    return question


def add_question(actor: User | None, quiz: Item, data: QuestionInput) -> QuizQuestion:
    require_editor(actor, quiz.module.course)
    _is_quiz(quiz)
    if len(quiz.questions) >= MAX_QUESTIONS:
        raise Invalid(_l("A quiz may have at most %(max)d questions.", max=MAX_QUESTIONS))
    question = QuizQuestion(key=new_key(), position=len(quiz.questions))
    _apply_question(question, data)
    quiz.questions.append(question)
    touch(quiz.module.course)
    db.session.flush()
    return question


def update_question(actor: User | None, question: QuizQuestion, data: QuestionInput) -> QuizQuestion:
    require_editor(actor, question.quiz.module.course)
    _apply_question(question, data)
    touch(question.quiz.module.course)
    db.session.flush()
    return question


def move_question(actor: User | None, question: QuizQuestion, offset: int) -> None:
    quiz = question.quiz
    require_editor(actor, quiz.module.course)
    _move(quiz.questions, question, offset)
    touch(quiz.module.course)
    db.session.flush()


def delete_question(actor: User | None, question: QuizQuestion) -> None:
    quiz = question.quiz
    require_editor(actor, quiz.module.course)
    quiz.questions.remove(question)
    _renumber(quiz.questions)
    touch(quiz.module.course)
    db.session.flush()


def _apply_question(question: QuizQuestion, data: QuestionInput) -> None:
    if data.kind not in QUESTION_KINDS:
        raise Invalid(_l("A question is one of: %(kinds)s.", kinds=", ".join(QUESTION_KINDS)), field="kind")
    prompt = _body(data.prompt, "prompt").strip()
    if not prompt:
        raise Invalid(_l("The question has no text."), field="prompt")
    feedback = checked_text(data.feedback, "feedback").strip()
    if len(feedback) > MAX_FEEDBACK:
        raise Invalid(_l("Feedback may have at most %(max)d characters.", max=MAX_FEEDBACK), field="feedback")
    question.kind, question.prompt, question.prompt_html = data.kind, prompt, markup.render(prompt)
    question.feedback, question.number, question.tolerance = feedback, None, 0.0
    if data.kind == "truefalse":
        question.options = [{"key": value, "text": value, "correct": (value == "true") == bool(data.true_is_correct),
                             "feedback": ""} for value in TRUE_FALSE]
    elif data.kind == "numeric":
        question.options = []
        question.number, question.tolerance = _number(data.number, "number"), _number(data.tolerance, "tolerance")
        if question.tolerance < 0:
            raise Invalid(_l("The tolerance cannot be negative."), field="tolerance")
    else:
        question.options = _options(data.kind, data.options, question.options or [])


def _options(kind: str, options: list[OptionInput], previous: list[dict]) -> list[dict]:
    kept = {option["key"] for option in previous}
    cleaned = []
    for option in options:
        text = " ".join(checked_text(option.text, "options").split())
        if not text:
            continue
        if len(text) > MAX_OPTION_TEXT:
            raise Invalid(_l("An option may have at most %(max)d characters.", max=MAX_OPTION_TEXT), field="options")
        feedback = checked_text(option.feedback, "options").strip()[:MAX_FEEDBACK]
        key = option.key if option.key in kept else new_key()
        cleaned.append({"key": key, "text": text, "correct": bool(option.correct), "feedback": feedback})
    if not 2 <= len(cleaned) <= MAX_OPTIONS:
        raise Invalid(_l("A choice question needs from 2 to %(max)d options.", max=MAX_OPTIONS), field="options")
    right = sum(option["correct"] for option in cleaned)
    if kind == "single" and right != 1:
        raise Invalid(_l("A single-choice question needs exactly one right option."), field="options")
    if kind == "multiple" and right < 1:
        raise Invalid(_l("A multiple-choice question needs at least one right option."), field="options")
    return cleaned


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Invalid(_l("“%(field)s” must be a number.", field=name), field=name)
    return float(value)


# Order -------------------------------------------------------------------------------------------

def _move(siblings: list, thing, offset: int) -> None:
    if offset not in (-1, 1):
        raise Invalid(_l("Move one place up or down."))
    index = siblings.index(thing)
    target = index + offset
    if 0 <= target < len(siblings):
        # Swap the positions, then reorder the list in place: assigning one list slot over another would
        # detach the object it replaced, and delete-orphan would delete it.
        siblings[target].position, thing.position = index, target
        siblings.sort(key=attrgetter("position"))
    _renumber(siblings)


def _renumber(siblings: list) -> None:
    for position, thing in enumerate(siblings):
        thing.position = position
