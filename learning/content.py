"""Courses as the rest of the node sees them (the content contract of knet.content): a published
course is found by its title, summary, description and the titles of its lessons and quizzes."""
from __future__ import annotations

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from knet import content
from knet.content import SHAREABLE, ContentType
from knet.db import as_utc, db
from knet.search.index import SearchDocument
from learning import versions
from learning.courses import COURSE_TYPE, course_uri
from learning.models import Course


def course_document(course_id: int) -> SearchDocument | None:
    """The newest published version of a course (drafts and archived courses are not found)."""
    course = db.session.get(Course, course_id)
    if course is None or course.state != "published":
        return None
    frozen = versions.get_version(course).snapshot
    steps = " · ".join(item["title"] for item in versions.items_of(frozen))
    body = "\n".join((frozen["summary"], Markup(frozen["description_html"]).striptags(), steps))
    return SearchDocument(
        uri=course_uri(course.id), type="course", title=frozen["title"], body=body, language=frozen["language"],
        visibility=course.visibility, home=current_app.config["KNET"]["url"], author=str(course.created_by_id or ""),
        tags=tuple(tag.name for tag in course.tags), updated=as_utc(course.updated_at), licence=frozen["licence"])


def course_for_peers(course_id: int) -> dict | None:
    """The newest published version of a course as peers receive it, for browsing and search: its outline by
    titles only (never lesson texts, quiz questions or answers, enrolments, or what is still a draft)."""
    course = db.session.get(Course, course_id)
    if course is None or course.state != "published" or course.visibility not in SHAREABLE:
        return None
    version = versions.get_version(course)
    frozen = version.snapshot
    modules = [{"name": module["title"], "items": [{"kind": item["kind"], "name": item["title"]}
                                                   for item in module["items"]]}
               for module in frozen["modules"]]
    return content.document(
        id=course_uri(course.id), type="Article", name=frozen["title"], url=course_uri(course.id),
        content=frozen["description_html"], source=frozen["description"], summary=frozen["summary"],
        tags=[tag.name for tag in course.tags], updated=version.published_at, language=frozen["language"],
        licence=frozen["licence"], visibility=course.visibility, **{"knet:kind": "course", "knet:modules": modules})


def _published_ids() -> list[int]:
    return list(db.session.scalars(select(Course.id).where(Course.state == "published").order_by(Course.id)))


CONTENT_TYPES = (ContentType(COURSE_TYPE, course_document, _published_ids, course_for_peers),)
