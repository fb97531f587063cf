"""Tags of questions: one tag per folded name, so case, accents and spaces never make two; and the
tags people follow, to hear of new questions in them (qa.notify)."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from auth.models import User
from knet.db import db
from knet.errors import Invalid, Unauthorized
from knet.search import fold
from qa.models import QuestionTag, question_tags, tag_follows

logger = logging.getLogger(__name__)

MAX_TAGS = 10
MAX_TAG_LENGTH = 50
_FORBIDDEN = set(",<>\"'`\x00")
#: Control characters, and halves of surrogate pairs (which no database stores): never in a tag.
_UNSTORABLE = re.compile("[\x00-\x1f\ud800-\udfff]")


def tag_key(name: str) -> str:
    """What makes two tags one: «Προμήθειες», «ΠΡΟΜΗΘΕΙΕΣ» and « προμηθειες » are all «προμηθειεσ»."""
    return fold(" ".join(name.split()))


def normalise(names: Iterable[object]) -> list[str]:
    """Trimmed tag names without repeats (by key), or Invalid naming the problem."""
    found: dict[str, str] = {}
    for raw in names:
        if not isinstance(raw, str):
            raise Invalid(_l("Each tag must be text."), field="tags")
        name = " ".join(raw.split())
        if not name:
            continue
        if _FORBIDDEN & set(name) or _UNSTORABLE.search(name):
            raise Invalid(_l("A tag may not contain commas, quotes, angle brackets or control characters: “%(tag)s”.",
                             tag=name[:30]), field="tags")
        if len(name) > MAX_TAG_LENGTH:
            raise Invalid(_l("A tag is longer than %(max)d characters: “%(start)s…”.", max=MAX_TAG_LENGTH,
                             start=name[:20]), field="tags")
        found.setdefault(tag_key(name), name)
    if len(found) > MAX_TAGS:
        raise Invalid(_l("A question may have at most %(max)d tags.", max=MAX_TAGS), field="tags")
    return list(found.values())


def tags_for(names: list[str]) -> list[QuestionTag]:
    """The tags with these (normalised) names, created when new; an existing tag keeps its first spelling."""
    tags = []
    for name in names:
        key = tag_key(name)
        tag = db.session.scalar(select(QuestionTag).where(QuestionTag.key == key))
        if tag is None:
            tag = QuestionTag(name=name, key=key)
            db.session.add(tag)
        tags.append(tag)
    return tags


def find(name: str) -> QuestionTag | None:
    key = tag_key(name) if not _UNSTORABLE.search(name) else ""
    return db.session.scalar(select(QuestionTag).where(QuestionTag.key == key)) if key else None


def suggestions(prefix: str, limit: int = 10) -> list[tuple[QuestionTag, int]]:
    """Tags in use whose name (or a word of it) starts with the prefix, the most used first."""
    key = tag_key(prefix)
    if not key:
        return []
    uses = func.count(question_tags.c.question_id).label("uses")
    query = (select(QuestionTag, uses).join(question_tags, question_tags.c.tag_id == QuestionTag.id)
             .where(QuestionTag.key.startswith(key, autoescape=True)
                    | QuestionTag.key.contains(" " + key, autoescape=True))
             .group_by(QuestionTag.id).order_by(uses.desc(), QuestionTag.key).limit(max(1, min(limit, 50))))
    return [(tag, count) for tag, count in db.session.execute(query)]


def named(name: object) -> QuestionTag:
    """The tag with this name (created when new, so that a topic can be followed before its first
    question), or Invalid saying what is wrong with the name."""
    names = normalise([name])
    if not names:
        raise Invalid(_l("Name the tag."), field="tag")
    return tags_for(names)[0]


# Following -----------------------------------------------------------------------------------------

def follow(actor: User | None, tag: QuestionTag, following: bool = True) -> None:
    """Follow a tag (hear of each new question in it), or stop following it; doing it twice changes nothing."""
    _signed_in(actor)
    db.session.flush()  # a tag just made by `named` needs its id
    if following and not is_following(actor, tag):
        db.session.execute(tag_follows.insert().values(user_id=actor.id, tag_id=tag.id))
        logger.info("%s follows tag %s", actor.username, tag.key)
    elif not following:
        db.session.execute(delete(tag_follows).where(tag_follows.c.user_id == actor.id,
                                                     tag_follows.c.tag_id == tag.id))
    db.session.flush()


def is_following(actor: User | None, tag: QuestionTag | None) -> bool:
    if actor is None or tag is None or tag.id is None:
        return False
    return db.session.scalar(select(func.count()).select_from(tag_follows).where(
        tag_follows.c.user_id == actor.id, tag_follows.c.tag_id == tag.id)) > 0


def followed_tags(actor: User | None) -> list[QuestionTag]:
    """The tags this person follows, by name."""
    _signed_in(actor)
    return list(db.session.scalars(select(QuestionTag).join(tag_follows, tag_follows.c.tag_id == QuestionTag.id)
                                   .where(tag_follows.c.user_id == actor.id).order_by(QuestionTag.key)))


def _signed_in(actor: User | None) -> None:
    if actor is None:
        raise Unauthorized(_l("Sign in to follow tags."))
