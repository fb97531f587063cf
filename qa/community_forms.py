"""Forms of the community pages (Flask-WTF: each carries its CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice as _Choice
from wtforms.validators import DataRequired, Length, Optional

from qa.communities import MAX_DESCRIPTION, MAX_NAME

VISIBILITY_CHOICES = [
    _Choice("internal", _l("Internal: staff of this municipality")),
    _Choice("network", _l("Network: staff of every federated municipality")),
    _Choice("public", _l("Public: anyone")),
]


class CommunityForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_NAME)])
    description = TextAreaField(_l("Description (Markdown)"), validators=[Optional(), Length(max=MAX_DESCRIPTION)],
                                render_kw={"rows": 8, "spellcheck": "true"})
    visibility = SelectField(_l("Who can see it"), choices=VISIBILITY_CHOICES, default="internal")
    save = SubmitField(_l("Save"))
