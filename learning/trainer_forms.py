"""Flask-WTF forms of the trainers' pages (CSRF comes with them). They only read what was typed: the
services (learning.courses, structure, versions) check every value and say what is wrong with it."""
from __future__ import annotations

import re

from flask_babel import format_decimal, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, RadioField, SelectField,
                     SelectMultipleField, StringField, SubmitField, TextAreaField)
from wtforms.fields.choices import SelectChoice as _Choice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from learning.courses import MAX_SUMMARY, MAX_TITLE, CourseInput
from learning.models import QuizQuestion
from learning.quizzes import MAX_NUMBER_TEXT, NUMBER
from learning.structure import MAX_FEEDBACK, MAX_OPTION_TEXT, MAX_OPTIONS, OptionInput, QuestionInput
from learning.versions import MAX_NOTE

LANGUAGE_CHOICES = [_Choice("el", _l("Greek")), _Choice("en", _l("English"))]
VISIBILITY_CHOICES = [
    _Choice("internal", _l("Internal: staff of this municipality")),
    _Choice("network", _l("Network: staff of every federated municipality")),
    _Choice("public", _l("Public: anyone, under an open licence")),
    _Choice("private", _l("Private: only its trainers")),
]
LICENCE_CHOICES = [
    _Choice("CC-BY-4.0", _l("CC BY 4.0 (attribution)")),
    _Choice("CC0-1.0", _l("CC0 (public domain)")),
    _Choice("all-rights-reserved", _l("All rights reserved (internal material)")),
]
KIND_CHOICES = [
    _Choice("single", _l("Single choice")), _Choice("multiple", _l("Multiple choice")),
    _Choice("truefalse", _l("True or false")), _Choice("numeric", _l("A number")),
]
#: What each kind of question asks of the learner, shown under its choice.
KIND_HINTS = {
    "single": _l("The learner picks one option; exactly one option is right."),
    "multiple": _l("The learner ticks every right option; at least one option is right."),
    "truefalse": _l("The learner says whether the statement is true."),
    "numeric": _l("The learner types a number; an answer within the tolerance counts as right."),
}
NOT_A_NUMBER = _l("Write a number, such as 2,5 or 1500.")
WHOLE = re.compile(r"[+-]?[0-9]{1,12}")


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (the template puts them in a fieldset with a legend)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def listed(text: str | None) -> list[str]:
    """The comma-separated words of a text box (tags, usernames)."""
    return [word.strip() for word in (text or "").split(",") if word.strip()]


def whole(text: str | None, empty: int | str = 0) -> int | str:
    """A whole number typed in a box, or the text as it is for the service to refuse with its reason."""
    text = (text or "").strip()
    if not text:
        return empty
    return int(text) if WHOLE.fullmatch(text) else text


def decimal(text: str | None) -> float | None:
    """A number typed with a comma or a point for decimals (as learners answer), None if there is none;
    ValueError if the text is not a number."""
    text = (text or "").strip().replace("\u2212", "-")
    if not text:
        return None
    if len(text) > MAX_NUMBER_TEXT or not NUMBER.fullmatch(text):
        raise ValueError(text)
    return float(text.replace(",", "."))


def shown_number(value: float | None) -> str:
    """A number as the person reading it writes it (2,5 in Greek), without grouping, so it reads back."""
    return "" if value is None else format_decimal(value, format="0.##########")


# Courses -----------------------------------------------------------------------------------------

class CourseForm(FlaskForm):
    title = StringField(_l("Title"), render_kw={"maxlength": MAX_TITLE, "required": True, "autocomplete": "off"})
    summary = TextAreaField(_l("Summary"), render_kw={"rows": 2, "maxlength": MAX_SUMMARY, "spellcheck": "true"})
    description = TextAreaField(_l("Description (Markdown)"), render_kw={"rows": 10, "spellcheck": "true"})
    language = SelectField(_l("Language of the course"), choices=LANGUAGE_CHOICES, validate_choice=False)
    visibility = SelectField(_l("Who can take it"), choices=VISIBILITY_CHOICES, default="internal",
                             validate_choice=False)
    licence = SelectField(_l("Licence"), choices=LICENCE_CHOICES, default="CC-BY-4.0", validate_choice=False)
    tags = StringField(_l("Tags"), render_kw={"autocomplete": "off"})
    estimated_minutes = StringField(_l("Estimated duration, in minutes"),
                                    render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 8})
    community_uri = StringField(_l("Community of practice (its address)"),
                                render_kw={"inputmode": "url", "autocomplete": "off"})
    trainers = StringField(_l("Trainers"), render_kw={"autocomplete": "off"})
    #: Choices are the published courses the trainer may see, set by the view.
    prerequisites = CheckboxesField(_l("Courses to complete first"), coerce=int, choices=[], validate_choice=False,
                                    invalid_value_message=_l("Prerequisites are chosen from the list of courses."))
    save = SubmitField(_l("Save"))
    preview = SubmitField(_l("Preview the description"))

    def course_input(self) -> CourseInput:
        return CourseInput(
            title=self.title.data or "", summary=self.summary.data or "", description=self.description.data or "",
            language=self.language.data, visibility=self.visibility.data, licence=self.licence.data,
            tags=listed(self.tags.data), estimated_minutes=whole(self.estimated_minutes.data),
            community_uri=(self.community_uri.data or "").strip() or None, trainers=listed(self.trainers.data),
            prerequisites=list(self.prerequisites.data or []))


class PublishForm(FlaskForm):
    note = StringField(_l("Note on this version (optional)"), render_kw={"maxlength": MAX_NOTE})


class StateForm(FlaskForm):
    """Archive a published course, or bring it back (the button pressed says which)."""

    state = HiddenField()


# The outline -------------------------------------------------------------------------------------

class NewModuleForm(FlaskForm):
    title = StringField(_l("Title of a new module"), render_kw={"maxlength": MAX_TITLE, "autocomplete": "off"})


class ModuleForm(FlaskForm):
    title = StringField(_l("New title of the module"), render_kw={"maxlength": MAX_TITLE, "autocomplete": "off"})


class NewItemForm(FlaskForm):
    """A lesson or a quiz added to a module: its title, and the button pressed (kind) says which."""

    title = StringField(_l("Title of a new lesson or quiz"),
                        render_kw={"maxlength": MAX_TITLE, "autocomplete": "off"})
    #: Sent by the button pressed, never drawn as a field.
    kind = StringField()


class LessonForm(FlaskForm):
    title = StringField(_l("Title"), render_kw={"maxlength": MAX_TITLE, "required": True, "autocomplete": "off"})
    body = TextAreaField(_l("Text (Markdown)"), render_kw={"rows": 18, "spellcheck": "true"})
    save = SubmitField(_l("Save the lesson"))
    preview = SubmitField(_l("Preview"))


class QuizForm(FlaskForm):
    title = StringField(_l("Title"), render_kw={"maxlength": MAX_TITLE, "required": True, "autocomplete": "off"})
    introduction = TextAreaField(_l("Introduction (Markdown)"), render_kw={"rows": 5, "spellcheck": "true"})
    pass_percent = StringField(_l("Pass mark, in percent"),
                               render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 5})
    max_attempts = StringField(_l("Attempts allowed"),
                               render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 5})
    shuffle_questions = BooleanField(_l("Show the questions in a different order to each learner"))
    shuffle_options = BooleanField(_l("Show the options of each question in a different order"))
    save = SubmitField(_l("Save the quiz"))

    def settings(self) -> dict:
        """The keyword arguments of structure.add_quiz and update_quiz."""
        return {"pass_percent": whole(self.pass_percent.data, empty=""),
                "max_attempts": whole(self.max_attempts.data),
                "shuffle_questions": self.shuffle_questions.data, "shuffle_options": self.shuffle_options.data}


# Questions ---------------------------------------------------------------------------------------

class OptionRow(Form):
    """One option of a choice question; a row left empty is ignored."""

    key = HiddenField()
    text = StringField(_l("Text"), render_kw={"maxlength": MAX_OPTION_TEXT, "autocomplete": "off"})
    correct = BooleanField(_l("Right answer"))
    feedback = StringField(_l("Feedback on this option"), render_kw={"maxlength": MAX_FEEDBACK, "autocomplete": "off"})


class QuestionForm(FlaskForm):
    kind = RadioField(_l("Kind of question"), choices=KIND_CHOICES, default="single", validate_choice=False)
    prompt = TextAreaField(_l("Question (Markdown)"), render_kw={"rows": 4, "spellcheck": "true"})
    options = FieldList(FormField(OptionRow), min_entries=MAX_OPTIONS, max_entries=MAX_OPTIONS)
    true_is_correct = RadioField(_l("True or false: the statement is"), default="true", validate_choice=False,
                                 choices=[_Choice("true", _l("True")), _Choice("false", _l("False"))])
    number = StringField(_l("The right answer"), render_kw={"inputmode": "decimal", "autocomplete": "off",
                                                            "size": 12})
    tolerance = StringField(_l("Tolerance"), render_kw={"inputmode": "decimal", "autocomplete": "off", "size": 12})
    feedback = TextAreaField(_l("Feedback after answering"), render_kw={"rows": 3, "maxlength": MAX_FEEDBACK,
                                                                         "spellcheck": "true"})
    save = SubmitField(_l("Save the question"))

    def validate_number(self, field) -> None:
        if self.kind.data == "numeric" and not (field.data or "").strip():
            raise ValidationError(_l("Give the right answer, a number."))
        self._is_number(field)

    def validate_tolerance(self, field) -> None:
        self._is_number(field)

    def _is_number(self, field) -> None:
        """Numbers matter only to numeric questions: what is left in their boxes otherwise is ignored."""
        if self.kind.data != "numeric":
            return
        try:
            decimal(field.data)
        except ValueError:
            raise ValidationError(NOT_A_NUMBER) from None

    def fill(self, question: QuizQuestion) -> None:
        """Show a question as it is now (on a form that was not sent)."""
        self.kind.data, self.prompt.data, self.feedback.data = question.kind, question.prompt, question.feedback
        if question.kind == "truefalse":
            self.true_is_correct.data = next((o["key"] for o in question.options if o["correct"]), "true")
        elif question.kind == "numeric":
            self.number.data, self.tolerance.data = shown_number(question.number), shown_number(question.tolerance)
        else:
            for row, option in zip(self.options, question.options):
                row.key.data, row.text.data = option["key"], option["text"]
                row.correct.data, row.feedback.data = option["correct"], option["feedback"]

    def question_input(self) -> QuestionInput:
        options = [OptionInput(text=row.text.data or "", correct=bool(row.correct.data),
                               feedback=row.feedback.data or "", key=row.key.data or None)
                   for row in self.options if (row.text.data or "").strip()]
        numeric = self.kind.data == "numeric"
        return QuestionInput(kind=self.kind.data, prompt=self.prompt.data or "", options=options,
                             true_is_correct=self.true_is_correct.data != "false",
                             number=decimal(self.number.data) if numeric else None,
                             tolerance=(decimal(self.tolerance.data) if numeric else None) or 0.0,
                             feedback=self.feedback.data or "")


# Assignments -------------------------------------------------------------------------------------

class _AssignmentForm(FlaskForm):
    due = StringField(_l("Due date (optional)"), render_kw={"type": "date"})


class DepartmentAssignmentForm(_AssignmentForm):
    """Assign the course to a department and its sub-units (the view fills the choices)."""

    department = SelectField(_l("Department"), choices=[], validate_choice=False)


class GroupAssignmentForm(_AssignmentForm):
    """Assign the course to the members of a directory group (the view fills the choices)."""

    group = SelectField(_l("Directory group"), choices=[], validate_choice=False)
