"""Courses as trainers make them: their description, trainers, tags, prerequisites and state, and who
may see or change them.

A course's trainers (and the node's administrators) edit it; anyone with the trainer role may
create one. Learners see a course once it is published, if its visibility lets them; a draft is
seen only by those who may edit it. Services flush; the caller commits.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from auth.access import can_see, require_role
from auth.models import User
from knet import content, markup
from knet.config import LANGUAGES, LICENCES, VISIBILITIES
from knet.db import db, utcnow
from knet.errors import Forbidden, Invalid, NotFound, TooLarge, Unauthorized
from knet.search import fold
from learning.models import Course, CourseTag

logger = logging.getLogger(__name__)

COURSE_TYPE = "learning.course"
MIN_TITLE, MAX_TITLE = 3, 200
MAX_SUMMARY = 500
MAX_TAGS, MAX_TAG_LENGTH = 10, 50
MAX_TRAINERS = 20
MAX_PREREQUISITES = 20
#: A week of study: beyond that an estimate is a typing mistake.
MAX_MINUTES = 7 * 24 * 60
#: The largest id the databases store.
MAX_ID = 2**31 - 1
#: Control characters (but tab and line breaks) and halves of surrogate pairs: never stored.
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
NO_SUCH_COURSE = _l("There is no such course, or you may not see it.")


@dataclass
class CourseInput:
    title: str
    summary: str = ""
    description: str = ""
    language: str = "el"
    visibility: str = "internal"
    licence: str = "CC-BY-4.0"
    tags: list[str] = field(default_factory=list)
    estimated_minutes: int = 0
    community_uri: str | None = None
    #: Usernames of the trainers (None: keep them as they are; the creator is always one at first).
    trainers: list[str] | None = None
    #: Ids of the courses to complete first.
    prerequisites: list[int] = field(default_factory=list)


def course_uri(course_id: int) -> str:
    return f"{current_app.config['KNET']['url']}/learning/courses/{course_id}"


# Who may do what ---------------------------------------------------------------------------------

def may_edit(actor: User | None, course: Course) -> bool:
    """The course's trainers edit a course, and so do the node's administrators unless it is private
    (a private course is its trainers' own, like any private object)."""
    if actor is None:
        return False
    return any(t.id == actor.id for t in course.trainers) or (actor.is_admin and course.visibility != "private")


def require_editor(actor: User | None, course: Course) -> User:
    if actor is None:
        raise Unauthorized(_l("Sign in first."))
    if not may_edit(actor, course):
        raise Forbidden(_l("Only the trainers of “%(title)s” may change it.", title=course.title))
    return actor


def may_see(actor: User | None, course: Course) -> bool:
    """Learners see published and archived courses their visibility allows; editors see drafts too."""
    if may_edit(actor, course):
        return True
    author = course.created_by_id if course.visibility == "private" else None
    return course.state != "draft" and can_see(actor, course.visibility, author)


def editable_by(actor: User) -> list[Course]:
    """The courses this person may edit (see may_edit), most recently changed first."""
    mine = Course.trainers.any(User.id == actor.id)
    condition = or_(mine, Course.visibility != "private") if actor.is_admin else mine
    return list(db.session.scalars(select(Course).where(condition).order_by(Course.updated_at.desc())))


def requirable(actor: User, course: Course | None) -> list[Course]:
    """The courses a trainer may name as prerequisites of `course` (None: a new one): published ones they
    may see, and those already named, by title."""
    chosen = list(course.prerequisites) if course else []
    published = db.session.scalars(select(Course).where(Course.state == "published").order_by(Course.title))
    return [other for other in dict.fromkeys([*chosen, *published])
            if (course is None or other.id != course.id) and (other in chosen or may_see(actor, other))]


def get_course(actor: User | None, course_id: int) -> Course:
    course = db.session.get(Course, course_id) if 0 < course_id <= MAX_ID else None
    if course is None or not may_see(actor, course):
        raise NotFound(NO_SUCH_COURSE)
    return course


# Writing -----------------------------------------------------------------------------------------

def create_course(actor: User | None, data: CourseInput) -> Course:
    """Start a course as a draft; its creator is its first trainer (people with the trainer role)."""
    require_role(actor, "trainer")
    course = Course(created_by_id=actor.id, state="draft")
    _apply(actor, course, data)
    if actor not in course.trainers:
        course.trainers.insert(0, actor)
    db.session.add(course)
    db.session.flush()
    changed(course)
    logger.info("%s created course %d", actor.username, course.id)
    return course


def update_course(actor: User | None, course: Course, data: CourseInput) -> Course:
    """Change what a course says about itself; the trainers listed must include at least one."""
    require_editor(actor, course)
    _apply(actor, course, data)
    course.updated_at = utcnow()
    course.has_unpublished_changes = True
    db.session.flush()
    changed(course)
    return course


def set_state(actor: User | None, course: Course, state: str) -> Course:
    """Archive a published course (it leaves the catalogue; its learners keep it) or bring it back.
    Publishing goes through learning.versions.publish, which freezes a version."""
    require_editor(actor, course)
    if state not in ("published", "archived"):
        raise Invalid(_l("A course is published (through “Publish”) or archived."), field="state")
    if course.published_version == 0:
        raise Invalid(_l("Publish the course first."), field="state")
    course.state = state
    course.updated_at = utcnow()
    db.session.flush()
    changed(course)
    return course


def changed(course: Course) -> None:
    content.changed(COURSE_TYPE, course.id, course_uri(course.id))


# Checking what came in ---------------------------------------------------------------------------

def _apply(actor: User, course: Course, data: CourseInput) -> None:
    title = checked_text(data.title, "title").strip()
    if not MIN_TITLE <= len(title) <= MAX_TITLE:
        raise Invalid(_l("The title must have between %(min)d and %(max)d characters.", min=MIN_TITLE,
                         max=MAX_TITLE), field="title")
    summary = " ".join(checked_text(data.summary, "summary").split())
    if len(summary) > MAX_SUMMARY:
        raise Invalid(_l("The summary may have at most %(max)d characters.", max=MAX_SUMMARY), field="summary")
    description = checked_text(data.description, "description")
    limit = current_app.config["KNET"]["max_body_bytes"]
    if len(description.encode("utf-8")) > limit:
        raise TooLarge(_l("The description is larger than %(kb)d KB.", kb=limit // 1024))
    _choice(data.language, LANGUAGES, "language")
    _choice(data.visibility, VISIBILITIES, "visibility")
    _choice(data.licence, LICENCES, "licence")
    minutes = data.estimated_minutes
    if type(minutes) is not int or not 0 <= minutes <= MAX_MINUTES:
        raise Invalid(_l("The estimated duration is a whole number of minutes, at most %(max)d.",
                         max=MAX_MINUTES), field="estimated_minutes")
    community = data.community_uri or None
    if community is not None and (not isinstance(community, str) or len(community) > 300
                                  or not community.startswith(("http://", "https://"))):
        raise Invalid(_l("The community is given by its address."), field="community_uri")
    # Everything is checked before anything changes, so a refusal leaves the course as it was.
    tags = _tags(data.tags)
    trainers = course.trainers if data.trainers is None else _trainers(data.trainers)
    if course.id is not None and not trainers:
        raise Invalid(_l("A course needs at least one trainer."), field="trainers")
    prerequisites = _prerequisites(actor, course, data.prerequisites)
    course.title, course.summary, course.language = title, summary, data.language
    course.description, course.description_html = description, markup.render(description)
    course.visibility, course.licence, course.estimated_minutes = data.visibility, data.licence, minutes
    course.community_uri = community
    course.tags, course.trainers, course.prerequisites = tags, list(trainers), prerequisites


def checked_text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise Invalid(_l("“%(field)s” must be text.", field=name), field=name)
    if UNSTORABLE.search(value):
        raise Invalid(_l("“%(field)s” contains characters that cannot be stored (control characters).",
                         field=name), field=name)
    return value


def _choice(value: object, allowed: Iterable[str], name: str) -> None:
    if value not in allowed:
        raise Invalid(_l("“%(field)s” must be one of %(choices)s.", field=name, choices=", ".join(allowed)),
                      field=name)


def tag_key(name: str) -> str:
    return fold(" ".join(name.split()))


def _tags(names: object) -> list[CourseTag]:
    if not isinstance(names, list) or any(not isinstance(n, str) for n in names):
        raise Invalid(_l("Tags are a list of words."), field="tags")
    found: dict[str, str] = {}
    for raw in names:
        name = " ".join(raw.split())
        if not name:
            continue
        if UNSTORABLE.search(name) or set(",<>\"'`") & set(name) or len(name) > MAX_TAG_LENGTH:
            raise Invalid(_l("A tag has at most %(max)d characters and no commas, quotes or angle brackets: "
                             "“%(tag)s”.", max=MAX_TAG_LENGTH, tag=name[:30]), field="tags")
        found.setdefault(tag_key(name), name)
    if len(found) > MAX_TAGS:
        raise Invalid(_l("A course may have at most %(max)d tags.", max=MAX_TAGS), field="tags")
    tags = []
    for key, name in found.items():
        tag = db.session.scalar(select(CourseTag).where(CourseTag.key == key))
        if tag is None:
            tag = CourseTag(name=name, key=key)
            db.session.add(tag)
        tags.append(tag)
    return tags


def _trainers(usernames: object) -> list[User]:
    if not isinstance(usernames, list) or any(not isinstance(n, str) for n in usernames):
        raise Invalid(_l("Trainers are a list of usernames."), field="trainers")
    wanted = list(dict.fromkeys(n.strip() for n in usernames if n.strip()))
    if len(wanted) > MAX_TRAINERS:
        raise Invalid(_l("A course may have at most %(max)d trainers.", max=MAX_TRAINERS), field="trainers")
    trainers = []
    for username in wanted:
        person = User.by_username(username)
        if person is None or not person.active:
            raise Invalid(_l("There is nobody with the username “%(name)s” on this node.", name=username[:64]),
                          field="trainers")
        if not person.has_role("trainer"):
            raise Invalid(_l("%(name)s does not have the trainer role, so cannot be a trainer of a course.",
                             name=person.name), field="trainers")
        trainers.append(person)
    return trainers


def _prerequisites(actor: User, course: Course, ids: object) -> list[Course]:
    if not isinstance(ids, list) or any(type(i) is not int for i in ids):
        raise Invalid(_l("Prerequisites are a list of course ids."), field="prerequisites")
    if len(set(ids)) > MAX_PREREQUISITES:
        raise Invalid(_l("A course may have at most %(max)d prerequisites.", max=MAX_PREREQUISITES),
                      field="prerequisites")
    required = []
    for course_id in dict.fromkeys(ids):
        other = db.session.get(Course, course_id) if 0 < course_id <= MAX_ID else None
        if other is None or not may_see(actor, other):
            raise Invalid(_l("There is no course number %(id)d, or you may not see it.", id=course_id),
                          field="prerequisites")
        if course.id is not None and other.id == course.id:
            raise Invalid(_l("A course cannot require itself."), field="prerequisites")
        if course.id is not None and _requires(other, course.id):
            raise Invalid(_l("“%(title)s” already requires this course: prerequisites cannot go round in a circle.",
                             title=other.title), field="prerequisites")
        required.append(other)
    return required


def _requires(course: Course, target_id: int, seen: set[int] | None = None) -> bool:
    """Whether `course` needs the course `target_id`, directly or through its own prerequisites."""
    seen = seen if seen is not None else set()
    for required in course.prerequisites:
        if required.id == target_id:
            return True
        if required.id not in seen:
            seen.add(required.id)
            if _requires(required, target_id, seen):
                return True
    return False
