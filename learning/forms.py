"""Flask-WTF forms of the learner's pages (CSRF comes with them); the services check everything again."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class EnrolForm(FlaskForm):
    """Enrolling in a course: a button, and the form's CSRF token."""

    submit = SubmitField(_l("Enrol in this course"))
