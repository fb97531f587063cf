from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from auth.access import ROLE_NAMES
from auth.models import ROLES


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (each with its label) instead of a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=[SelectChoice(role, ROLE_NAMES[role]) for role in ROLES
                                                     if role != "reader"])


class ActiveForm(FlaskForm):
    active = HiddenField()
