"""Keeping Q&A useful: closing, reopening, duplicates, locking, hiding and restoring, flags, the log."""
from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auth.access import require_role
from auth.models import User
from knet.db import db, lock_row, utcnow
from knet.errors import Conflict, Invalid, NotFound, Unauthorized
from qa import services
from qa.models import Answer, Comment, Flag, ModerationEntry, Question

logger = logging.getLogger(__name__)

MAX_REASON = 500
TARGETS = {"question": Question, "answer": Answer, "comment": Comment}


def close(actor: User | None, question: Question, reason: str) -> None:
    """Close a question (it takes no new answers) with the reason shown on it; a moderator's act."""
    require_role(actor, "moderator")
    if question.is_closed:
        raise Conflict(_l("This question is already closed."))
    question.closed_reason, question.closed_at = _reason(reason), utcnow()
    _log(actor, "close", "question", question.id, question.closed_reason)
    services.changed_question(question)


def reopen(actor: User | None, question: Question) -> None:
    require_role(actor, "moderator")
    if not question.is_closed:
        raise Conflict(_l("This question is not closed."))
    question.closed_reason = question.closed_at = question.duplicate_of_id = None
    _log(actor, "reopen", "question", question.id)
    services.changed_question(question)


def mark_duplicate(actor: User | None, question: Question, original: Question) -> None:
    """Close a question as a repeat of another; it then points to the original (its asker or a moderator)."""
    if actor is None:
        raise Unauthorized(_l("Sign in first."))
    if actor.id != question.author_id:
        require_role(actor, "moderator")
    if original.id == question.id:
        raise Invalid(_l("A question cannot be a duplicate of itself."), field="original")
    seen, step = {question.id}, original
    while step is not None:  # never a circle of duplicates
        if step.id in seen:
            raise Invalid(_l("That question is itself marked as a duplicate of this one."), field="original")
        seen.add(step.id)
        step = step.duplicate_of
    question.duplicate_of = original
    question.closed_at = utcnow()
    question.closed_reason = f"duplicate of #{original.id}"
    _log(actor, "duplicate", "question", question.id, f"of question {original.id}")
    services.changed_question(question)


def lock(actor: User | None, question: Question, reason: str = "") -> None:
    """Freeze a question: no answers, comments, votes or edits (except by moderators); the reason, if
    given, is shown on it."""
    require_role(actor, "moderator")
    reason = _reason(reason, required=False)
    question.locked_at, question.locked_reason = utcnow(), reason or None
    _log(actor, "lock", "question", question.id, reason)


def unlock(actor: User | None, question: Question) -> None:
    require_role(actor, "moderator")
    question.locked_at = question.locked_reason = None
    _log(actor, "unlock", "question", question.id)


def hide(actor: User | None, target_type: str, target_id: int, reason: str) -> None:
    """Hide a question, answer or comment from everyone but moderators (and its author), with a reason."""
    require_role(actor, "moderator")
    item = _locked(_target(target_type, target_id))
    if item.hidden_at is not None:
        raise Conflict(_l("This is already hidden."))
    item.hidden_reason, item.hidden_at = _reason(reason), utcnow()
    if isinstance(item, Answer):
        services.count_answers(item.question)
        if item.question.accepted_answer_id == item.id:
            item.question.accepted_answer_id = None
    _log(actor, "hide", target_type, target_id, item.hidden_reason)
    _resolve_flags(actor, target_type, target_id, "hidden")
    _changed(item)


def restore(actor: User | None, target_type: str, target_id: int) -> None:
    require_role(actor, "moderator")
    item = _locked(_target(target_type, target_id))
    if item.hidden_at is None:
        raise Conflict(_l("This is not hidden."))
    item.hidden_reason = item.hidden_at = None
    if isinstance(item, Answer):
        services.count_answers(item.question)
    _log(actor, "restore", target_type, target_id)
    _changed(item)


def flag(actor: User | None, target_type: str, target_id: int, reason: str) -> Flag:
    """Ask the moderators to look at something (anyone signed in who can see it); once per person and item."""
    if actor is None:
        raise Unauthorized(_l("Sign in first."))
    item = _target(target_type, target_id)
    services.get_question(actor, _question_of(item).id)
    already = db.session.scalar(select(Flag).where(Flag.target_type == target_type, Flag.target_id == target_id,
                                                   Flag.flagged_by_id == actor.id, Flag.resolved_at.is_(None)))
    if already is not None:
        return already
    raised = Flag(target_type=target_type, target_id=target_id, reason=_reason(reason), flagged_by_id=actor.id)
    db.session.add(raised)
    db.session.flush()
    return raised


def open_flags(actor: User | None) -> list[Flag]:
    """The moderators' queue: open flags, oldest first."""
    require_role(actor, "moderator")
    return list(db.session.scalars(select(Flag).where(Flag.resolved_at.is_(None)).order_by(Flag.created_at)))


def dismiss(actor: User | None, raised: Flag) -> None:
    require_role(actor, "moderator")
    raised.resolved_at, raised.resolved_by_id, raised.outcome = utcnow(), actor.id, "dismissed"
    _log(actor, "dismiss", raised.target_type, raised.target_id, raised.reason)


def log(actor: User | None, limit: int = 200) -> list[ModerationEntry]:
    require_role(actor, "moderator")
    return list(db.session.scalars(select(ModerationEntry).order_by(ModerationEntry.id.desc()).limit(limit)))


def _target(target_type: str, target_id: int):
    model = TARGETS.get(target_type)
    item = db.session.get(model, target_id) if model else None
    if item is None:
        raise NotFound(_l("There is nothing like that to act on."))
    return item


def _locked(item: Question | Answer | Comment) -> Question | Answer | Comment:
    """The item as it is now, after the moderators hiding or restoring under the same question
    before this one are done (an answer's question counts its visible answers)."""
    lock_row(_question_of(item), "answer_count")
    db.session.refresh(item)
    return item


def _question_of(item: Question | Answer | Comment) -> Question:
    if isinstance(item, Question):
        return item
    if isinstance(item, Answer):
        return item.question
    return db.session.get(Question, item.question_id) if item.question_id else db.session.get(Answer, item.answer_id).question


def _reason(reason: object, required: bool = True) -> str:
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if required and not text:
        raise Invalid(_l("Give a reason: the people involved will read it."), field="reason")
    if services.UNSTORABLE.search(text):
        raise Invalid(_l("The text contains a character that cannot be stored (NUL or an unpaired surrogate)."),
                      field="reason")
    if len(text) > MAX_REASON:
        raise Invalid(_l("The reason may have at most %(max)d characters.", max=MAX_REASON), field="reason")
    return text


def _resolve_flags(actor: User, target_type: str, target_id: int, outcome: str) -> None:
    for raised in db.session.scalars(select(Flag).where(Flag.target_type == target_type, Flag.target_id == target_id,
                                                        Flag.resolved_at.is_(None))):
        raised.resolved_at, raised.resolved_by_id, raised.outcome = utcnow(), actor.id, outcome


def _log(actor: User, action: str, target_type: str, target_id: int, reason: str = "") -> None:
    db.session.add(ModerationEntry(moderator_id=actor.id, action=action, target_type=target_type, target_id=target_id,
                                   reason=reason))
    db.session.flush()
    logger.info("%s: %s %s %d %s", actor.username, action, target_type, target_id, reason)


def _changed(item) -> None:
    if isinstance(item, Question):
        services.changed_question(item, with_answers=True)
    elif isinstance(item, Answer):
        services.changed_answer(item)
        services.changed_question(item.question)  # it may have been the accepted answer
    else:
        services.changed_parent(item)
