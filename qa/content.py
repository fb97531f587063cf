"""Questions and answers as the rest of the node sees them (the content contract of knet.content)."""
from __future__ import annotations

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from knet.content import ContentType
from knet.db import as_utc, db
from knet.search.index import SearchDocument
from qa.models import Answer, Question
from qa.services import ANSWER_TYPE, QUESTION_TYPE, answer_uri, question_uri


#: How much more an accepted answer's words weigh: enough to rank it first among equal matches, not
#: enough to lift it above a clearly better one (BM25 saturates term frequency).
ACCEPTED_BOOST = 1.5


def question_document(question_id: int) -> SearchDocument | None:
    question = db.session.get(Question, question_id)
    if question is None or question.hidden_at is not None:
        return None
    return SearchDocument(
        uri=question_uri(question.id), type="question", title=question.title,
        body=Markup(question.html).striptags(), language=question.language, visibility=question.visibility,
        home=current_app.config["KNET"]["url"], author=str(question.author_id or ""),
        tags=tuple(question.tag_names), updated=as_utc(question.active_at))


def answer_document(answer_id: int) -> SearchDocument | None:
    """An answer carries its question's title, tags and visibility: it is found as an answer to that question."""
    reply = db.session.get(Answer, answer_id)
    if reply is None or reply.hidden_at is not None or reply.question.hidden_at is not None:
        return None
    question = reply.question
    return SearchDocument(
        uri=answer_uri(reply.id), type="answer", title=question.title, body=Markup(reply.html).striptags(),
        language=question.language, visibility=question.visibility, home=current_app.config["KNET"]["url"],
        author=str(reply.author_id or ""), tags=tuple(question.tag_names), updated=as_utc(reply.updated_at),
        boost=ACCEPTED_BOOST if question.accepted_answer_id == reply.id else 1.0)


def _question_ids() -> list[int]:
    return list(db.session.scalars(select(Question.id).where(Question.hidden_at.is_(None)).order_by(Question.id)))


def _answer_ids() -> list[int]:
    return list(db.session.scalars(select(Answer.id).join(Question, Answer.question_id == Question.id)
                                   .where(Answer.hidden_at.is_(None), Question.hidden_at.is_(None)).order_by(Answer.id)))


CONTENT_TYPES = (ContentType(QUESTION_TYPE, question_document, _question_ids),
                 ContentType(ANSWER_TYPE, answer_document, _answer_ids))
