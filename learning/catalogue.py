"""What the learner's pages read: the catalogue of courses, a course's page, a step of it, and
"My learning".

Reading only, with the rules of learning.courses (who sees what) and learning.progress (where a
learner stands). Learners read what the newest published version says, never the working copy
a trainer may be changing; only a draft, which only its editors see, shows its working copy.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import selectinload

from auth.access import can_see, visible_clause
from auth.models import User
from knet import content
from knet.content import Attached
from knet.config import LANGUAGES
from knet.db import db
from knet.search import Filters, search, viewer_of
from knet.search.indexing import node_index
from learning import assignments, certificates, progress, versions
from learning.courses import MAX_ID, UNSTORABLE, course_uri, may_edit, may_see, tag_key
from learning.models import Certificate, Course, CourseVersion, Enrolment
from learning.progress import Outline, Step

#: The estimated durations a learner may ask for, in minutes (None: no upper bound); a course
#: without an estimate (0 minutes) is in none of them.
DURATIONS = {"short": (1, 59), "medium": (60, 180), "long": (181, None)}
#: Relevance needs words to search for; without them the newest come first.
ORDERS = ("relevance", "newest", "title")
#: Search hits read for one catalogue query (a page of the search holds at most 100).
SEARCH_PAGE, MAX_SEARCHED = 100, 500
MAX_QUERY_CHARS = 200

# What the newest published version says, read from its snapshot without loading the whole of it.
_NEWEST = and_(CourseVersion.course_id == Course.id, CourseVersion.number == Course.published_version)
_TITLE = CourseVersion.snapshot["title"].as_string()
_SUMMARY = CourseVersion.snapshot["summary"].as_string()
_LANGUAGE = CourseVersion.snapshot["language"].as_string()
_MINUTES = CourseVersion.snapshot["estimated_minutes"].as_integer()
_ORDER_BY = {"newest": (CourseVersion.published_at.desc(), Course.id.desc()), "title": (_TITLE, Course.id)}


@dataclass(frozen=True)
class CatalogueQuery:
    """Which courses the catalogue shows: words to search for, filters, and an order (None: the default)."""

    q: str = ""
    language: str | None = None
    tag: str | None = None
    #: A community of practice, by its URI.
    community: str | None = None
    #: One of DURATIONS.
    duration: str | None = None
    order: str | None = None

    @property
    def sort(self) -> str:
        if self.order in ORDERS and (self.order != "relevance" or self.q):
            return self.order
        return "relevance" if self.q else "newest"

    @property
    def narrowed(self) -> bool:
        return bool(self.q or self.language or self.tag or self.community or self.duration)


@dataclass(frozen=True)
class Listed:
    """A course in the catalogue, as its newest published version describes it."""

    course: Course
    title: str
    summary: str
    language: str
    minutes: int
    #: The viewer's state: None (not enrolled), "enrolled" or "completed".
    standing: str | None = None


# The catalogue ------------------------------------------------------------------------------------

def catalogue(actor: User | None, wanted: CatalogueQuery, page: int, per_page: int) -> tuple[list[Listed], int]:
    """One page of the published courses this person may see that match, and how many match in all."""
    matching = select(Course.id).join(CourseVersion, _NEWEST).where(*_seen(actor), *_narrowed(wanted))
    if wanted.q:
        ranked = _searched(actor, wanted.q)
        matching = matching.where(Course.id.in_(ranked) if ranked else false())
    if wanted.sort == "relevance":
        found = set(db.session.scalars(matching))
        ids = [course_id for course_id in ranked if course_id in found]
        total, ids = len(ids), ids[(page - 1) * per_page:page * per_page]
    else:
        total = db.session.scalar(select(func.count()).select_from(matching.subquery())) or 0
        ids = list(db.session.scalars(matching.order_by(*_ORDER_BY[wanted.sort])
                                      .limit(per_page).offset((page - 1) * per_page)))
    return _listed(actor, ids), total


def _seen(actor: User | None) -> list:
    """The published courses this person may see by their visibility, or trains, as SQL conditions.

    (learning.courses.may_see also lets administrators see every course, as they may edit every
    one; the catalogue lists for them, as for everyone, what their visibility shows them.)"""
    seen = visible_clause(actor, Course.visibility, Course.created_by_id)
    if actor is not None:
        seen = or_(seen, Course.trainers.any(User.id == actor.id))
    return [Course.state == "published", seen]


def _narrowed(wanted: CatalogueQuery) -> list:
    conditions = []
    if wanted.language is not None:
        conditions.append(_LANGUAGE == wanted.language if wanted.language in LANGUAGES else false())
    if wanted.tag is not None:
        key = tag_key(wanted.tag) if not UNSTORABLE.search(wanted.tag) else ""
        conditions.append(Course.tags.any(key=key) if key else false())
    if wanted.community is not None:
        conditions.append(Course.community_uri == wanted.community)
    if wanted.duration is not None:
        shortest, longest = DURATIONS.get(wanted.duration, (MAX_ID, 0))
        conditions.append(_MINUTES >= shortest)
        if longest is not None:
            conditions.append(_MINUTES <= longest)
    return conditions


def _searched(actor: User | None, text: str) -> list[int]:
    """The ids of this node's courses that the node's search finds for the words, best match first."""
    viewer = viewer_of(actor)
    ids: list[int] = []
    for number in range(1, MAX_SEARCHED // SEARCH_PAGE + 1):
        found = search(node_index(), text[:MAX_QUERY_CHARS], viewer=viewer, page=number, per_page=SEARCH_PAGE,
                       filters=Filters(type="course"), suggest=False)
        ids += [course_id for course_id in map(_course_id, (hit.uri for hit in found.hits)) if course_id]
        if number * SEARCH_PAGE >= found.total:
            break
    return list(dict.fromkeys(ids))


def _course_id(uri: str) -> int | None:
    """The id of a course of this node from its URI (None for anything else, such as a peer's course)."""
    tail = uri.rpartition("/")[2]
    if not tail.isdigit() or not 0 < int(tail) <= MAX_ID:
        return None
    return int(tail) if uri == course_uri(int(tail)) else None


def _listed(actor: User | None, ids: list[int]) -> list[Listed]:
    if not ids:
        return []
    rows = db.session.execute(select(Course, _TITLE, _SUMMARY, _LANGUAGE, _MINUTES).join(CourseVersion, _NEWEST)
                              .where(Course.id.in_(ids))
                              .options(selectinload(Course.tags), selectinload(Course.trainers)))
    standing = _standing(actor, ids)
    by_id = {course.id: Listed(course, title, summary or "", language, minutes or 0, standing.get(course.id))
             for course, title, summary, language, minutes in rows}
    return [by_id[course_id] for course_id in ids if course_id in by_id]


def _standing(actor: User | None, ids: list[int]) -> dict[int, str]:
    if actor is None:
        return {}
    rows = db.session.execute(select(Enrolment.course_id, Enrolment.completed_at)
                              .where(Enrolment.user_id == actor.id, Enrolment.course_id.in_(ids)))
    return {course_id: "completed" if completed_at else "enrolled" for course_id, completed_at in rows}


def in_community(actor: User | None, community_uri: str, limit: int) -> list[Attached]:
    """The newest published courses of a community of practice that this person may see (for the
    community's page, which belongs to another feature: see knet.content.attach_to_communities)."""
    listed, _total = catalogue(actor, CatalogueQuery(community=community_uri), 1, limit)
    return [Attached(entry.title, f"/learning/courses/{entry.course.id}", entry.language, entry.summary)
            for entry in listed]


def communities(actor: User | None) -> dict[str, str]:
    """The communities of practice that courses of the catalogue belong to, by URI, with their names,
    as far as this person may see them."""
    uris = db.session.scalars(select(Course.community_uri).distinct()
                              .where(*_seen(actor), Course.community_uri.is_not(None)))
    names = {uri: title_of(actor, uri) for uri in uris}
    return dict(sorted(((uri, name) for uri, name in names.items() if name), key=lambda pair: pair[1].lower()))


def title_of(actor: User | None, uri: str) -> str | None:
    """The name of something of this node (a community of practice…) by its URI, if this person may see it.

    Communities live in `qa`, which this package does not import: the node's content registry
    (knet.content) knows every type's documents, and the one whose URI matches names it."""
    tail = uri.rpartition("/")[2]
    if not uri.startswith(current_app.config["KNET"]["url"] + "/") or not tail.isdigit() \
            or not 0 < int(tail) <= MAX_ID:
        return None
    for kind in content.content_types().values():
        document = kind.search_document(int(tail))
        if document is not None and document.uri == uri:
            author = int(document.author) if document.author.isdigit() else None
            return document.title if can_see(actor, document.visibility, author) else None
    return None


# A course's page ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prerequisite:
    course: Course
    #: Whether the viewer may see it (its title is shown only then).
    visible: bool
    #: Whether the viewer completed it (None for an anonymous visitor).
    done: bool | None


@dataclass(frozen=True)
class Module:
    number: int
    title: str
    steps: list[Step]


@dataclass
class CoursePage:
    """Everything a course's page shows to one viewer."""

    course: Course
    #: What learners read: the newest published version (a draft's working copy for its editors).
    frozen: dict
    outline: Outline
    modules: list[Module]
    enrolment: Enrolment | None
    #: The key of the step to continue with (enrolled learners).
    resume: str | None
    prerequisites: list[Prerequisite]
    #: The first prerequisite the viewer has not completed: they cannot enrol yet.
    blocked_by: Course | None
    certificate: Certificate | None
    community: str | None
    may_edit: bool
    #: Whether a department or group the viewer belongs to was asked to take the course, and by when.
    assigned: bool = False
    due_at: datetime | None = None

    @property
    def draft(self) -> bool:
        return self.course.state == "draft"

    @property
    def has_quizzes(self) -> bool:
        return any(step.item["kind"] == "quiz" for step in self.outline.steps)


def course_page(actor: User | None, course: Course) -> CoursePage:
    """The course as this person sees it, with where they stand in it."""
    enrolment = progress.enrolment_of(actor, course)
    if course.published_version:
        frozen, outline = versions.get_version(course).snapshot, progress.outline(course, enrolment)
    else:
        frozen = versions.snapshot(course)
        outline = Outline([Step(item, number, False)
                           for number, item in enumerate(versions.items_of(frozen), start=1)])
    missing = progress.missing_prerequisites(actor, course) if actor is not None else []
    due = assignments.due_dates(actor)
    prerequisites = [Prerequisite(required, may_see(actor, required),
                                  None if actor is None else required not in missing)
                     for required in course.prerequisites]
    return CoursePage(
        course=course, frozen=frozen, outline=outline, modules=modules_of(outline), enrolment=enrolment,
        resume=progress.resume_key(course, enrolment) if enrolment is not None else None,
        prerequisites=prerequisites, blocked_by=missing[0] if missing and enrolment is None else None,
        certificate=certificates.certificate_of(actor, course),
        community=title_of(actor, course.community_uri) if course.community_uri else None,
        may_edit=may_edit(actor, course), assigned=course.id in due, due_at=due.get(course.id))


def modules_of(outline: Outline) -> list[Module]:
    """The outline's steps under their modules, in reading order."""
    modules: list[Module] = []
    for step in outline.steps:
        if not modules or modules[-1].steps[-1].item["module_key"] != step.item["module_key"]:
            modules.append(Module(len(modules) + 1, step.item["module_title"], []))
        modules[-1].steps.append(step)
    return modules


# A step -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepPage:
    """A lesson or quiz of the newest version, with where it stands in the course."""

    title: str
    language: str
    step: Step
    outline: Outline
    module: Module
    module_count: int
    previous: Step | None
    next: Step | None


def step_page(actor: User | None, course: Course, key: str) -> StepPage:
    """The step with this key as an enrolled learner reads it (learning.progress.open_item opens it)."""
    enrolment = progress.require_enrolment(actor, course)
    progress.find_item(course, key)  # NotFound for a key the newest version does not have
    frozen = versions.get_version(course).snapshot
    outline = progress.outline(course, enrolment)
    steps, modules = outline.steps, modules_of(outline)
    index = next(i for i, step in enumerate(steps) if step.item["key"] == key)
    module = next(m for m in modules if steps[index] in m.steps)
    return StepPage(title=frozen["title"], language=frozen["language"], step=steps[index], outline=outline,
                    module=module, module_count=len(modules), previous=steps[index - 1] if index else None,
                    next=steps[index + 1] if index + 1 < len(steps) else None)


# My learning --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Learning:
    """A course someone is enrolled in, with their progress."""

    course: Course
    title: str
    language: str
    enrolment: Enrolment
    outline: Outline
    resume: str | None
    #: When an assignment asks for the course to be completed (None: no date, or nobody asked).
    due_at: datetime | None = None

    @property
    def overdue(self) -> bool:
        return assignments.is_overdue(self.due_at, self.enrolment.completed_at is not None)


@dataclass(frozen=True)
class Assigned:
    """A course assigned to the person that they have not enrolled in yet."""

    course: Course
    title: str
    language: str
    due_at: datetime | None

    @property
    def overdue(self) -> bool:
        return assignments.is_overdue(self.due_at)


def my_learning(actor: User) -> tuple[list[Learning], list[Learning]]:
    """The courses the person is enrolled in and may still see: those in progress (most recently
    enrolled first) and those completed (most recently completed first)."""
    enrolments = db.session.scalars(select(Enrolment).where(Enrolment.user_id == actor.id)
                                    .options(selectinload(Enrolment.course))
                                    .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc()))
    learning, due = [], assignments.due_dates(actor)
    for enrolment in enrolments:
        course = enrolment.course
        if not may_see(actor, course) or not course.published_version:
            continue
        frozen = versions.get_version(course).snapshot
        learning.append(Learning(course, frozen["title"], frozen["language"], enrolment,
                                 progress.outline(course, enrolment), progress.resume_key(course, enrolment),
                                 due.get(course.id)))
    completed = sorted((entry for entry in learning if entry.enrolment.completed_at is not None),
                       key=lambda entry: entry.enrolment.completed_at, reverse=True)
    return [entry for entry in learning if entry.enrolment.completed_at is None], completed


def assigned_not_started(actor: User) -> list[Assigned]:
    """The published courses assigned to the person that they have not enrolled in, soonest due first."""
    due = assignments.due_dates(actor)
    enrolled = set(db.session.scalars(select(Enrolment.course_id).where(Enrolment.user_id == actor.id)))
    waiting = [course for course in db.session.scalars(select(Course).where(Course.id.in_(set(due) - enrolled),
                                                                            Course.state == "published"))
               if may_see(actor, course)]
    listed = []
    for course in waiting:
        frozen = versions.get_version(course).snapshot
        listed.append(Assigned(course, frozen["title"], frozen["language"], due[course.id]))
    return sorted(listed, key=lambda entry: (entry.due_at is None, entry.due_at or 0, entry.title.casefold()))
