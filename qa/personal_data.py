"""What Q&A keeps about a person (knet.personal_data): their questions, answers, comments and the revisions
of them, their votes, the flags they raised, their communities and the tags they follow.

On erasure their questions, answers and comments stay, shown as by "former staff", and are sent to peers
again (so is every question or answer carrying one of their comments); their memberships and the tags they
follow go. Their votes stay, attached to the erased account (a pseudonym): removing them would change the
scores, and so the order, of other people's questions and answers (see auth.erasure).
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, select

from auth.models import User
from knet import personal_data
from knet.content import iso
from knet.db import db
from qa.communities import community_uri
from qa.models import Answer, Comment, Flag, Membership, PostRevision, Question, QuestionTag, Vote, tag_follows
from qa.services import answer_uri, changed_answer, changed_parent, changed_question, question_uri


def init_app(app: Flask) -> None:
    personal_data.register(app, "qa", export=export, erase=erase)


def export(person: User) -> dict:
    mine = _Mine(person.id)
    return {
        "questions": [{"uri": question_uri(q.id), "title": q.title, "text": q.body, "language": q.language,
                       "visibility": q.visibility, "created_at": iso(q.created_at),
                       "hidden": q.hidden_at is not None} for q in mine.of(Question)],
        "answers": [{"uri": answer_uri(a.id), "question": question_uri(a.question_id), "text": a.body,
                     "created_at": iso(a.created_at), "updated_at": iso(a.updated_at),
                     "hidden": a.hidden_at is not None} for a in mine.of(Answer)],
        "comments": [{"on": question_uri(c.question_id) if c.question_id else answer_uri(c.answer_id),
                      "text": c.body, "created_at": iso(c.created_at), "hidden": c.hidden_at is not None}
                     for c in mine.of(Comment)],
        "revisions": [{"of": question_uri(r.question_id) if r.question_id else answer_uri(r.answer_id),
                       "number": r.number, "title": r.title, "text": r.body, "summary": r.summary,
                       "created_at": iso(r.created_at)} for r in mine.of(PostRevision)],
        "votes": [{"on": question_uri(v.question_id) if v.question_id else answer_uri(v.answer_id),
                   "value": v.value, "created_at": iso(v.created_at)}
                  for v in db.session.scalars(select(Vote).where(Vote.user_id == person.id).order_by(Vote.id))],
        "flags_raised": [{"target": f"{flag.target_type} {flag.target_id}", "reason": flag.reason,
                          "created_at": iso(flag.created_at), "outcome": flag.outcome}
                         for flag in db.session.scalars(select(Flag).where(Flag.flagged_by_id == person.id)
                                                        .order_by(Flag.id))],
        "communities": [{"community": community_uri(m.community_id), "name": m.community.name, "role": m.role,
                         "following": m.following, "joined_at": iso(m.joined_at)}
                        for m in db.session.scalars(select(Membership).where(Membership.user_id == person.id)
                                                    .order_by(Membership.id))],
        "followed_tags": list(db.session.scalars(
            select(QuestionTag.name).join(tag_follows, tag_follows.c.tag_id == QuestionTag.id)
            .where(tag_follows.c.user_id == person.id).order_by(QuestionTag.name))),
    }


class _Mine:
    """What one person wrote, model by model."""

    def __init__(self, person_id: int) -> None:
        self.person_id = person_id

    def of(self, model) -> list:
        return list(db.session.scalars(select(model).where(model.author_id == self.person_id).order_by(model.id)))


def erase(person: User) -> None:
    mine = _Mine(person.id)
    questions = {q.id: q for q in mine.of(Question)}
    answers = {a.id: a for a in mine.of(Answer)}
    for question in questions.values():
        changed_question(question)
    for reply in answers.values():
        changed_answer(reply)
    for remark in mine.of(Comment):  # a comment travels inside its question's or answer's document
        if remark.question_id not in questions and remark.answer_id not in answers:
            changed_parent(remark)
    db.session.execute(delete(Membership).where(Membership.user_id == person.id))
    db.session.execute(delete(tag_follows).where(tag_follows.c.user_id == person.id))
