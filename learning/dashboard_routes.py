"""The trainer's dashboard of a course, as a page of small charts and tables and as a CSV file: thin
views over learning.dashboard.

Only a course's trainers and the node's administrators reach them (404 for a course the person may
not see, 403 for one they may only read).
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Flask, Response, render_template
from flask_login import current_user, login_required

from learning import courses, dashboard

#: The learning package's static files (the dashboard's charts have a stylesheet of their own).
bp = Blueprint("learning_dashboard", __name__, template_folder="templates", static_folder="static",
               static_url_path="/learning/static")


@bp.get("/learning/teaching/<int:course_id>/dashboard")
@login_required
def page(course_id: int):
    course = courses.get_course(current_user, course_id)
    stats = dashboard.course_stats(current_user, course)
    return render_template("learning/dashboard.html", course=course, stats=stats,
                           question_text=dashboard.question_text)


@bp.get("/learning/teaching/<int:course_id>/dashboard.csv")
@login_required
def csv_export(course_id: int):
    course = courses.get_course(current_user, course_id)
    stats = dashboard.course_stats(current_user, course)
    response = Response(dashboard.csv_text(stats), mimetype="text/csv")
    # A plain ASCII name for old clients, and the course's own title (RFC 6266) for the others.
    response.headers.set("Content-Disposition", "attachment", filename=f"course-{course.id}-dashboard.csv",
                         **{"filename*": "UTF-8''" + quote(dashboard.csv_filename(stats), safe="")})
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Learners' progress: no shared cache may keep it.
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


def init_app(app: Flask) -> None:
    """Register the dashboard's pages."""
    app.register_blueprint(bp)
