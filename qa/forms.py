"""Flask-WTF forms of the Q&A pages (CSRF comes with them); the services check every value again."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice as _Choice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from qa.moderation import MAX_REASON
from qa.services import MAX_COMMENT, MAX_SUMMARY, MAX_TITLE
from qa.tags import MAX_TAG_LENGTH, MAX_TAGS

LANGUAGE_CHOICES = [_Choice("el", _l("Greek")), _Choice("en", _l("English"))]
VISIBILITY_CHOICES = [
    _Choice("internal", _l("Internal: staff of this municipality")),
    _Choice("network", _l("Network: staff of every federated municipality")),
    _Choice("public", _l("Public: anyone")),
    _Choice("private", _l("Private: only me")),
]


class QuestionForm(FlaskForm):
    """Asking a question, or editing one (the edit summary is shown only then)."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE)],
                        render_kw={"maxlength": MAX_TITLE, "autocomplete": "off"})
    body = TextAreaField(_l("Your question (Markdown)"), validators=[DataRequired()],
                         render_kw={"rows": 12, "spellcheck": "true"})
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=MAX_TAGS * (MAX_TAG_LENGTH + 2))])
    language = SelectField(_l("Language of the question"), choices=LANGUAGE_CHOICES)
    visibility = SelectField(_l("Who can read it"), choices=VISIBILITY_CHOICES, default="internal")
    #: Choices are the communities the asker may see, set by the view ("" is none).
    community = SelectField(_l("Community"), choices=[], default="")
    summary = StringField(_l("Edit summary"), validators=[Optional(), Length(max=MAX_SUMMARY)])
    save = SubmitField(_l("Post your question"))

    def tag_list(self) -> list[str]:
        return [tag for tag in (self.tags.data or "").split(",") if tag.strip()]

    def community_id(self) -> int | None:
        return int(self.community.data) if (self.community.data or "").isdigit() else None


class AnswerForm(FlaskForm):
    body = TextAreaField(_l("Your answer (Markdown)"), validators=[DataRequired()],
                         render_kw={"rows": 10, "spellcheck": "true"})
    save = SubmitField(_l("Post your answer"))


class AnswerEditForm(FlaskForm):
    body = TextAreaField(_l("The answer (Markdown)"), validators=[DataRequired()],
                         render_kw={"rows": 14, "spellcheck": "true"})
    summary = StringField(_l("Edit summary"), validators=[Optional(), Length(max=MAX_SUMMARY)])
    save = SubmitField(_l("Save the answer"))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=MAX_COMMENT)])


class VoteForm(FlaskForm):
    """Up (1), down (-1), or take my vote back (0): the value of the button pressed."""

    value = IntegerField(validators=[InputRequired(), AnyOf([-1, 0, 1])])


class TagFollowForm(FlaskForm):
    """Follow, or stop following, one tag (its name as written in the list's filter; the service checks it)."""

    tag = HiddenField(validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A POST that carries its CSRF token and where to go back to (accept, reopen, restore, dismiss…)."""

    next = HiddenField()


class ReasonForm(ActionForm):
    """Close, hide, lock or flag: the reason is read by the people involved (the service says when it is missing)."""

    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=MAX_REASON)])


class DuplicateForm(ActionForm):
    original = IntegerField(_l("Number of the original question"), validators=[InputRequired(), NumberRange(min=1)])
