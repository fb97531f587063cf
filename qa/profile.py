"""A person's part in Q&A, on their profile: questions, answers, accepted answers, the tags they answer most,
and how often they answered on each of their skills."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from flask import Flask, render_template
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import Select, func, select

from auth.access import visible_clause
from auth.models import User
from auth.people import add_skill_activity
from auth.people_routes import add_profile_panel
from knet.db import db
from qa.models import Answer, Question, QuestionTag, question_tags

TOP_TAGS = 8


@dataclass(frozen=True)
class Contribution:
    questions: int
    answers: int
    accepted: int
    #: The tags of the questions the person answered, most answered first, with how many answers.
    top_tags: list[tuple[QuestionTag, int]]


def contribution(person: User, viewer: User | None) -> Contribution:
    """What the viewer may see of the person's questions and answers (hidden ones are not counted)."""
    seen = visible_clause(viewer, Question.visibility, Question.author_id)
    questions = db.session.scalar(select(func.count(Question.id)).where(
        Question.author_id == person.id, Question.hidden_at.is_(None), seen))
    answered = (select(Answer.id).join(Question, Answer.question_id == Question.id)
                .where(Answer.author_id == person.id, Answer.hidden_at.is_(None), Question.hidden_at.is_(None), seen))
    answers = db.session.scalar(select(func.count()).select_from(answered.subquery()))
    accepted = db.session.scalar(select(func.count()).select_from(
        answered.where(Question.accepted_answer_id == Answer.id).subquery()))
    uses = func.count(Answer.id).label("uses")
    top = db.session.execute(
        select(QuestionTag, uses).join(question_tags, question_tags.c.tag_id == QuestionTag.id)
        .join(Question, Question.id == question_tags.c.question_id).join(Answer, Answer.question_id == Question.id)
        .where(Answer.author_id == person.id, Answer.hidden_at.is_(None), Question.hidden_at.is_(None), seen)
        .group_by(QuestionTag.id).order_by(uses.desc(), QuestionTag.key).limit(TOP_TAGS))
    return Contribution(questions or 0, answers or 0, accepted or 0, [(tag, count) for tag, count in top])


def profile_panel(person: User, viewer: User) -> Markup:
    return Markup(render_template("qa/_profile_panel.html", person=person, work=contribution(person, viewer)))


def answers_on_skills(viewer: User | None, keys: Collection[str]) -> Select:
    """How many answers each person wrote to questions tagged with each skill key (a tag is a skill when their
    folded names are equal: ``qa.tags.tag_key`` and ``auth.people.skill_key`` fold alike), counting only what
    ``viewer`` may see and nothing hidden: rows of ``user_id``, ``skill_key``, ``times``."""
    seen = visible_clause(viewer, Question.visibility, Question.author_id)
    # A question has at most one tag per key, so each answer counts once per key.
    return (select(Answer.author_id.label("user_id"), QuestionTag.key.label("skill_key"),
                   func.count(Answer.id).label("times"))
            .join(Question, Answer.question_id == Question.id)
            .join(question_tags, question_tags.c.question_id == Question.id)
            .join(QuestionTag, QuestionTag.id == question_tags.c.tag_id)
            .where(QuestionTag.key.in_(list(keys)), Answer.hidden_at.is_(None), Question.hidden_at.is_(None), seen)
            .group_by(Answer.author_id, QuestionTag.key))


def answers_in_words(count: int) -> str:
    return ngettext("%(num)d answer", "%(num)d answers", count)


def init_app(app: Flask) -> None:
    """Show a person's questions and answers on their profile, and how often they answered on each skill."""
    add_profile_panel(app, profile_panel)
    add_skill_activity(app, answers_on_skills, answers_in_words)
