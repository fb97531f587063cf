"""Learning a course: enrolling, reading lessons, resuming, and completing.

Progress is kept by the stable keys of lessons and quizzes, so it carries from one published
version to the next. A course is complete when every lesson of its newest version has been viewed,
every quiz passed and every SCORM lesson completed (or passed); completing it issues a certificate
(learning.certificates).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, and_, cast, select

from auth.models import User
from knet.db import db, lock_row, utcnow
from knet.errors import Conflict, NotFound, Unauthorized
from learning import assignments, certificates, versions
from learning.courses import may_see
from learning.models import Course, CourseVersion, Enrolment, Item, Module, Progress

logger = logging.getLogger(__name__)

#: What a lesson's or quiz's key looks like (learning.structure.new_key makes 16 of these): anything else names nothing.
ITEM_KEY = re.compile(r"[0-9a-f]{1,32}")


@dataclass(frozen=True)
class Step:
    """A lesson or quiz of the newest version, with where the learner stands on it."""

    item: dict
    number: int
    done: bool


@dataclass(frozen=True)
class Outline:
    steps: list[Step]

    @property
    def done(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def percent(self) -> int:
        return round(100 * self.done / len(self.steps)) if self.steps else 0

    @property
    def complete(self) -> bool:
        return bool(self.steps) and self.done == len(self.steps)


def enrolment_of(actor: User | None, course: Course) -> Enrolment | None:
    if actor is None:
        return None
    return db.session.scalar(select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.user_id == actor.id))


def missing_prerequisites(actor: User, course: Course) -> list[Course]:
    """The prerequisites of the course that the person has not completed."""
    done = set(db.session.scalars(select(Enrolment.course_id).where(Enrolment.user_id == actor.id,
                                                                    Enrolment.completed_at.is_not(None))))
    return [required for required in course.prerequisites if required.id not in done]


def enrol(actor: User | None, course: Course) -> tuple[Enrolment, bool]:
    """Enrol in a published course the person may see, once its prerequisites are completed (by
    assignment, when their department or a group of theirs was asked to take it). Enrolling again
    changes nothing. Returns the enrolment and whether it is new."""
    if actor is None:
        raise Unauthorized(_l("Sign in to enrol."))
    if not may_see(actor, course):
        raise NotFound(_l("There is no such course, or you may not see it."))
    # Two enrolments of one person at the same moment (a double click) wait for each other here.
    lock_row(actor, "active")
    existing = enrolment_of(actor, course)
    if existing is not None:
        return existing, False
    if course.state != "published":
        raise Conflict(_l("“%(title)s” is not open for enrolment.", title=course.title))
    missing = missing_prerequisites(actor, course)
    if missing:
        raise Conflict(_l("Complete “%(title)s” first: this course builds on it.", title=missing[0].title))
    source = "assignment" if assignments.is_assigned(actor, course) else "self"
    enrolment = Enrolment(course_id=course.id, user_id=actor.id, source=source)
    db.session.add(enrolment)
    db.session.flush()
    logger.info("%s enrolled in course %d", actor.username, course.id)
    return enrolment, True


def require_enrolment(actor: User | None, course: Course) -> Enrolment:
    enrolment = enrolment_of(actor, course)
    if enrolment is None:
        raise Conflict(_l("Enrol in “%(title)s” first.", title=course.title))
    return enrolment


def find_item(course: Course, key: str) -> dict:
    """A lesson or quiz of the newest version, by its key."""
    for item in versions.items_of(versions.get_version(course).snapshot):
        if item["key"] == key:
            return item
    raise NotFound(_l("This course has no such lesson or quiz."))


def course_of_item(actor: User | None, key: str, kind: str | None = None) -> Course:
    """The course whose newest published version has the lesson or quiz (`kind`, if given) with this
    key, if the person may see the course.

    The working copy finds it by its key; a step deleted from the working copy since publishing is
    still in the published version, so the newest versions' snapshots are searched for it then."""
    missing = NotFound(_l("There is no such lesson or quiz, or you may not see it."))
    if not ITEM_KEY.fullmatch(key):
        raise missing
    working = select(Module.course_id).join(Item, Item.module_id == Module.id).where(Item.key == key)
    for candidates in (select(Course).where(Course.id.in_(working)),
                       select(Course).join(CourseVersion, and_(CourseVersion.course_id == Course.id,
                                                               CourseVersion.number == Course.published_version))
                       .where(cast(CourseVersion.snapshot, Text).contains(key))):
        for course in db.session.scalars(candidates.where(Course.published_version > 0).order_by(Course.id)):
            items = versions.items_of(versions.get_version(course).snapshot)
            if may_see(actor, course) and any(item["key"] == key and kind in (None, item["kind"]) for item in items):
                return course
    raise missing


def open_item(actor: User | None, course: Course, key: str) -> dict:
    """Show a lesson or quiz to an enrolled learner: a lesson counts as viewed; either is where they resume."""
    enrolment = require_enrolment(actor, course)
    item = find_item(course, key)
    enrolment.last_item_key = key
    if item["kind"] == "lesson":
        _progress(enrolment, key).viewed_at = _progress(enrolment, key).viewed_at or utcnow()
        db.session.flush()
        check_completion(enrolment)
    db.session.flush()
    return item


def record_quiz(enrolment: Enrolment, key: str, percent: int, passed: bool) -> None:
    """Keep a quiz attempt's result (learning.quizzes calls it) and see whether the course is now complete."""
    progress = _progress(enrolment, key)
    progress.best_percent = max(progress.best_percent or 0, percent)
    if passed and progress.passed_at is None:
        progress.passed_at = utcnow()
    db.session.flush()
    check_completion(enrolment)


def record_scorm(enrolment: Enrolment, key: str, *, completed: bool, passed: bool, percent: int | None) -> None:
    """Keep what a SCORM lesson's content reported (learning.scorm_runtime calls it): completed or passed
    marks it done, passed marks it passed, and a score counts towards the best percent."""
    progress = _progress(enrolment, key)
    if completed or passed:
        progress.viewed_at = progress.viewed_at or utcnow()
    if passed and progress.passed_at is None:
        progress.passed_at = utcnow()
    if percent is not None:
        progress.best_percent = max(progress.best_percent or 0, percent)
    db.session.flush()
    check_completion(enrolment)


def outline(course: Course, enrolment: Enrolment | None) -> Outline:
    """The newest version's lessons and quizzes, numbered, with what the learner has done."""
    items = versions.items_of(versions.get_version(course).snapshot)
    records = _records(enrolment)
    return Outline([Step(item, number, _done(item, records.get(item["key"])))
                    for number, item in enumerate(items, start=1)])


def check_completion(enrolment: Enrolment) -> bool:
    """Mark the enrolment complete once every step of the newest version is done, and issue its
    certificate; True the first time."""
    if enrolment.completed_at is not None:
        return False
    if not outline(enrolment.course, enrolment).complete:
        return False
    enrolment.completed_at = utcnow()
    db.session.flush()
    certificates.issue(enrolment)
    logger.info("user %d completed course %d", enrolment.user_id, enrolment.course_id)
    return True


def resume_key(course: Course, enrolment: Enrolment) -> str | None:
    """Where the learner left off, or the first step not done."""
    steps = outline(course, enrolment).steps
    keys = {step.item["key"] for step in steps}
    if enrolment.last_item_key in keys:
        return enrolment.last_item_key
    return next((step.item["key"] for step in steps if not step.done), steps[0].item["key"] if steps else None)


def _progress(enrolment: Enrolment, key: str) -> Progress:
    progress = db.session.get(Progress, (enrolment.id, key))
    if progress is None:
        progress = Progress(enrolment_id=enrolment.id, item_key=key)
        db.session.add(progress)
    return progress


def _records(enrolment: Enrolment | None) -> dict[str, Progress]:
    if enrolment is None:
        return {}
    return {p.item_key: p for p in db.session.scalars(select(Progress).where(Progress.enrolment_id == enrolment.id))}


def _done(item: dict, record: Progress | None) -> bool:
    if record is None:
        return False
    # A SCORM lesson counts once completed (or passed, which records it viewed too).
    return record.viewed_at is not None if item["kind"] in ("lesson", "scorm") else record.passed_at is not None
