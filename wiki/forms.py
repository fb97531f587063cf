from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice as _Choice
from wtforms.validators import DataRequired, Length, Optional

LANGUAGE_CHOICES = [_Choice("el", _l("Greek")), _Choice("en", _l("English"))]
VISIBILITY_CHOICES = [
    _Choice("internal", _l("Internal: staff of this municipality")),
    _Choice("network", _l("Network: staff of every federated municipality")),
    _Choice("public", _l("Public: anyone, under an open licence")),
    _Choice("private", _l("Private: only me")),
]
LICENCE_CHOICES = [
    _Choice("CC-BY-4.0", _l("CC BY 4.0 (attribution)")),
    _Choice("CC0-1.0", _l("CC0 (public domain)")),
    _Choice("all-rights-reserved", _l("All rights reserved (internal material)")),
]


class PageForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text (Markdown)"), render_kw={"rows": 18, "spellcheck": "true"})
    summary = StringField(_l("Edit summary"), validators=[Optional(), Length(max=500)])
    language = SelectField(_l("Language of the page"), choices=LANGUAGE_CHOICES)
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=1100)])
    visibility = SelectField(_l("Who can read it"), choices=VISIBILITY_CHOICES, default="internal")
    licence = SelectField(_l("Licence"), choices=LICENCE_CHOICES, default="CC-BY-4.0")
    network_editors = BooleanField(_l("Staff of peered municipalities may edit it too"))
    base_revision = HiddenField()
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def tag_list(self) -> list[str]:
        return [tag for tag in (self.tags.data or "").split(",") if tag.strip()]


class RenameForm(FlaskForm):
    title = StringField(_l("New title"), validators=[DataRequired(), Length(max=200)])
    summary = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class RevisionForm(FlaskForm):
    """A POST naming one revision (revert)."""

    revision = IntegerField(validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A POST that carries only its CSRF token (delete, restore)."""
