"""Publishing: the working copy of a course frozen into a numbered version, which learners read and
are graded against, and what changed from one version to another.

A version is a JSON snapshot holding everything a learner needs (texts as sanitised HTML, quiz
answers, attachments by their content hash), so a later edit of the working copy never changes what
a published version says.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auth.models import User
from knet.db import db, utcnow
from knet.errors import Conflict, Invalid, NotFound
from learning import courses
from learning.courses import require_editor
from learning.models import Course, CourseVersion, Item

logger = logging.getLogger(__name__)

MAX_NOTE = 500


def snapshot(course: Course) -> dict:
    """The working copy as a version stores it."""
    return {
        "title": course.title, "summary": course.summary, "description": course.description,
        "description_html": course.description_html, "language": course.language, "licence": course.licence,
        "estimated_minutes": course.estimated_minutes,
        "modules": [{"key": module.key, "title": module.title, "items": [_item(item) for item in module.items]}
                    for module in course.modules],
    }


def _item(item: Item) -> dict:
    frozen = {"key": item.key, "kind": item.kind, "title": item.title, "body": item.body, "html": item.html,
              "attachments": [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                               "sha256": a.sha256} for a in item.attachments]}
    if item.kind == "quiz":
        frozen.update(pass_percent=item.pass_percent, max_attempts=item.max_attempts,
                      shuffle_questions=item.shuffle_questions, shuffle_options=item.shuffle_options,
                      questions=[{"key": q.key, "kind": q.kind, "prompt": q.prompt, "prompt_html": q.prompt_html,
                                  "options": q.options, "number": q.number, "tolerance": q.tolerance,
                                  "feedback": q.feedback} for q in item.questions])
    if item.kind == "scorm":
        package = item.scorm_package
        frozen["scorm"] = package and {"id": package.id, "filename": package.filename, "size": package.size,
                                       "sha256": package.sha256, "version": package.version,
                                       "title": package.title, "launch": package.launch}
    return frozen


def publish(actor: User | None, course: Course, note: str = "") -> CourseVersion:
    """Freeze the working copy as the next version and make it what learners see."""
    require_editor(actor, course)
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise Invalid(_l("The note may have at most %(max)d characters.", max=MAX_NOTE), field="note")
    frozen = snapshot(course)
    if course.published_version and frozen == get_version(course).snapshot:
        raise Conflict(_l("Nothing changed since version %(number)d, so there is nothing to publish.",
                          number=course.published_version))
    items = [item for module in frozen["modules"] for item in module["items"]]
    if not items:
        raise Invalid(_l("Add at least one lesson or quiz before publishing."))
    empty = [item["title"] for item in items if item["kind"] == "quiz" and not item["questions"]]
    if empty:
        raise Invalid(_l("The quiz “%(title)s” has no questions yet.", title=empty[0]))
    unpacked = [item["title"] for item in items if item["kind"] == "scorm" and not item["scorm"]]
    if unpacked:
        raise Invalid(_l("The SCORM lesson “%(title)s” has no package yet.", title=unpacked[0]))
    version = CourseVersion(course_id=course.id, number=course.published_version + 1, snapshot=frozen,
                            note=note.strip(), published_by_id=actor.id)
    db.session.add(version)
    course.published_version, course.state = version.number, "published"
    course.has_unpublished_changes, course.updated_at = False, utcnow()
    db.session.flush()
    courses.changed(course)
    logger.info("%s published version %d of course %d", actor.username, version.number, course.id)
    return version


def get_version(course: Course, number: int | None = None) -> CourseVersion:
    """A published version of the course (the newest without a number)."""
    number = course.published_version if number is None else number
    version = db.session.scalar(select(CourseVersion).where(CourseVersion.course_id == course.id,
                                                            CourseVersion.number == number))
    if version is None:
        raise NotFound(_l("This course has no published version %(number)d.", number=number))
    return version


def versions(course: Course) -> list[CourseVersion]:
    """The course's published versions, newest first, with who published each."""
    return list(db.session.scalars(select(CourseVersion).where(CourseVersion.course_id == course.id)
                                   .options(selectinload(CourseVersion.published_by))
                                   .order_by(CourseVersion.number.desc())))


def items_of(frozen: dict) -> list[dict]:
    """Every lesson and quiz of a snapshot, in reading order, each with its module's key and title."""
    return [{**item, "module_key": module["key"], "module_title": module["title"]}
            for module in frozen["modules"] for item in module["items"]]


# What changed ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    #: "added", "removed", "renamed", "changed" or "moved".
    what: str
    #: "course", "module", "lesson" or "quiz".
    kind: str
    title: str
    #: The old title (renamed), or the old and new texts (changed), for a diff.
    before: str = ""
    after: str = ""


def compare(old: dict, new: dict) -> list[Change]:
    """What a trainer changed between two snapshots, module by module and item by item, by stable key."""
    changes: list[Change] = []
    for field in ("title", "summary", "description"):
        if old[field] != new[field]:
            changes.append(Change("changed", "course", new["title"], old[field], new[field]))
    old_modules = {m["key"]: m for m in old["modules"]}
    new_modules = {m["key"]: m for m in new["modules"]}
    for key, module in new_modules.items():
        if key not in old_modules:
            changes.append(Change("added", "module", module["title"]))
        elif old_modules[key]["title"] != module["title"]:
            changes.append(Change("renamed", "module", module["title"], old_modules[key]["title"]))
    changes += [Change("removed", "module", m["title"]) for key, m in old_modules.items() if key not in new_modules]
    old_items = {i["key"]: i for i in items_of(old)}
    new_items = {i["key"]: i for i in items_of(new)}
    for key, item in new_items.items():
        before = old_items.get(key)
        if before is None:
            changes.append(Change("added", item["kind"], item["title"]))
            continue
        if before["title"] != item["title"]:
            changes.append(Change("renamed", item["kind"], item["title"], before["title"]))
        if _content(before) != _content(item):
            changes.append(Change("changed", item["kind"], item["title"], _text_of(before), _text_of(item)))
        if before["module_key"] != item["module_key"]:
            changes.append(Change("moved", item["kind"], item["title"], before["module_title"], item["module_title"]))
    changes += [Change("removed", i["kind"], i["title"]) for key, i in old_items.items() if key not in new_items]
    return changes


def _content(item: dict) -> tuple:
    return (item["body"], [a["sha256"] for a in item["attachments"]], (item.get("scorm") or {}).get("sha256"),
            {k: item.get(k) for k in ("pass_percent", "max_attempts", "shuffle_questions", "shuffle_options",
                                      "questions")})


def option_text(question: dict, option: dict) -> str:
    """An option as learners read it (a true/false question's two options in their language)."""
    if question["kind"] == "truefalse":
        return gettext("True") if option["key"] == "true" else gettext("False")
    return option["text"]


def _text_of(item: dict) -> str:
    """An item as text, for a line diff: the lesson's Markdown, or the quiz's questions and options."""
    if item["kind"] == "lesson":
        return item["body"]
    if item["kind"] == "scorm":
        package = item.get("scorm") or {}
        return "\n".join([item["body"], gettext("SCORM package: %(name)s (%(sha256)s)",
                                                 name=package.get("filename", ""), sha256=package.get("sha256", ""))])
    attempts = item["max_attempts"] or gettext("unlimited")
    lines = [item["body"], gettext("Pass mark: %(percent)d%%. Attempts: %(attempts)s.", percent=item["pass_percent"],
                                   attempts=attempts)]
    for question in item["questions"]:
        lines.append(f"\n? {question['prompt']}")
        lines += [f"  [{'x' if o['correct'] else ' '}] {option_text(question, o)}" for o in question["options"]]
        if question["number"] is not None:
            lines.append(f"  = {question['number']} ± {question['tolerance']}")
    return "\n".join(lines)
