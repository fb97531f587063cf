"""Asking, answering, commenting, editing with revisions, voting and accepting answers.

Services take the acting person and flush; the caller commits. Answers and comments are seen by
whoever may see their question; hidden content only by moderators (and is counted nowhere else).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import LazyString, lazy_gettext as _l
from sqlalchemy import func, select

from auth.access import can_see
from auth.models import User
from knet import content, markup
from knet.config import LANGUAGES, VISIBILITIES
from knet.db import db, lock_row, utcnow
from knet.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, Unauthorized
from qa import notify
from qa import tags as qa_tags
from qa.models import Answer, Comment, Community, PostRevision, Question, Vote

logger = logging.getLogger(__name__)

QUESTION_TYPE = "qa.question"
ANSWER_TYPE = "qa.answer"
MAX_TITLE = 200
MIN_TITLE = 10
MAX_COMMENT = 2000
MAX_SUMMARY = 500
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NO_SUCH_QUESTION = _l("There is no such question, or you may not see it.")


@dataclass
class QuestionInput:
    title: str
    body: str
    tags: list[str] = field(default_factory=list)
    language: str = "el"
    visibility: str = "internal"
    community_id: int | None = None
    summary: str = ""


# Reading ---------------------------------------------------------------------------------------

def is_moderator(actor: User | None) -> bool:
    return actor is not None and actor.has_role("moderator")


#: The largest id the databases store (a larger one in an address is simply not found).
MAX_ID = 2**31 - 1


def get_question(actor: User | None, question_id: int) -> Question:
    """The question, if this person may see it (hidden ones only for moderators and their author)."""
    question = db.session.get(Question, question_id) if 0 < question_id <= MAX_ID else None
    if question is None or not can_see(actor, question.visibility, question.author_id):
        raise NotFound(NO_SUCH_QUESTION)
    if question.hidden_at is not None and not (is_moderator(actor) or (actor and actor.id == question.author_id)):
        raise NotFound(NO_SUCH_QUESTION)
    return question


def get_answer(actor: User | None, answer_id: int) -> Answer:
    answer = db.session.get(Answer, answer_id) if 0 < answer_id <= MAX_ID else None
    if answer is None:
        raise NotFound(_l("There is no such answer, or you may not see it."))
    get_question(actor, answer.question_id)
    if answer.hidden_at is not None and not (is_moderator(actor) or (actor and actor.id == answer.author_id)):
        raise NotFound(_l("There is no such answer, or you may not see it."))
    return answer


def visible_answers(actor: User | None, question: Question) -> list[Answer]:
    """The answers this person sees: the accepted one first, then by score, then oldest first."""
    answers = [a for a in question.answers if a.hidden_at is None or is_moderator(actor)
               or (actor is not None and actor.id == a.author_id)]
    return sorted(answers, key=lambda a: (a.id != question.accepted_answer_id, -a.score, a.created_at, a.id))


def comments_on(actor: User | None, *, question: Question | None = None, answer: Answer | None = None) -> list[Comment]:
    query = select(Comment).order_by(Comment.created_at, Comment.id)
    query = query.where(Comment.question_id == question.id) if question else query.where(Comment.answer_id == answer.id)
    return [c for c in db.session.scalars(query) if c.hidden_at is None or is_moderator(actor)]


def revisions(question: Question | None = None, answer: Answer | None = None) -> list[PostRevision]:
    query = select(PostRevision).order_by(PostRevision.number.desc())
    query = (query.where(PostRevision.question_id == question.id) if question
             else query.where(PostRevision.answer_id == answer.id))
    return list(db.session.scalars(query))


# Writing ---------------------------------------------------------------------------------------

def ask(actor: User | None, data: QuestionInput) -> Question:
    """Ask a question (anyone signed in)."""
    _signed_in(actor)
    data = _validate_question(actor, data)
    question = Question(title=data.title, body=data.body, html=markup.render(data.body), language=data.language,
                        visibility=data.visibility, author=actor, community_id=data.community_id)
    question.tags = qa_tags.tags_for(data.tags)
    db.session.add(question)
    db.session.flush()
    _add_revision(actor, question=question, title=data.title, body=data.body, summary=data.summary)
    changed_question(question)
    notify.asked(actor, question)
    logger.info("%s asked question %d", actor.username, question.id)
    return question


def edit_question(actor: User | None, question: Question, data: QuestionInput) -> Question:
    """Save a new revision of a question (its author, or a moderator)."""
    check_may_edit(actor, question.author_id, question)
    data = _validate_question(actor, data)
    before = question.html
    question.title, question.body, question.html = data.title, data.body, markup.render(data.body)
    question.language, question.visibility, question.community_id = data.language, data.visibility, data.community_id
    question.tags = qa_tags.tags_for(data.tags)
    question.revision += 1
    question.active_at = utcnow()
    _add_revision(actor, question=question, title=data.title, body=data.body, summary=data.summary)
    changed_question(question, with_answers=True)
    notify.question_edited(actor, question, before)
    return question


def answer(actor: User | None, question: Question, body: str) -> Answer:
    """Answer a question that is open (anyone signed in who may see it)."""
    _signed_in(actor)
    # Answers given at the same moment wait for each other here, so that each is counted (and one
    # given while the question is being closed sees it closed).
    lock_row(question, "answer_count")
    _open_for_replies(question)
    if question.is_closed:
        raise Conflict(_l("This question is closed, so it takes no new answers: %(reason)s",
                          reason=question.closed_reason or ""))
    body = _validate_body(body)
    reply = Answer(question=question, body=body, html=markup.render(body), author=actor)
    db.session.add(reply)
    count_answers(question)
    _active(question)
    _add_revision(actor, answer=reply, body=body)
    changed_answer(reply)
    notify.answered(actor, reply)
    logger.info("%s answered question %d", actor.username, question.id)
    return reply


def edit_answer(actor: User | None, reply: Answer, body: str, summary: str = "") -> Answer:
    check_may_edit(actor, reply.author_id, reply.question)
    body = _validate_body(body)
    before = reply.html
    reply.body, reply.html, reply.revision, reply.updated_at = body, markup.render(body), reply.revision + 1, utcnow()
    _active(reply.question)
    _add_revision(actor, answer=reply, body=body, summary=_validate_summary(summary))
    changed_answer(reply)
    notify.answer_edited(actor, reply, before)
    return reply


def comment(actor: User | None, body: str, *, question: Question | None = None, answer: Answer | None = None) -> Comment:
    """Comment on a question or an answer (not on a locked question)."""
    _signed_in(actor)
    target_question = question or answer.question
    _open_for_replies(target_question)
    body = _check_text(body, "body").strip()
    if not body:
        raise Invalid(_l("The comment is empty."), field="body")
    if len(body) > MAX_COMMENT:
        raise Invalid(_l("A comment may have at most %(max)d characters.", max=MAX_COMMENT), field="body")
    remark = Comment(question_id=question.id if question else None, answer_id=answer.id if answer else None,
                     body=body, html=markup.render(body), author=actor)
    db.session.add(remark)
    db.session.flush()
    _active(target_question)
    changed_parent(remark)
    notify.commented(actor, remark, question, answer)
    return remark


def vote(actor: User | None, value: int, *, question: Question | None = None, answer: Answer | None = None) -> int:
    """Vote +1 or -1, or take a vote back with 0; a second vote replaces the first. Returns the new score."""
    _signed_in(actor)
    if type(value) is not int or value not in (-1, 0, 1):
        raise Invalid(_l("A vote is 1 (up), -1 (down) or 0 (take my vote back)."), field="value")
    item = question or answer
    if item.author_id == actor.id:
        raise Forbidden(_l("You cannot vote on what you wrote yourself."))
    _refuse_if_locked(question or answer.question, _l("This question is locked: it takes no votes."))
    # Concurrent votes on an item wait for each other: the score is always the sum of the votes, and a
    # person's two quick votes never both count.
    lock_row(item, "score")
    target = Vote.question_id == item.id if question else Vote.answer_id == item.id
    existing = db.session.scalar(select(Vote).where(Vote.user_id == actor.id, target))
    if value == 0:
        if existing is not None:
            db.session.delete(existing)
    elif existing is None:
        db.session.add(Vote(user_id=actor.id, value=value, question_id=question.id if question else None,
                            answer_id=answer.id if answer else None))
    else:
        existing.value = value
    db.session.flush()
    item.score = db.session.scalar(select(func.coalesce(func.sum(Vote.value), 0)).where(target))
    db.session.flush()
    return item.score


def my_vote(actor: User | None, *, question: Question | None = None, answer: Answer | None = None) -> int:
    if actor is None:
        return 0
    target = Vote.question_id == question.id if question else Vote.answer_id == answer.id
    return db.session.scalar(select(Vote.value).where(Vote.user_id == actor.id, target)) or 0


def accept(actor: User | None, reply: Answer) -> None:
    """Mark the answer that solved the question (its asker, or a moderator); another accepted one is replaced."""
    _signed_in(actor)
    question = reply.question
    if actor.id != question.author_id and not is_moderator(actor):
        raise Forbidden(_l("Only the person who asked, or a moderator, may accept an answer."))
    if reply.hidden_at is not None:
        raise Conflict(_l("A hidden answer cannot be accepted."))
    _refuse_if_locked(question, _l("This question is locked."))
    previous = question.accepted_answer
    question.accepted_answer = reply
    question.active_at = utcnow()
    db.session.flush()
    for changed in {previous, reply} - {None}:
        changed_answer(changed)
    changed_question(question)
    if previous is not reply:
        notify.accepted(actor, reply)


def unaccept(actor: User | None, question: Question) -> None:
    _signed_in(actor)
    if actor.id != question.author_id and not is_moderator(actor):
        raise Forbidden(_l("Only the person who asked, or a moderator, may accept an answer."))
    _refuse_if_locked(question, _l("This question is locked."))
    previous = question.accepted_answer
    question.accepted_answer = None
    db.session.flush()
    if previous is not None:
        changed_answer(previous)
    changed_question(question)


# Rules shared by the operations ------------------------------------------------------------------

def _signed_in(actor: User | None) -> None:
    if actor is None:
        raise Unauthorized(_l("Sign in to take part in questions and answers."))


def check_may_edit(actor: User | None, author_id: int | None, question: Question) -> None:
    """Refuse, with the reason, someone who may not change this question or answer (before showing a form too)."""
    _signed_in(actor)
    if actor.id != author_id and not is_moderator(actor):
        raise Forbidden(_l("Only its author or a moderator may edit this."))
    if not is_moderator(actor):
        _refuse_if_locked(question, _l("This question is locked: only moderators may change it."))


def _refuse_if_locked(question: Question, sentence: LazyString) -> None:
    """Refuse a change to a locked question with the sentence, and the moderator's reason if they gave one."""
    if question.locked_at is None:
        return
    if question.locked_reason:
        raise Conflict(_l("%(refusal)s The moderator's reason: “%(reason)s”.", refusal=sentence,
                          reason=question.locked_reason))
    raise Conflict(sentence)


def _open_for_replies(question: Question) -> None:
    _refuse_if_locked(question, _l("This question is locked: it takes no answers or comments."))
    if question.hidden_at is not None:
        raise Conflict(_l("This question is hidden by a moderator."))


def _check_text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise Invalid(_l("This field must be text."), field=name)
    if UNSTORABLE.search(value):
        raise Invalid(_l("The text contains a character that cannot be stored (NUL or an unpaired surrogate)."),
                      field=name)
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _validate_body(body: object) -> str:
    body = _check_text(body, "body")
    if not body.strip():
        raise Invalid(_l("The text is empty."), field="body")
    limit = current_app.config["KNET"]["max_body_bytes"]
    if len(body.encode("utf-8")) > limit:
        raise TooLarge(_l("The text is larger than this node's limit of %(kib)d KiB.", kib=limit // 1024),
                       field="body")
    return body


def _validate_summary(summary: object) -> str:
    summary = _check_text(summary, "summary").strip()
    if len(summary) > MAX_SUMMARY:
        raise Invalid(_l("The edit summary is longer than %(max)d characters.", max=MAX_SUMMARY), field="summary")
    return summary


def _validate_question(actor: User, data: QuestionInput) -> QuestionInput:
    title = " ".join(_check_text(data.title, "title").split())
    if len(title) < MIN_TITLE:
        raise Invalid(_l("Say what you want to know in a title of at least %(min)d characters.", min=MIN_TITLE),
                      field="title")
    if len(title) > MAX_TITLE:
        raise Invalid(_l("The title is longer than %(max)d characters.", max=MAX_TITLE), field="title")
    if data.language not in LANGUAGES:
        raise Invalid(_l("The language must be one of %(choices)s.", choices=", ".join(LANGUAGES)), field="language")
    if data.visibility not in VISIBILITIES:
        raise Invalid(_l("The visibility must be one of %(choices)s.", choices=", ".join(VISIBILITIES)),
                      field="visibility")
    if data.community_id is not None:
        _check_community(actor, data.community_id)
    return QuestionInput(title, _validate_body(data.body), qa_tags.normalise(data.tags or []), data.language,
                         data.visibility, data.community_id, _validate_summary(data.summary))


def _check_community(actor: User, community_id: object) -> None:
    """Refuse a community that does not exist or that the asker may not see, as qa.communities reads them
    (which imports this module, so the rule is repeated here rather than imported)."""
    valid_id = type(community_id) is int and 0 < community_id <= MAX_ID
    community = db.session.get(Community, community_id) if valid_id else None
    if community is None or not can_see(actor, community.visibility, None):
        raise Invalid(_l("There is no such community, or you may not see it."), field="community")


def _add_revision(actor: User, *, question: Question | None = None, answer: Answer | None = None,
                  title: str = "", body: str, summary: str = "") -> None:
    number = question.revision if question else answer.revision
    db.session.add(PostRevision(question_id=question.id if question else None,
                                answer_id=answer.id if answer else None, number=number, title=title, body=body,
                                summary=summary, author_id=actor.id))
    db.session.flush()


def question_uri(question_id: int) -> str:
    return f"{current_app.config['KNET']['url']}/questions/{question_id}"


def answer_uri(answer_id: int) -> str:
    return f"{current_app.config['KNET']['url']}/answers/{answer_id}"


def changed_question(question: Question, *, with_answers: bool = False) -> None:
    """Tell the rest of the node (the search index now, peers later) that a question changed; `with_answers`
    when the change reaches its answers too (they carry its title, tags, language and visibility, and are
    shared only while it is)."""
    content.changed(QUESTION_TYPE, question.id, question_uri(question.id))
    if with_answers:
        for reply in question.answers:
            changed_answer(reply)


def count_answers(question: Question) -> None:
    """Set the question's answer count to the number of its visible answers. The caller has locked
    the question (lock_row(question, "answer_count")), so that answers given or hidden at the same
    moment are all counted."""
    db.session.flush()
    question.answer_count = db.session.scalar(select(func.count()).select_from(Answer).where(
        Answer.question_id == question.id, Answer.hidden_at.is_(None)))


def _active(question: Question) -> None:
    """Something happened under the question (an answer, an edit, a comment): its last activity is the date of
    its search document, so the index hears of it too (else `knet index check` finds the question stale).
    Peers are not told: what they receive of the question did not change."""
    question.active_at = utcnow()
    content.reindex(QUESTION_TYPE, question.id, question_uri(question.id))


def changed_answer(reply: Answer) -> None:
    """Tell the rest of the node that an answer changed (accepting one changes its rank too)."""
    content.changed(ANSWER_TYPE, reply.id, answer_uri(reply.id))


def changed_parent(remark: Comment) -> None:
    """A comment is shown, and travels, as part of its question or answer: that one changed."""
    if remark.question_id is not None:
        changed_question(db.session.get(Question, remark.question_id))
    else:
        changed_answer(db.session.get(Answer, remark.answer_id))
