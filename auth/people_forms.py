"""The profile form (Flask-WTF: CSRF comes with it). The services check every field again."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice as _Choice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from auth.content import LANGUAGE_NAMES
from auth.people import MAX_ABOUT
from auth.photos import ACCEPTED_TYPES

VISIBILITY_CHOICES = [
    _Choice("internal", _l("Staff of this municipality")),
    _Choice("network", _l("Staff of this municipality and of every federated municipality")),
]
#: What each visibility means, shown under its choice.
VISIBILITY_HINTS = {
    "internal": _l("Only colleagues who sign in to this node see the profile and find it in searches."),
    "network": _l("Colleagues in the municipalities this node is federated with can also see it, find it "
                  "and ask for help."),
}


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (the template puts them in a fieldset with a legend)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProfileForm(FlaskForm):
    skills = StringField(_l("Skills"), validators=[Optional()],
                         render_kw={"autocomplete": "off", "spellcheck": "true", "maxlength": 2500})
    about = TextAreaField(_l("Ask me about"), render_kw={"rows": 6, "maxlength": MAX_ABOUT, "spellcheck": "true"})
    languages = CheckboxesField(_l("Languages I work in"),
                                    choices=[_Choice(code, name) for code, name in LANGUAGE_NAMES.items()])
    visibility = RadioField(_l("Who can see the profile"), choices=VISIBILITY_CHOICES, default="internal")
    photo = FileField(_l("New photo"), render_kw={"accept": ",".join(ACCEPTED_TYPES)})
    remove_photo = BooleanField(_l("Remove the photo"))
    save = SubmitField(_l("Save the profile"))

    def skill_list(self) -> list[str]:
        return [name for name in (self.skills.data or "").split(",") if name.strip()]
