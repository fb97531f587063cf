"""Public courses for feed readers and open data: the feed of new courses, newest publication first."""
from __future__ import annotations

from flask import Blueprint, Flask, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import and_, select

from auth.models import User
from knet import feeds, published
from knet.db import db
from knet.published import PublicKind
from learning import content
from learning.courses import COURSE_TYPE, UNSTORABLE, tag_key
from learning.models import Course, CourseTag, CourseVersion

bp = Blueprint("learning_feeds", __name__)


def newest_public(tag: str | None, limit: int | None) -> list[int]:
    """Published public courses, the most recently published first (with a tag, those that carry it)."""
    newest_version = and_(CourseVersion.course_id == Course.id, CourseVersion.number == Course.published_version)
    query = (select(Course.id).join(CourseVersion, newest_version)
             .where(Course.state == "published", Course.visibility == published.PUBLIC))
    if tag is not None:
        key = tag_key(tag) if not UNSTORABLE.search(tag) else ""
        query = query.where(Course.tags.any(CourseTag.key == key))
    return list(db.session.scalars(query.order_by(CourseVersion.published_at.desc(), Course.id.desc()).limit(limit)))


def document(course_id: int) -> dict | None:
    """The course's document for peers, attributed to its trainers (peers show them from the course's page)."""
    found = content.course_for_peers(course_id)
    if found is not None:
        course = db.session.get(Course, course_id)
        creator = db.session.get(User, course.created_by_id) if course.created_by_id else None
        names = [trainer.name for trainer in course.trainers] or ([creator.name] if creator else [])
        if names:
            found["attributedTo"] = {"type": "Person", "name": ", ".join(names)}
    return found


PUBLIC_COURSES = PublicKind(
    "courses", COURSE_TYPE, _l("Courses"),
    _l("The municipality's public courses: title, summary, description and outline (never quiz answers)."),
    newest_public, document=document)


@bp.get("/learning/courses/feed.atom")
def newest():
    """The public courses published most recently."""
    return feeds.response(feeds.Feed(_("New courses"), url_for("learning.catalogue")),
                          published.newest_documents(PUBLIC_COURSES, limit=feeds.FEED_SIZE))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    published.register(app, PUBLIC_COURSES)
