"""What the Q&A pages read: lists of questions, a question's page, tags and similar questions for the
ask form, revisions to compare, and where a flagged or logged item lives.

Reading only, with the same rules as qa.services (visibility, hidden content for moderators); the
operations themselves are in qa.services and qa.moderation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import selectinload

from auth.access import can_see, visible_clause
from auth.models import User
from knet.config import LANGUAGES
from knet.db import db
from knet.errors import Invalid, NotFound, Unauthorized
from knet.search import Filters, Hit, fold, search, viewer_of
from knet.search.analysis import STOP_WORDS
from knet.search.indexing import node_index
from qa import services
from qa.models import (Answer, Comment, Community, Flag, ModerationEntry, PostRevision, Question, QuestionTag, Vote,
                       question_tags)
from qa.tags import tag_key

#: Ids are 32-bit integers in the database: a larger number names nothing (and must not reach SQL).
#: The lists of the questions page: every question (newest or most active first), those without a
#: visible answer, those without an accepted answer, and the viewer's own.
TABS = ("newest", "active", "unanswered", "unaccepted", "mine")
SORTS = ("newest", "active", "score")
ORDERS = {
    "newest": (Question.created_at.desc(), Question.id.desc()),
    "active": (Question.active_at.desc(), Question.id.desc()),
    "score": (Question.score.desc(), Question.active_at.desc(), Question.id.desc()),
}
SIMILAR = 6
MAX_SIMILAR_WORDS = 12
MAX_TAG_SUGGESTIONS = 20
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class ListQuery:
    """Which questions a list shows, and in what order (sort None: the tab's own order)."""

    tab: str = "newest"
    sort: str | None = None
    tag: str | None = None
    community_id: int | None = None
    language: str | None = None

    @property
    def order(self) -> str:
        return self.sort or ("active" if self.tab == "active" else "newest")


@dataclass
class QuestionPage:
    """Everything a question's page shows to one viewer."""

    question: Question
    answers: list[Answer]
    #: Comments by ("question", id) or ("answer", id).
    comments: dict[tuple[str, int], list[Comment]]
    #: The viewer's votes by ("question", id) or ("answer", id): 1, -1 (0 when absent).
    votes: dict[tuple[str, int], int] = field(default_factory=dict)
    #: The question a duplicate repeats, when the viewer may see it.
    original: Question | None = None

    def vote_on(self, kind: str, item_id: int) -> int:
        return self.votes.get((kind, item_id), 0)


@dataclass(frozen=True)
class Place:
    """Where a question, answer or comment is shown: its question and the anchor on that page."""

    target_type: str
    target_id: int
    question: Question | None
    anchor: str
    #: Whether the viewer may read the question (its title is shown only then).
    visible: bool
    #: The item's text as written (Markdown), for a moderator to judge it at a glance.
    text: str = ""
    hidden: bool = False


# Single objects ----------------------------------------------------------------------------------

def question(actor: User | None, question_id: int) -> Question:
    """The question, if this person may see it (NotFound otherwise, also for ids no database holds)."""
    if not 1 <= question_id <= services.MAX_ID:
        raise NotFound(services.NO_SUCH_QUESTION)
    return services.get_question(actor, question_id)


def answer(actor: User | None, answer_id: int) -> Answer:
    if not 1 <= answer_id <= services.MAX_ID:
        raise NotFound(_l("There is no such answer, or you may not see it."))
    return services.get_answer(actor, answer_id)


def original_for(actor: User | None, number: int | None) -> Question:
    """The question someone names as the original of a duplicate, or Invalid saying there is none."""
    try:
        return question(actor, number or 0)
    except NotFound:
        raise Invalid(_l("There is no question number %(number)d, or you may not see it.", number=number or 0),
                      field="original") from None


def flag(flag_id: int) -> Flag:
    found = db.session.get(Flag, flag_id) if 1 <= flag_id <= services.MAX_ID else None
    if found is None:
        raise NotFound(_l("There is no such flag."))
    return found


# Lists -------------------------------------------------------------------------------------------

def _seen(actor: User | None) -> list:
    """The questions this person may find in lists: hidden ones only for moderators."""
    conditions = [visible_clause(actor, Question.visibility, Question.author_id)]
    if not services.is_moderator(actor):
        conditions.append(Question.hidden_at.is_(None))
    return conditions


def list_questions(actor: User | None, wanted: ListQuery, page: int, per_page: int) -> tuple[list[Question], int]:
    """One page of the questions this person may see in a list, and how many there are in all."""
    conditions = _seen(actor)
    if wanted.tab == "unanswered":
        conditions.append(Question.answer_count == 0)
    elif wanted.tab == "unaccepted":
        conditions.append(Question.accepted_answer_id.is_(None))
    elif wanted.tab == "mine":
        if actor is None:
            raise Unauthorized(_l("Sign in to see your questions."))
        conditions.append(Question.author_id == actor.id)
    if wanted.tag is not None:
        key = tag_key(wanted.tag) if not services.UNSTORABLE.search(wanted.tag) else ""
        conditions.append(Question.tags.any(QuestionTag.key == key) if key else false())
    if wanted.community_id is not None:
        conditions.append(Question.community_id == wanted.community_id
                          if 1 <= wanted.community_id <= services.MAX_ID else false())
    if wanted.language is not None:
        conditions.append(Question.language == wanted.language if wanted.language in LANGUAGES else false())
    total = db.session.scalar(select(func.count(Question.id)).where(*conditions))
    rows = db.session.scalars(select(Question).where(*conditions).options(selectinload(Question.tags))
                              .order_by(*ORDERS[wanted.order]).limit(per_page).offset((page - 1) * per_page))
    return list(rows.unique()), total or 0


def communities(actor: User | None) -> list[Community]:
    """The communities a question may belong to, as this person may see them, by name."""
    seen = visible_clause(actor, Community.visibility, Community.created_by_id)
    return list(db.session.scalars(select(Community).where(seen).order_by(Community.name, Community.id)))


def tag_suggestions(actor: User | None, prefix: str, limit: int = 10) -> list[tuple[QuestionTag, int]]:
    """Tags of questions this person may see whose name (or a word of it) starts with the prefix, the most
    used first, with how many of those questions have each."""
    key = tag_key(prefix) if not services.UNSTORABLE.search(prefix) else ""
    if not key:
        return []
    uses = func.count(Question.id).label("uses")
    query = (select(QuestionTag, uses).join(question_tags, question_tags.c.tag_id == QuestionTag.id)
             .join(Question, Question.id == question_tags.c.question_id)
             .where(or_(QuestionTag.key.startswith(key, autoescape=True),
                        QuestionTag.key.contains(" " + key, autoescape=True)), *_seen(actor))
             .group_by(QuestionTag.id).order_by(uses.desc(), QuestionTag.key)
             .limit(max(1, min(limit, MAX_TAG_SUGGESTIONS))))
    return [(tag, count) for tag, count in db.session.execute(query)]


def similar_questions(actor: User | None, title: str) -> list[Hit]:
    """Questions already asked that share words with a title being typed (any of them; the last word
    as a prefix while it is still being typed), best match first, as the node's index finds them."""
    words = [word.lower() for word in _WORDS.findall(title)]
    words = [word for word in words if fold(word) not in STOP_WORDS][-MAX_SIMILAR_WORDS:]
    if not words:
        return []
    still_typing = title[-1:].isalnum() and title.lower().endswith(words[-1]) and len(words[-1]) >= 2
    terms = words[:-1] + [words[-1] + "*" if still_typing else words[-1]]
    viewer = viewer_of(actor)
    return search(node_index(), " OR ".join(terms), viewer=viewer, per_page=SIMILAR,
                  filters=Filters(type="question"), suggest=False).hits


# A question's page -------------------------------------------------------------------------------

def question_page(actor: User | None, asked: Question) -> QuestionPage:
    """The question with what this person sees of it: answers (accepted first), comments, their votes."""
    answers = services.visible_answers(actor, asked)
    comments = {("question", asked.id): services.comments_on(actor, question=asked)}
    for reply in answers:
        comments[("answer", reply.id)] = services.comments_on(actor, answer=reply)
    votes: dict[tuple[str, int], int] = {}
    if actor is not None:
        rows = db.session.execute(select(Vote.question_id, Vote.answer_id, Vote.value).where(
            Vote.user_id == actor.id,
            or_(Vote.question_id == asked.id, Vote.answer_id.in_([reply.id for reply in answers]))))
        for question_id, answer_id, value in rows:
            votes[("question", question_id) if question_id else ("answer", answer_id)] = value
    original = None
    if asked.duplicate_of_id is not None:
        try:
            original = services.get_question(actor, asked.duplicate_of_id)
        except NotFound:
            original = None
    return QuestionPage(asked, answers, comments, votes, original)


def compare(revisions: list[PostRevision], old_number: int, new_number: int) -> tuple[PostRevision, PostRevision]:
    """Two revisions of one post, by number, or NotFound naming the one that does not exist."""
    by_number = {revision.number: revision for revision in revisions}
    for number in (old_number, new_number):
        if number not in by_number:
            raise NotFound(_l("There is no revision %(number)d of this.", number=number))
    return by_number[old_number], by_number[new_number]


# Where things are ---------------------------------------------------------------------------------

def place_of(actor: User | None, target_type: str, target_id: int) -> Place:
    """Where a question, answer or comment is shown (its question is None when it is gone)."""
    model = {"question": Question, "answer": Answer, "comment": Comment}.get(target_type)
    item = db.session.get(model, target_id) if model is not None and 1 <= target_id <= services.MAX_ID else None
    if item is None:
        return Place(target_type, target_id, None, "", False)
    if isinstance(item, Question):
        asked, anchor = item, "question"
    elif isinstance(item, Answer):
        asked, anchor = item.question, f"answer-{item.id}"
    else:
        asked = (db.session.get(Question, item.question_id) if item.question_id is not None
                 else db.session.get(Answer, item.answer_id).question)
        anchor = f"comment-{item.id}"
    visible = can_see(actor, asked.visibility, asked.author_id)
    return Place(target_type, target_id, asked, anchor, visible, item.body if visible else "",
                 item.hidden_at is not None)


def places(actor: User | None, items: list[Flag] | list[ModerationEntry]) -> dict[tuple[str, int], Place]:
    """The places of what flags or log entries are about, by (type, id)."""
    found: dict[tuple[str, int], Place] = {}
    for item in items:
        key = (item.target_type, item.target_id)
        if key not in found:
            found[key] = place_of(actor, *key)
    return found
