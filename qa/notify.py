"""Who hears of what happens in Q&A: the asker of each answer, the author of what is commented on or
accepted, the people @mentioned, and those who follow a new question's tags or community.

qa.services calls these in the same transaction as the change. One change tells each person at most
once (the most personal reason wins), never the person who made it, nobody about hidden content, and
nobody about a question they may not read (its title is the notification's subject).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from auth import notifications
from auth.access import can_see
from auth.models import User
from knet.db import db
from qa.models import Answer, Comment, Membership, Question, tag_follows

KINDS = {
    "qa.answer": _l("%(actor)s answered your question “%(subject)s”"),
    "qa.comment": _l("%(actor)s commented on your post in “%(subject)s”"),
    "qa.accepted": _l("%(actor)s accepted your answer to “%(subject)s”"),
    "qa.mention": _l("%(actor)s mentioned you in “%(subject)s”"),
    "qa.followed_tag": _l("%(actor)s asked “%(subject)s” in a topic you follow"),
    "qa.followed_community": _l("%(actor)s asked “%(subject)s” in a topic you follow"),
}
#: Mentions beyond these many in one text are not told (a pasted list of everyone is not a conversation).
MAX_MENTIONS = 20
#: The longest username an account may have (auth.models.User.username).
MAX_USERNAME = 64
#: @ and a username (anything but spaces, as auth allows): not after a letter, digit or the like, so
#: that maria@example.gr is an e-mail address, not a mention; nor when another @ follows.
_MENTION = re.compile(r"(?<![\w@.+\-/\\])@([^\s@]++)(?!@)")
#: The username without what follows it in a sentence: "@maria," or "(@maria)" mention maria.
_WORDLIKE = re.compile(r"\w(?:[\w.\-]*\w)?")


def init_app(app: Flask) -> None:
    """Register the kinds of Q&A notifications."""
    for kind, message in KINDS.items():
        notifications.register_kind(app, kind, message)


# What happened -----------------------------------------------------------------------------------

def asked(actor: User, question: Question) -> None:
    """A new question: the people it mentions, then those who follow its community or one of its tags."""
    if question.hidden_at is not None:
        return
    url = _path(question)
    told = _mentions(actor, question, question.html, url)
    told |= _tell(_community_followers(question), "qa.followed_community", actor, question, url, told)
    _tell(_tag_followers(question), "qa.followed_tag", actor, question, url, told)


def question_edited(actor: User, question: Question, before_html: str) -> None:
    """A new revision of a question: only the people it mentions that the one before did not."""
    if question.hidden_at is None:
        _mentions(actor, question, question.html, _path(question), before_html)


def answered(actor: User, reply: Answer) -> None:
    """A new answer: the asker, then the people it mentions."""
    question = reply.question
    if question.hidden_at is not None or reply.hidden_at is not None:
        return
    url = _path(question, f"answer-{reply.id}")
    told = _tell([question.author], "qa.answer", actor, question, url)
    _mentions(actor, question, reply.html, url, exclude=told)


def answer_edited(actor: User, reply: Answer, before_html: str) -> None:
    """A new revision of an answer: only the people it mentions that the one before did not."""
    question = reply.question
    if question.hidden_at is None and reply.hidden_at is None:
        _mentions(actor, question, reply.html, _path(question, f"answer-{reply.id}"), before_html)


def commented(actor: User, remark: Comment, question: Question | None = None, answer: Answer | None = None) -> None:
    """A new comment: the author of what it is under (the question or the answer), then the people it mentions."""
    target = question or answer
    asked_in = question or answer.question
    if any(item.hidden_at is not None for item in (remark, target, asked_in)):
        return
    url = _path(asked_in, f"comment-{remark.id}")
    told = _tell([target.author], "qa.comment", actor, asked_in, url)
    _mentions(actor, asked_in, remark.html, url, exclude=told)


def accepted(actor: User, reply: Answer) -> None:
    """An answer accepted: its author (unless they accepted it themselves, as a moderator may)."""
    question = reply.question
    if question.hidden_at is None and reply.hidden_at is None:
        _tell([reply.author], "qa.accepted", actor, question, _path(question, f"answer-{reply.id}"))


# Mentions ----------------------------------------------------------------------------------------

def mentioned_names(html: str) -> list[str]:
    """The @names in a text rendered from Markdown, outside code, without repeats (by case), at most MAX_MENTIONS.

    The rendered HTML is read rather than the Markdown source so that code spans and blocks are exactly
    those Markdown makes."""
    prose = _Prose()
    prose.feed(html)
    prose.close()
    names: dict[str, str] = {}
    for match in _MENTION.finditer(" ".join(prose.parts)):
        names.setdefault(match.group(1).lower(), match.group(1))
        if len(names) == MAX_MENTIONS:
            break
    return list(names.values())


def mentioned_people(html: str) -> list[User]:
    """The active accounts a text mentions, by username, whatever its case (an exact spelling wins)."""
    names = mentioned_names(html)
    candidates = {name: [name] + [m.group(0) for m in [_WORDLIKE.match(name)] if m and m.group(0) != name]
                  for name in names}
    spellings = {spelling for found in candidates.values() for spelling in found if len(spelling) <= MAX_USERNAME}
    if not spellings:
        return []
    accounts = db.session.scalars(select(User).where(User.active, or_(
        User.username.in_(spellings), func.lower(User.username).in_({s.lower() for s in spellings})))).all()
    exact = {person.username: person for person in accounts}
    folded = {person.username.lower(): person for person in accounts}
    people = []
    for name in names:
        for spelling in candidates[name]:
            person = exact.get(spelling) or folded.get(spelling.lower())
            if person is not None:
                people.append(person)
                break
    return people


class _Prose(HTMLParser):
    """The text of sanitised HTML outside <code> and <pre>, each element's text apart from the next."""

    CODE = {"code", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.in_code = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        self.in_code += tag in self.CODE

    def handle_endtag(self, tag: str) -> None:
        self.in_code = max(0, self.in_code - (tag in self.CODE))

    def handle_data(self, data: str) -> None:
        if not self.in_code:
            self.parts.append(data)


def _mentions(actor: User, question: Question, html: str, url: str, before_html: str | None = None,
              exclude: Iterable[int] = ()) -> set[int]:
    """Tell the people mentioned in a text (on an edit, only those the text before did not mention)."""
    already = {person.id for person in mentioned_people(before_html)} if before_html is not None else set()
    return _tell(mentioned_people(html), "qa.mention", actor, question, url, set(exclude) | already)


# Followers ---------------------------------------------------------------------------------------

def _community_followers(question: Question) -> list[User]:
    if question.community_id is None:
        return []
    return list(db.session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.community_id == question.community_id, Membership.following, User.active)))


def _tag_followers(question: Question) -> list[User]:
    """Those who follow any of the question's tags, in one query however many tags it has."""
    tag_ids = [tag.id for tag in question.tags]
    if not tag_ids:
        return []
    followers = select(tag_follows.c.user_id).where(tag_follows.c.tag_id.in_(tag_ids))
    return list(db.session.scalars(select(User).where(User.id.in_(followers), User.active).order_by(User.id)))


# Telling -----------------------------------------------------------------------------------------

def _tell(people: Iterable[User | None], kind: str, actor: User, question: Question, url: str,
          exclude: Iterable[int] = ()) -> set[int]:
    """Notify those of these people who may read the question; returns the ids of those told."""
    readers = [person for person in people
               if person is not None and can_see(person, question.visibility, question.author_id)]
    return notifications.notify(readers, kind, actor=actor, subject=question.title, url=url, exclude=exclude)


def _path(question: Question, anchor: str | None = None) -> str:
    """Where the question's page shows it (the anchors are those of qa/question.html)."""
    return f"/questions/{question.id}" + (f"#{anchor}" if anchor else "")
