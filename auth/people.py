"""What people do with profiles, and the people and skills directory.

Services take the acting person and flush; the caller commits. Skills are free tags, one per
folded name, so «Προμήθειες», «ΠΡΟΜΗΘΕΙΕΣ» and «προμηθειες» are one skill, spelt as it was first typed.
"""
from __future__ import annotations

import logging
import operator
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import reduce
from urllib.parse import unquote

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, func, or_, select

from auth import photos
from auth.access import can_see
from auth.content import LANGUAGE_NAMES, TYPE, person_uri
from auth.models import PROFILE_VISIBILITIES, Department, ProfilePhoto, Skill, User, user_skills
from knet import content
from knet.db import as_utc, db, utcnow
from knet.errors import Forbidden, Invalid, NotFound, Unauthorized
from knet.search import Filters, fold, search, viewer_of
from knet.search.indexing import node_index

logger = logging.getLogger(__name__)

MAX_ABOUT = 2000
MAX_SKILLS = 30
MAX_SKILL_LENGTH = 60
MAX_SUGGESTIONS = 50

_NO_SUCH_PERSON = _l("There is nobody with this username on this node.")

SKILL_ACTIVITY = "auth.skill_activity"
#: A feature's count of what people did on topics: counts(viewer, skill keys) -> a query with the columns
#: ``user_id``, ``skill_key`` and ``times``, one row per person and key they did something on, counting
#: only what ``viewer`` may see.
ActivityCounts = Callable[[User | None, Collection[str]], Select]


@dataclass
class ProfileInput:
    """What a person says about themselves; every field is checked by :func:`validate`."""

    about: str = ""
    languages: Sequence[str] = ()
    skills: Sequence[str] = ()
    visibility: str = "internal"


@dataclass(frozen=True)
class FoundPerson:
    """A person a directory search found, with the passage of their profile that matched (HTML)."""

    person: User
    snippet: str = ""


@dataclass(frozen=True)
class PeopleResults:
    total: int
    people: list[FoundPerson]
    #: A corrected query ("did you mean"), from the search index.
    suggestion: str | None = None


@dataclass(frozen=True)
class SkillActivity:
    """What a feature counts people doing on a skill (answering, teaching): see :func:`add_skill_activity`."""

    counts: ActivityCounts
    #: The count in words, in the reader's language: describe(4) -> "4 answers".
    describe: Callable[[int], str]


@dataclass
class UnitNode:
    """A department in the tree, with how many active people work in it and in its sub-units."""

    department: Department
    people: int = 0
    total: int = 0
    children: list[UnitNode] = field(default_factory=list)


# --- reading ---------------------------------------------------------------------------------------

def skill_key(name: str) -> str:
    """The folded form that tells skills apart: lower case, no accents, final sigma as σ, single spaces."""
    return fold(" ".join(name.split()))


def get_person(viewer: User | None, username: str) -> User:
    """The person with this username, as ``viewer`` may see them (people who left included)."""
    if viewer is None:
        raise Unauthorized(_l("Profiles are visible to the staff of this municipality: sign in to see them."))
    person = User.by_username(username)
    if person is None or not can_see(viewer, person.profile_visibility, person.id):
        raise NotFound(_NO_SUCH_PERSON)
    return person


def can_edit_profile(actor: User | None, person: User) -> bool:
    """Whether ``actor`` may change ``person``'s profile: their own, or anyone's for an administrator."""
    return actor is not None and actor.active and (actor.id == person.id or actor.is_admin)


def _active_people():
    return select(User).where(User.active.is_(True))


def _by_name():
    # People without a display name sort by their username, among the others.
    return (case((User.display_name == "", User.username), else_=User.display_name), User.username)


def list_people(page: int, per_page: int) -> tuple[list[User], int]:
    """A page of everyone who works here, by name, and how many they are."""
    total = db.session.scalar(select(func.count()).select_from(_active_people().subquery()))
    people = db.session.scalars(_active_people().order_by(*_by_name()).limit(per_page).offset((page - 1) * per_page))
    return list(people), total or 0


def find_skill(name: str) -> Skill | None:
    """The skill with this name, however it is accented or capitalised."""
    key = skill_key(name)
    return db.session.scalar(select(Skill).where(Skill.key == key)) if key else None


def people_with_skill(skill: Skill, page: int, per_page: int,
                      viewer: User | None = None) -> tuple[list[User], int]:
    """A page of the active people who have a skill, those who did most on it first (answers, lessons… as
    ``viewer`` may see them: see :func:`add_skill_activity`), then by name; and how many they are."""
    query = _active_people().join(user_skills, user_skills.c.user_id == User.id).where(
        user_skills.c.skill_id == skill.id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    done = []
    for activity in _activities():
        # At most one row per person: the counts are grouped by person and key, and there is one key.
        counts = activity.counts(viewer, [skill.key]).subquery()
        query = query.outerjoin(counts, counts.c.user_id == User.id)
        done.append(func.coalesce(counts.c.times, 0))
    most_first = [reduce(operator.add, done).desc()] if done else []
    people = db.session.scalars(query.order_by(*most_first, *_by_name()).limit(per_page)
                                .offset((page - 1) * per_page))
    return list(people), total or 0


def add_skill_activity(app: Flask, counts: ActivityCounts, describe: Callable[[int], str]) -> None:
    """Let a feature say how often people did something on a skill (answered on it, taught it), shown next to
    their skills and putting the most active first among the people with a skill."""
    app.extensions.setdefault(SKILL_ACTIVITY, []).append(SkillActivity(counts, describe))


def _activities() -> list[SkillActivity]:
    return current_app.extensions.get(SKILL_ACTIVITY, [])


def skill_activity(viewer: User | None, people: Sequence[User],
                   keys: Collection[str]) -> dict[tuple[int, str], list[str]]:
    """What each person did on each skill (by key), in words ("4 answers"), as ``viewer`` may see it; one query
    per feature whatever the number of people. A person and skill with nothing done are left out."""
    ids, keys = [person.id for person in people], sorted(set(keys))
    found: dict[tuple[int, str], list[str]] = {}
    if not ids or not keys:
        return found
    for activity in _activities():
        counts = activity.counts(viewer, keys).subquery()
        rows = db.session.execute(select(counts.c.user_id, counts.c.skill_key, counts.c.times).where(
            counts.c.user_id.in_(ids)))
        for user_id, key, times in rows:
            if times:
                found.setdefault((user_id, key), []).append(activity.describe(times))
    return found


def _skills_in_use(condition=None, limit: int = MAX_SUGGESTIONS) -> list[tuple[Skill, int]]:
    holders = func.count(User.id).label("holders")
    query = (select(Skill, holders).join(user_skills, user_skills.c.skill_id == Skill.id)
             .join(User, and_(User.id == user_skills.c.user_id, User.active.is_(True))))
    if condition is not None:
        query = query.where(condition)
    query = query.group_by(Skill.id).order_by(holders.desc(), Skill.key).limit(limit)
    return [(skill, count) for skill, count in db.session.execute(query)]


def skill_counts(limit: int = 60) -> list[tuple[Skill, int]]:
    """The skills people here have, most common first, with how many active people have each."""
    return _skills_in_use(limit=limit)


def skill_suggestions(prefix: str, limit: int = 10) -> list[tuple[Skill, int]]:
    """Skills people already have whose name, or a word of it, starts with ``prefix`` (accents and
    case aside), the most common first, with how many active people have each."""
    key = skill_key(prefix)
    if not key:
        return []
    starts = or_(Skill.key.startswith(key, autoescape=True), Skill.key.contains(" " + key, autoescape=True))
    return _skills_in_use(starts, min(max(limit, 1), MAX_SUGGESTIONS))


def who_knows(viewer: User, text: str, page: int, per_page: int) -> PeopleResults:
    """The people whose skills, name, title, department or "ask me about" match the words (accents,
    case and word endings aside: the node's search index), best match first."""
    found = search(node_index(), text, viewer=viewer_of(viewer), page=page, per_page=per_page,
                   filters=Filters(type="person"))
    base = current_app.config["KNET"]["url"]
    matches = [(unquote(hit.uri[len(base):]).removeprefix("/people/"), hit) for hit in found.hits
               if hit.uri.startswith(base + "/people/")]
    people = {person.username: person for person in db.session.scalars(
        _active_people().where(User.username.in_([username for username, _hit in matches])))}
    # The index may be a moment behind the database: someone who has just left is not listed.
    listed = [FoundPerson(people[username], hit.snippet) for username, hit in matches if username in people]
    return PeopleResults(found.total, listed, found.suggestion)


def get_department(department_id: int) -> Department:
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound(_l("There is no such department."))
    return department


def department_tree() -> list[UnitNode]:
    """Every department, the top-level ones first, each with its sub-units and head counts."""
    units = list(db.session.scalars(select(Department).order_by(Department.name)))
    counts = dict(db.session.execute(select(User.department_id, func.count(User.id)).where(
        User.active.is_(True), User.department_id.is_not(None)).group_by(User.department_id)).all())
    nodes = {unit.id: UnitNode(unit, counts.get(unit.id, 0)) for unit in units}
    roots = []
    for unit in units:
        parent = nodes.get(unit.parent_id) if unit.parent_id is not None else None
        (parent.children if parent else roots).append(nodes[unit.id])
    for root in roots:
        _add_totals(root)
    return roots


def department_node(department: Department) -> UnitNode:
    """The department's place in the tree: its head counts and its sub-units with theirs."""
    stack = department_tree()
    while stack:
        node = stack.pop()
        if node.department.id == department.id:
            return node
        stack.extend(node.children)
    return UnitNode(department)  # in a loop of units, out of the tree


def _add_totals(node: UnitNode, depth: int = 0) -> int:
    if depth > 100:  # a directory with a loop in it must not take the page down
        return 0
    node.total = node.people + sum(_add_totals(child, depth + 1) for child in node.children)
    return node.total


def sub_units(department: Department) -> list[Department]:
    """The department's sub-units at every depth, in tree order (each before its own sub-units)."""
    children: dict[int | None, list[Department]] = {}
    for unit in db.session.scalars(select(Department).order_by(Department.name)):
        children.setdefault(unit.parent_id, []).append(unit)
    ordered, seen, stack = [], {department.id}, list(reversed(children.get(department.id, [])))
    while stack:
        unit = stack.pop()
        if unit.id in seen:
            continue
        seen.add(unit.id)
        ordered.append(unit)
        stack.extend(reversed(children.get(unit.id, [])))
    return ordered


def department_people(department: Department, include_sub_units: bool = True) -> list[User]:
    """The active people of a department (and of its sub-units, after its own people, unit by unit
    in tree order), by name within each unit."""
    units = [department, *(sub_units(department) if include_sub_units else [])]
    position = {unit.id: index for index, unit in enumerate(units)}
    people = db.session.scalars(_active_people().where(User.department_id.in_(position)).order_by(*_by_name()))
    return sorted(people, key=lambda person: position[person.department_id])


def photo_versions(people: Sequence[User]) -> dict[int, int]:
    """Which of these people have a photo, each with a number that changes when the photo does
    (for cache-busting addresses), without loading the photos themselves."""
    ids = [person.id for person in people]
    if not ids:
        return {}
    rows = db.session.execute(select(ProfilePhoto.user_id, ProfilePhoto.updated_at).where(
        ProfilePhoto.user_id.in_(ids)))
    return {user_id: _version(updated) for user_id, updated in rows}


def photo_version(photo: ProfilePhoto) -> int:
    """The number in a photo's cache-busting address (see :func:`photo_versions`)."""
    return _version(photo.updated_at)


def _version(updated) -> int:
    return int(as_utc(updated).timestamp() * 1000)


def get_photo(viewer: User | None, username: str) -> ProfilePhoto:
    person = get_person(viewer, username)
    if person.photo is None:
        raise NotFound(_l("%(name)s has no photo.", name=person.name))
    return person.photo


# --- changing --------------------------------------------------------------------------------------

def validate(data: ProfileInput) -> ProfileInput:
    """Check and normalise a profile's fields, or raise Invalid naming the field."""
    about = (data.about or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if _has_control_characters(about, allowed="\n\t"):
        raise Invalid(_l("“Ask me about” contains a character that cannot be stored."), field="about")
    if len(about) > MAX_ABOUT:
        raise Invalid(_l("“Ask me about” is longer than %(max)d characters.", max=MAX_ABOUT), field="about")
    languages = list(dict.fromkeys(data.languages))
    unknown = [code for code in languages if code not in LANGUAGE_NAMES]
    if unknown:
        raise Invalid(_l("Unknown language code “%(code)s”.", code=str(unknown[0])[:20]), field="languages")
    if data.visibility not in PROFILE_VISIBILITIES:
        raise Invalid(_l("The profile's visibility must be one of %(choices)s.",
                         choices=", ".join(PROFILE_VISIBILITIES)), field="visibility")
    return ProfileInput(about, [code for code in LANGUAGE_NAMES if code in languages], normalise_skills(data.skills),
                        data.visibility)


def normalise_skills(names: Sequence[str]) -> list[str]:
    """Skill names trimmed, with single spaces, each once (by folded name, first spelling kept)."""
    skills: dict[str, str] = {}
    for raw in names:
        if not isinstance(raw, str):
            raise Invalid(_l("Each skill must be text."), field="skills")
        name = unicodedata.normalize("NFC", " ".join(raw.split()))
        if not name:
            continue
        if len(name) > MAX_SKILL_LENGTH:
            raise Invalid(_l("The skill “%(skill)s…” is longer than %(max)d characters.", skill=name[:20],
                             max=MAX_SKILL_LENGTH), field="skills")
        if "," in name or _has_control_characters(name):
            raise Invalid(_l("The skill “%(skill)s” contains a comma or a character that cannot be stored.",
                             skill=name), field="skills")
        key = skill_key(name)
        if not any(ch.isalnum() for ch in key):
            raise Invalid(_l("The skill “%(skill)s” needs at least one letter or digit.", skill=name),
                          field="skills")
        skills.setdefault(key, name)
    if len(skills) > MAX_SKILLS:
        raise Invalid(_l("A profile may list at most %(max)d skills; this one has %(count)d.", max=MAX_SKILLS,
                         count=len(skills)), field="skills")
    return list(skills.values())


def _has_control_characters(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


def require_profile_editor(actor: User | None, person: User) -> None:
    """Raise Unauthorized or Forbidden unless ``actor`` may change ``person``'s profile."""
    if actor is None:
        raise Unauthorized(_l("Sign in to change a profile."))
    if not can_edit_profile(actor, person):
        raise Forbidden(_l("You may change only your own profile; an administrator may change anyone's."))


def update_profile(actor: User, person: User, data: ProfileInput) -> User:
    """Change what ``person`` says about themselves: skills, "ask me about", languages, visibility."""
    require_profile_editor(actor, person)
    data = validate(data)
    existing = {skill.key: skill for skill in db.session.scalars(
        select(Skill).where(Skill.key.in_([skill_key(name) for name in data.skills])))}
    skills = []
    for name in data.skills:
        skill = existing.get(skill_key(name))
        if skill is None:
            skill = Skill(name=name, key=skill_key(name))
            db.session.add(skill)
        skills.append(skill)
    person.skills = skills
    person.about = data.about
    person.languages = " ".join(data.languages)
    person.profile_visibility = data.visibility
    _changed(actor, person, "profile")
    return person


def set_photo(actor: User, person: User, upload: bytes) -> ProfilePhoto:
    """Check an uploaded photo, re-encode it (see :mod:`auth.photos`) and make it ``person``'s."""
    require_profile_editor(actor, person)
    prepared = photos.prepare(upload)
    photo = person.photo or ProfilePhoto(user_id=person.id)
    photo.content_type, photo.data, photo.updated_at = prepared.content_type, prepared.data, utcnow()
    person.photo = photo
    _changed(actor, person, "photo")
    return photo


def remove_photo(actor: User, person: User) -> None:
    require_profile_editor(actor, person)
    if person.photo is not None:
        person.photo = None
        _changed(actor, person, "photo removed")


def record_change(person: User) -> None:
    """Record, in the caller's transaction, that a person's search document must be written again.

    Commits that change a person's columns do so by themselves (see :mod:`auth.content`); this is
    for changes it cannot see, such as a skill renamed in the database."""
    content.changed(TYPE, person.id, person_uri(person))


def _changed(actor: User, person: User, what: str) -> None:
    # The new date is also what tells auth.content, at commit, that the person's document changed.
    person.profile_updated_at = utcnow()
    db.session.flush()
    logger.info("%s changed the %s of %s", actor.username, what, person.username)

