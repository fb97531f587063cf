"""Tags of questions: one tag per folded name, so case, accents and spaces never make two."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from knet.db import db
from knet.errors import Invalid
from knet.search import fold
from qa.models import QuestionTag, question_tags

MAX_TAGS = 10
MAX_TAG_LENGTH = 50
_FORBIDDEN = set(",<>\"'`\x00")


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
        if _FORBIDDEN & set(name) or any(ord(char) < 32 for char in name):
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
    key = tag_key(name)
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
