"""What every trainer's page does: find the course the signed-in person may change, and show a
service's refusal next to the field it names."""
from __future__ import annotations

from flask_login import current_user
from flask_wtf import FlaskForm

from knet.db import db
from knet.errors import Invalid, KnetError, TooLarge
from learning import courses
from learning.models import Course

#: What a refused service call can be: shown next to the field, with what was typed kept.
REFUSALS = (Invalid, TooLarge)


def editable(course_id: int) -> Course:
    """The course, if the signed-in person may change it (404 if they may not see it, 403 if they may only read it)."""
    course = courses.get_course(current_user, course_id)
    courses.require_editor(current_user, course)
    return course


def refused(form: FlaskForm, exc: KnetError) -> None:
    """Put the service's reason next to the field it names (or at the top of the form)."""
    db.session.rollback()
    name = str(exc.extra.get("field", ""))
    if name in form:
        form[name].errors = [*form[name].errors, exc.message]
    else:
        form.form_errors.append(exc.message)
