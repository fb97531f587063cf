"""Courses a department's staff (with its sub-units) or a directory group's members are asked to take,
by a due date or without one.

Who is assigned is worked out when it is read, from the person's department and directory groups as
the last sign-in or sync left them: someone who joins a department later has its courses assigned
too, and someone who leaves it no longer does. Enrolling in an assigned course records that it was
by assignment; the due date shows in "My learning" and on the course page.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from auth import notifications
from auth.ldap import normal_dn
from auth.models import Department, GroupMembership, User
from auth.people import department_people
from knet.db import as_utc, db, utcnow
from knet.errors import Conflict, Invalid, NotFound
from learning.courses import MAX_ID, require_editor
from learning.models import Assignment, Course, Enrolment

logger = logging.getLogger(__name__)

NOTIFICATION = "learning.assigned"
#: A due date further ahead than this is a typing mistake.
LONGEST = timedelta(days=5 * 366)


@dataclass(frozen=True)
class AssignmentRow:
    """An assignment of a course as its trainers see it: whom, by when, and how far they are."""

    assignment: Assignment
    #: The department's name, or the group's (its first RDN value).
    target: str
    people: int
    enrolled: int
    completed: int

    @property
    def overdue(self) -> bool:
        """The due date has gone by and not everyone asked has completed the course."""
        return is_overdue(self.assignment.due_at, self.completed >= self.people)


@dataclass(frozen=True)
class Group:
    """A directory group someone on this node belongs to."""

    dn: str
    name: str
    members: int


def init_app(app: Flask) -> None:
    notifications.register_kind(app, NOTIFICATION, _l("%(actor)s assigned you the course “%(subject)s”"))


# Reading -----------------------------------------------------------------------------------------

def group_name(dn: str) -> str:
    """What people call a group: the value of the first part of its DN (cn=Προμήθειες,ou=… → Προμήθειες)."""
    first = dn.split(",", 1)[0]
    return first.split("=", 1)[-1].replace("\\", "") or dn


def known_groups() -> list[Group]:
    """The directory groups of this node's people, with how many belong to each, by name."""
    rows = db.session.execute(select(GroupMembership.dn, func.count(GroupMembership.user_id))
                              .join(User, User.id == GroupMembership.user_id).where(User.active.is_(True))
                              .group_by(GroupMembership.dn))
    return sorted((Group(dn, group_name(dn), count) for dn, count in rows), key=lambda group: group.name.casefold())


def people_of(assignment: Assignment) -> list[User]:
    """The active people the assignment asks, as the directory last told."""
    if assignment.department is not None:
        return department_people(assignment.department)
    return list(db.session.scalars(select(User).join(GroupMembership, GroupMembership.user_id == User.id)
                                   .where(GroupMembership.dn == assignment.group_dn, User.active.is_(True))
                                   .order_by(User.display_name)))


def of_course(course: Course) -> list[AssignmentRow]:
    """The course's assignments, soonest due first (those without a date last), with their numbers."""
    rows = []
    for assignment in db.session.scalars(select(Assignment).where(Assignment.course_id == course.id)
                                         .order_by(Assignment.due_at.is_(None), Assignment.due_at, Assignment.id)):
        people = {person.id for person in people_of(assignment)}
        enrolled = completed = 0
        if people:
            states = db.session.execute(select(Enrolment.completed_at).where(Enrolment.course_id == course.id,
                                                                             Enrolment.user_id.in_(people)))
            for (completed_at,) in states:
                enrolled += 1
                completed += completed_at is not None
        target = assignment.department.name if assignment.department else group_name(assignment.group_dn)
        rows.append(AssignmentRow(assignment, target, len(people), enrolled, completed))
    return rows


def due_dates(person: User | None) -> dict[int, datetime | None]:
    """The courses assigned to the person, each with its earliest due date (None: no date was set)."""
    if person is None:
        return {}
    units = [unit.id for unit in person.department.path] if person.department is not None else []
    groups = select(GroupMembership.dn).where(GroupMembership.user_id == person.id).scalar_subquery()
    due: dict[int, datetime | None] = {}
    for course_id, due_at in db.session.execute(
            select(Assignment.course_id, Assignment.due_at)
            .where(or_(Assignment.department_id.in_(units), Assignment.group_dn.in_(groups)))):
        due_at = as_utc(due_at) if due_at is not None else None
        if course_id not in due or (due_at is not None and (due[course_id] is None or due_at < due[course_id])):
            due[course_id] = due_at
    return due


def is_assigned(person: User | None, course: Course) -> bool:
    return course.id in due_dates(person)


def is_overdue(due_at: datetime | None, completed: bool = False) -> bool:
    """Whether the due date has gone by without the course being completed."""
    return due_at is not None and not completed and as_utc(due_at).date() < utcnow().date()


# Writing -----------------------------------------------------------------------------------------

def assign(actor: User | None, course: Course, *, department_id: object = None, group_dn: object = None,
           due: object = None) -> tuple[Assignment, bool]:
    """Ask a department (with its sub-units) or a directory group to take the course, by `due` (a date,
    or text like 2026-12-31; empty for no date). Assigning the same course to the same people again
    changes the due date. Those asked are told. Returns the assignment and whether it is new."""
    require_editor(actor, course)
    if course.state != "published":
        raise Conflict(_l("Publish “%(title)s” before assigning it: learners can only take a published course.",
                          title=course.title))
    if course.visibility == "private":
        raise Invalid(_l("A private course cannot be assigned: only its trainers see it."), field="visibility")
    department, group = _target(department_id, group_dn)
    due_at = parse_due(due)
    assignment = db.session.scalar(select(Assignment).where(
        Assignment.course_id == course.id,
        Assignment.department_id == department.id if department is not None else Assignment.group_dn == group))
    new = assignment is None
    if new:
        assignment = Assignment(course=course, department=department, group_dn=group, assigned_by_id=actor.id)
        db.session.add(assignment)
    assignment.due_at = due_at
    db.session.flush()
    done = set(db.session.scalars(select(Enrolment.user_id).where(Enrolment.course_id == course.id,
                                                                  Enrolment.completed_at.is_not(None))))
    told = notifications.notify([person for person in people_of(assignment) if person.id not in done], NOTIFICATION,
                                actor=actor, subject=course.title,
                                url=f"/learning/courses/{course.id}")
    logger.info("%s assigned course %d to %s (%d people told)", actor.username, course.id,
                department.dn if department is not None else group, len(told))
    return assignment, new


def unassign(actor: User | None, course: Course, assignment_id: int) -> Assignment:
    """Withdraw an assignment; enrolments it led to stay, with their progress."""
    require_editor(actor, course)
    assignment = db.session.get(Assignment, assignment_id) if 0 < assignment_id <= MAX_ID else None
    if assignment is None or assignment.course_id != course.id:
        raise NotFound(_l("This course has no such assignment."))
    db.session.delete(assignment)
    db.session.flush()
    logger.info("%s withdrew assignment %d of course %d", actor.username, assignment_id, course.id)
    return assignment


def parse_due(value: object) -> datetime | None:
    """A due date from a form or JSON: a date, or ISO text (2026-12-31); empty or None for no date."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise Invalid(_l("Write the due date as a date, such as 2026-12-31."), field="due") from None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise Invalid(_l("Write the due date as a date, such as 2026-12-31."), field="due")
    today = utcnow().date()
    if value < today:
        raise Invalid(_l("The due date has already passed: choose today or a later day."), field="due")
    if value > today + LONGEST:
        raise Invalid(_l("Choose a due date within the next five years."), field="due")
    return datetime.combine(value, time(), tzinfo=timezone.utc)


def _target(department_id: object, group_dn: object) -> tuple[Department | None, str | None]:
    """Exactly one of a department (by id) and a directory group (by DN) that someone here belongs to."""
    has_department = department_id not in (None, "")
    has_group = isinstance(group_dn, str) and group_dn.strip() != ""
    if has_department == has_group:
        raise Invalid(_l("Choose one department or one directory group to assign the course to."))
    if has_department:
        try:
            number = int(department_id)
        except (TypeError, ValueError):
            number = 0
        department = db.session.get(Department, number) if 0 < number <= MAX_ID else None
        if department is None:
            raise Invalid(_l("There is no such department."), field="department")
        return department, None
    group = normal_dn(group_dn)
    if not db.session.scalar(select(func.count()).select_from(GroupMembership).where(GroupMembership.dn == group)):
        raise Invalid(_l("No one on this node belongs to that directory group."), field="group")
    return None, group

