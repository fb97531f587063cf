"""Public questions for feed readers and open data: the feed of new questions, one per community of
practice, and each question with its answers as open data."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from knet import feeds, published
from knet.db import db
from knet.errors import NotFound
from knet.published import PublicKind
from qa import communities, content
from qa.models import Answer, Question, QuestionTag
from qa.services import QUESTION_TYPE, UNSTORABLE
from qa.tags import tag_key

bp = Blueprint("qa_feeds", __name__)


def _newest(tag: str | None, limit: int | None, community_id: int | None = None) -> list[int]:
    """Public questions that are not hidden, newest first (with a tag or of a community, those only)."""
    query = select(Question.id).where(Question.visibility == published.PUBLIC, Question.hidden_at.is_(None))
    if tag is not None:
        key = tag_key(tag) if not UNSTORABLE.search(tag) else ""
        query = query.where(Question.tags.any(QuestionTag.key == key))
    if community_id is not None:
        query = query.where(Question.community_id == community_id)
    return list(db.session.scalars(query.order_by(Question.created_at.desc(), Question.id.desc()).limit(limit)))


def newest_public(tag: str | None, limit: int | None) -> list[int]:
    return _newest(tag, limit)


def answers_of(question_id: int) -> list[dict]:
    """The documents of a question's visible answers, oldest first."""
    ids = db.session.scalars(select(Answer.id).where(Answer.question_id == question_id, Answer.hidden_at.is_(None))
                             .order_by(Answer.created_at, Answer.id))
    return [document for document in map(content.answer_for_peers, ids) if document is not None]


PUBLIC_QUESTIONS = PublicKind(
    "questions", QUESTION_TYPE, _l("Questions and answers"),
    _l("Public questions between the municipality's staff, each with its visible answers."), newest_public,
    answers_of)


@bp.get("/questions/feed.atom")
def newest():
    """The newest public questions."""
    return feeds.response(feeds.Feed(_("New questions"), url_for("qa.index")),
                          published.newest_documents(PUBLIC_QUESTIONS, limit=feeds.FEED_SIZE))


@bp.get("/communities/<slug>/feed.atom")
def community(slug: str):
    """The newest public questions of a public community of practice (others have no feed)."""
    if (moved := communities.renamed(None, slug)) is not None:
        return redirect(url_for("qa_feeds.community", slug=moved.slug), 301)
    found = communities.get_community(None, slug)
    if found.visibility != published.PUBLIC:
        raise NotFound(communities.NO_SUCH_COMMUNITY)
    documents = [document for document in (published.public_document(PUBLIC_QUESTIONS, question_id)
                                           for question_id in _newest(None, feeds.FEED_SIZE, found.id))
                 if document is not None]
    return feeds.response(feeds.Feed(_("New questions in %(community)s", community=found.name),
                                     url_for("communities.view", slug=found.slug)), documents)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    published.register(app, PUBLIC_QUESTIONS)
