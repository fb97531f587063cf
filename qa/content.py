"""Questions and answers as the rest of the node sees them (the content contract of knet.content)."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from auth.models import User
from knet import content
from knet.content import SHAREABLE, ContentType
from knet.db import as_utc, db
from knet.search.index import SearchDocument
from qa.communities import community_uri
from qa.models import Answer, Comment, PostRevision, Question
from qa.services import ANSWER_TYPE, QUESTION_TYPE, answer_uri, comments_on, question_uri


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


def question_for_peers(question_id: int) -> dict | None:
    """The question as peers receive it, with its visible comments; its answers travel as their own documents,
    so a new answer leaves this one as it was."""
    question = db.session.get(Question, question_id)
    if question is None or question.hidden_at is not None or question.visibility not in SHAREABLE:
        return None
    community = question.community
    extra = {"knet:comments": _comments(comments_on(None, question=question))}
    if community is not None and community.visibility in SHAREABLE:
        extra["knet:community"] = community_uri(community.id)
    if question.accepted_answer_id is not None:
        extra["knet:accepted"] = answer_uri(question.accepted_answer_id)
    return content.document(
        id=question_uri(question.id), type="Page", name=question.title, url=question_uri(question.id),
        content=question.html, source=question.body, tags=question.tag_names, author=_name(question.author),
        published=question.created_at, updated=_edited_at(question), language=question.language,
        visibility=question.visibility, **extra)


def answer_for_peers(answer_id: int) -> dict | None:
    """The answer as peers receive it: shared with its question, in its question's language."""
    reply = db.session.get(Answer, answer_id)
    if reply is None or reply.hidden_at is not None:
        return None
    question = reply.question
    if question.hidden_at is not None or question.visibility not in SHAREABLE:
        return None
    return content.document(
        id=answer_uri(reply.id), type="Note", name="", url=f"{question_uri(question.id)}#answer-{reply.id}",
        content=reply.html, source=reply.body, author=_name(reply.author), published=reply.created_at,
        updated=reply.updated_at, language=question.language, visibility=question.visibility,
        in_reply_to=question_uri(question.id), **{"knet:comments": _comments(comments_on(None, answer=reply)),
                                                  "knet:accepted": question.accepted_answer_id == reply.id})


def _edited_at(question: Question) -> datetime:
    """When the question's own text last changed: its current revision (`active_at` moves with answers and
    comments too)."""
    return db.session.scalar(select(PostRevision.created_at).where(
        PostRevision.question_id == question.id, PostRevision.number == question.revision)) or question.created_at


def _comments(remarks: list[Comment]) -> list[dict]:
    return [{"content": remark.html, "author": _name(remark.author), "published": content.iso(remark.created_at)}
            for remark in remarks]


def _name(person: User | None) -> str:
    return person.name if person is not None else ""


def _question_ids() -> list[int]:
    return list(db.session.scalars(select(Question.id).where(Question.hidden_at.is_(None)).order_by(Question.id)))


def _answer_ids() -> list[int]:
    return list(db.session.scalars(select(Answer.id).join(Question, Answer.question_id == Question.id)
                                   .where(Answer.hidden_at.is_(None), Question.hidden_at.is_(None)).order_by(Answer.id)))


CONTENT_TYPES = (ContentType(QUESTION_TYPE, question_document, _question_ids, question_for_peers),
                 ContentType(ANSWER_TYPE, answer_document, _answer_ids, answer_for_peers))
