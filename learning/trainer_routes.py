"""The trainers' pages: making a course (what it says about itself, its modules, lessons, quizzes and
questions), publishing it as a numbered version, archiving it, and seeing what changed between
versions. Thin views over learning.courses, learning.structure and learning.versions.

Only a course's trainers and the node's administrators reach these pages (404 for a course the
person may not see, 403 for one they may only read). A refused form is shown again with what was
typed and the reason next to its field; every form carries its CSRF token.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from auth.access import require_role
from knet import markup
from knet.db import db
from knet.diff import diff_lines
from knet.errors import Invalid
from knet.views import add_nav_link
from learning import attachments, courses, structure, versions
from learning.models import Course, Item, Module, QuizQuestion
from learning.trainer_views import REFUSALS, editable, refused
from learning.trainer_forms import (KIND_CHOICES, KIND_HINTS, CourseForm, LessonForm, ModuleForm, NewItemForm,
                                    NewModuleForm, PublishForm, QuestionForm, QuizForm, StateForm, shown_number)

bp = Blueprint("learning_trainer", __name__, template_folder="templates")

STATE_NAMES = {"draft": _l("Draft"), "published": _l("Published"), "archived": _l("Archived")}
KIND_NAMES = {"lesson": _l("Lesson"), "quiz": _l("Quiz"), "scorm": _l("SCORM lesson"), "module": _l("Module"),
              "course": _l("Course")}
COURSE_FIELDS = {"title": _l("The course's title changed."), "summary": _l("The course's summary changed."),
                 "description": _l("The course's description changed.")}
CHANGE_SENTENCES = {
    ("added", "module"): _l("Module “%(title)s” added"),
    ("removed", "module"): _l("Module “%(title)s” removed"),
    ("renamed", "module"): _l("Module “%(before)s” renamed “%(title)s”"),
    ("added", "lesson"): _l("Lesson “%(title)s” added"),
    ("removed", "lesson"): _l("Lesson “%(title)s” removed"),
    ("renamed", "lesson"): _l("Lesson “%(before)s” renamed “%(title)s”"),
    ("changed", "lesson"): _l("Lesson “%(title)s” changed"),
    ("moved", "lesson"): _l("Lesson “%(title)s” moved from module “%(before)s” to module “%(after)s”"),
    ("added", "quiz"): _l("Quiz “%(title)s” added"), ("removed", "quiz"): _l("Quiz “%(title)s” removed"),
    ("renamed", "quiz"): _l("Quiz “%(before)s” renamed “%(title)s”"),
    ("changed", "quiz"): _l("Quiz “%(title)s” changed"),
    ("moved", "quiz"): _l("Quiz “%(title)s” moved from module “%(before)s” to module “%(after)s”"),
    ("added", "scorm"): _l("SCORM lesson “%(title)s” added"),
    ("removed", "scorm"): _l("SCORM lesson “%(title)s” removed"),
    ("renamed", "scorm"): _l("SCORM lesson “%(before)s” renamed “%(title)s”"),
    ("changed", "scorm"): _l("SCORM lesson “%(title)s” changed"),
    ("moved", "scorm"): _l("SCORM lesson “%(title)s” moved from module “%(before)s” to module “%(after)s”"),
}
ATTACHMENT_ENDPOINTS = ("learning_attachments.upload", "learning_attachments.remove",
                        "learning_attachments.download")


def _outline(course: Course, anchor: str | None = None):
    return redirect(url_for("learning_trainer.edit", course_id=course.id, _anchor=anchor))


# Courses I teach ---------------------------------------------------------------------------------

@bp.get("/learning/teaching")
@login_required
def mine():
    require_role(current_user, "trainer")
    return render_template("learning/trainer_courses.html", listed=courses.editable_by(current_user),
                           state_names=STATE_NAMES)


# A course: what it says about itself -------------------------------------------------------------

def _course_form(course: Course | None, **kwargs) -> CourseForm:
    form = CourseForm(**kwargs)
    form.prerequisites.choices = [(other.id, other.title) for other in courses.requirable(current_user, course)]
    return form


def _course_values(course: Course) -> dict:
    return {"title": course.title, "summary": course.summary, "description": course.description,
            "language": course.language, "visibility": course.visibility, "licence": course.licence,
            "tags": ", ".join(tag.name for tag in course.tags), "estimated_minutes": str(course.estimated_minutes),
            "community_uri": course.community_uri or "", "trainers": ", ".join(t.username for t in course.trainers),
            "prerequisites": [other.id for other in course.prerequisites]}


@bp.route("/learning/courses/new", methods=["GET", "POST"])
@login_required
def create():
    require_role(current_user, "trainer")
    form = _course_form(None, language=current_app.config["KNET"]["default_language"])
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = markup.render(form.description.data or "")
        else:
            try:
                course = courses.create_course(current_user, form.course_input())
            except REFUSALS as exc:
                refused(form, exc)
                return render_template("learning/edit_course.html", form=form, course=None, preview=None), \
                    exc.status
            db.session.commit()
            flash(_("The course was created as a draft. Add its modules, lessons and quizzes, then publish it."),
                  "success")
            return _outline(course)
    return render_template("learning/edit_course.html", form=form, course=None, preview=preview), \
        400 if form.errors else 200


@bp.route("/learning/courses/<int:course_id>/edit", methods=["GET", "POST"])
@login_required
def edit(course_id: int):
    course = editable(course_id)
    if request.method == "GET":
        return _edit_page(course)
    form = _course_form(course)
    if not form.validate_on_submit():
        return _edit_page(course, form, status=400)
    if form.preview.data:
        return _edit_page(course, form, preview=markup.render(form.description.data or ""))
    try:
        courses.update_course(current_user, course, form.course_input())
    except REFUSALS as exc:
        refused(form, exc)
        return _edit_page(course, form, status=exc.status)
    db.session.commit()
    if not courses.may_edit(current_user, course):
        flash(_("The course was saved. You are no longer one of its trainers."), "success")
        return redirect(url_for("learning_trainer.mine"))
    flash(_("The course was saved."), "success")
    return _outline(course, "about")


def _edit_page(course: Course, form: CourseForm | None = None, *, refused_form: tuple[str, FlaskForm] | None = None,
               preview: str | None = None, status: int = 200):
    """The course's editing page: its state and publishing, its outline, and what it says about itself.
    `form` or `refused_form` (a form's key and the form) are forms sent and refused, shown as they were sent."""
    forms: dict[str, FlaskForm] = {
        "publish": PublishForm(formdata=None, prefix="publish"), "state": StateForm(formdata=None, prefix="state"),
        "new-module": NewModuleForm(formdata=None, prefix="new-module")}
    for module in course.modules:
        forms[f"module-{module.id}"] = ModuleForm(formdata=None, prefix=f"module-{module.id}", title=module.title)
        forms[f"module-{module.id}-new"] = NewItemForm(formdata=None, prefix=f"module-{module.id}-new")
    if refused_form is not None:
        forms[refused_form[0]] = refused_form[1]
    form = form or _course_form(course, formdata=None, **_course_values(course))
    return render_template("learning/edit_course.html", course=course, form=form, forms=forms, preview=preview,
                           state_names=STATE_NAMES, kind_names=KIND_NAMES), status


@bp.context_processor
def _learners_page() -> dict:
    """Whether the learners' course page exists yet (learning.routes), to link to it."""
    return {"learner_page": "learning.course" in current_app.view_functions}


# Publishing and archiving ------------------------------------------------------------------------

@bp.post("/learning/courses/<int:course_id>/publish")
@login_required
def publish(course_id: int):
    course = editable(course_id)
    form = PublishForm(prefix="publish")
    try:
        version = versions.publish(current_user, course, form.note.data or "")
    except REFUSALS as exc:
        refused(form, exc)
        return _edit_page(course, refused_form=("publish", form), status=exc.status)
    db.session.commit()
    flash(_("Version %(number)d is published: learners now see it.", number=version.number), "success")
    return _outline(course)


@bp.post("/learning/courses/<int:course_id>/state")
@login_required
def set_state(course_id: int):
    course = editable(course_id)
    form = StateForm(prefix="state")
    try:
        courses.set_state(current_user, course, form.state.data or "")
    except REFUSALS as exc:
        refused(form, exc)
        return _edit_page(course, refused_form=("state", form), status=exc.status)
    db.session.commit()
    if course.state == "archived":
        flash(_("The course is archived: it left the catalogue, and its learners keep it."), "success")
    else:
        flash(_("The course is back in the catalogue."), "success")
    return _outline(course)


# Modules -----------------------------------------------------------------------------------------

@bp.post("/learning/courses/<int:course_id>/modules")
@login_required
def add_module(course_id: int):
    course = editable(course_id)
    form = NewModuleForm(prefix="new-module")
    try:
        module = structure.add_module(current_user, course, form.title.data or "")
    except REFUSALS as exc:
        refused(form, exc)
        return _edit_page(course, refused_form=("new-module", form), status=exc.status)
    db.session.commit()
    flash(_("The module “%(title)s” was added.", title=module.title), "success")
    return _outline(course, f"module-{module.id}")


def _module(course_id: int, module_id: int) -> tuple[Course, Module]:
    course = editable(course_id)
    return course, structure.get_module(course, module_id)


@bp.post("/learning/courses/<int:course_id>/modules/<int:module_id>/rename")
@login_required
def rename_module(course_id: int, module_id: int):
    course, module = _module(course_id, module_id)
    key = f"module-{module.id}"
    form = ModuleForm(prefix=key)
    try:
        structure.rename_module(current_user, module, form.title.data or "")
    except REFUSALS as exc:
        refused(form, exc)
        return _edit_page(course, refused_form=(key, form), status=exc.status)
    db.session.commit()
    flash(_("The module was renamed “%(title)s”.", title=module.title), "success")
    return _outline(course, key)


@bp.post("/learning/courses/<int:course_id>/modules/<int:module_id>/move")
@login_required
def move_module(course_id: int, module_id: int):
    course, module = _module(course_id, module_id)
    structure.move_module(current_user, module, request.form.get("offset", 0, type=int))
    db.session.commit()
    flash(_("The module “%(title)s” was moved.", title=module.title), "success")
    return _outline(course, f"module-{module.id}")


@bp.route("/learning/courses/<int:course_id>/modules/<int:module_id>/delete", methods=["GET", "POST"])
@login_required
def delete_module(course_id: int, module_id: int):
    course, module = _module(course_id, module_id)
    if request.method == "GET":
        return _confirm(course, "module", module.title, len(module.items),
                        url_for("learning_trainer.delete_module", course_id=course.id, module_id=module.id),
                        url_for("learning_trainer.edit", course_id=course.id, _anchor=f"module-{module.id}"))
    structure.delete_module(current_user, module)
    db.session.commit()
    flash(_("The module “%(title)s” was deleted.", title=module.title), "success")
    return _outline(course, "outline")


def _confirm(course: Course, kind: str, title: str, parts: int, action: str, back: str):
    """The page that asks before deleting (it works without scripts: a form to confirm, a link to go back)."""
    return render_template("learning/trainer_confirm_delete.html", course=course, kind=kind, title=title, parts=parts,
                           action=action, back=back)


# Lessons and quizzes -----------------------------------------------------------------------------

@bp.post("/learning/courses/<int:course_id>/modules/<int:module_id>/items")
@login_required
def add_item(course_id: int, module_id: int):
    course, module = _module(course_id, module_id)
    key = f"module-{module.id}-new"
    form = NewItemForm(prefix=key)
    try:
        if form.kind.data == "quiz":
            item = structure.add_quiz(current_user, module, form.title.data or "")
        elif form.kind.data == "lesson":
            item = structure.add_lesson(current_user, module, form.title.data or "", "")
        elif form.kind.data == "scorm":
            item = structure.add_scorm(current_user, module, form.title.data or "")
        else:
            raise Invalid(_l("Add a lesson, a quiz or a SCORM package: press one of the buttons."))
    except REFUSALS as exc:
        refused(form, exc)
        return _edit_page(course, refused_form=(key, form), status=exc.status)
    db.session.commit()
    if item.kind == "quiz":
        flash(_("The quiz “%(title)s” was added. Set it up and add its questions.", title=item.title), "success")
    elif item.kind == "scorm":
        flash(_("The SCORM lesson “%(title)s” was added. Upload its package.", title=item.title), "success")
    else:
        flash(_("The lesson “%(title)s” was added. Write its text.", title=item.title), "success")
    return redirect(url_for("learning_trainer.edit_item", course_id=course.id, item_id=item.id))


def _item(course_id: int, item_id: int) -> tuple[Course, Item]:
    course = editable(course_id)
    return course, structure.get_item(course, item_id)


@bp.route("/learning/courses/<int:course_id>/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(course_id: int, item_id: int):
    course, item = _item(course_id, item_id)
    if item.kind == "quiz":
        return _edit_quiz(course, item)
    if item.kind == "scorm":  # its page is learning.scorm_routes.edit
        return redirect(url_for("learning_scorm.edit", course_id=course.id, item_id=item.id), 303)
    form = LessonForm(title=item.title, body=item.body)
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = markup.render(form.body.data or "")
        else:
            try:
                structure.update_lesson(current_user, item, form.title.data or "", form.body.data or "")
            except REFUSALS as exc:
                refused(form, exc)
                return _lesson_page(course, item, form, status=exc.status)
            db.session.commit()
            flash(_("The lesson “%(title)s” was saved.", title=item.title), "success")
            return _outline(course, f"item-{item.id}")
    return _lesson_page(course, item, form, preview, 400 if form.errors else 200)


def _lesson_page(course: Course, item: Item, form: LessonForm, preview: str | None = None, status: int = 200):
    uploads = all(name in current_app.view_functions for name in ATTACHMENT_ENDPOINTS)
    return render_template("learning/edit_lesson.html", course=course, item=item, form=form, preview=preview,
                           uploads=uploads, max_upload_mb=attachments.megabytes(attachments.max_upload_bytes()),
                           accepted=attachments.ACCEPTED, extensions=sorted(attachments.BY_EXTENSION)), status


def _edit_quiz(course: Course, quiz: Item):
    form = QuizForm(title=quiz.title, introduction=quiz.body, pass_percent=str(quiz.pass_percent),
                    max_attempts=str(quiz.max_attempts), shuffle_questions=quiz.shuffle_questions,
                    shuffle_options=quiz.shuffle_options)
    if form.validate_on_submit():
        try:
            structure.update_quiz(current_user, quiz, form.title.data or "", form.introduction.data or "",
                                  **form.settings())
        except REFUSALS as exc:
            refused(form, exc)
            return _quiz_page(course, quiz, form, exc.status)
        db.session.commit()
        flash(_("The quiz “%(title)s” was saved.", title=quiz.title), "success")
        return redirect(url_for("learning_trainer.edit_item", course_id=course.id, item_id=quiz.id))
    return _quiz_page(course, quiz, form, 400 if form.errors else 200)


def _quiz_page(course: Course, quiz: Item, form: QuizForm, status: int = 200):
    return render_template("learning/edit_quiz.html", course=course, item=quiz, form=form,
                           kind_names={choice.value: choice.label for choice in KIND_CHOICES},
                           shown_number=shown_number), status


@bp.post("/learning/courses/<int:course_id>/items/<int:item_id>/move")
@login_required
def move_item(course_id: int, item_id: int):
    course, item = _item(course_id, item_id)
    structure.move_item(current_user, item, request.form.get("offset", 0, type=int))
    db.session.commit()
    flash(_("“%(title)s” was moved.", title=item.title), "success")
    return _outline(course, f"item-{item.id}")


@bp.route("/learning/courses/<int:course_id>/items/<int:item_id>/delete", methods=["GET", "POST"])
@login_required
def delete_item(course_id: int, item_id: int):
    course, item = _item(course_id, item_id)
    if request.method == "GET":
        return _confirm(course, item.kind, item.title, len(item.questions),
                        url_for("learning_trainer.delete_item", course_id=course.id, item_id=item.id),
                        url_for("learning_trainer.edit", course_id=course.id, _anchor=f"item-{item.id}"))
    module_id = item.module_id
    structure.delete_item(current_user, item)
    db.session.commit()
    flash(_("“%(title)s” was deleted.", title=item.title), "success")
    return _outline(course, f"module-{module_id}")


# Quiz questions ----------------------------------------------------------------------------------

def _quiz(course_id: int, item_id: int) -> tuple[Course, Item]:
    course, quiz = _item(course_id, item_id)
    if quiz.kind != "quiz":
        raise Invalid(_l("Questions belong to quizzes, not to lessons."))
    return course, quiz


@bp.route("/learning/courses/<int:course_id>/items/<int:item_id>/questions/new", methods=["GET", "POST"])
@login_required
def add_question(course_id: int, item_id: int):
    course, quiz = _quiz(course_id, item_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            structure.add_question(current_user, quiz, form.question_input())
        except REFUSALS as exc:
            refused(form, exc)
            return _question_page(course, quiz, None, form, exc.status)
        db.session.commit()
        flash(_("The question was added to “%(title)s”.", title=quiz.title), "success")
        return redirect(url_for("learning_trainer.edit_item", course_id=course.id, item_id=quiz.id,
                                _anchor="questions"))
    return _question_page(course, quiz, None, form, 400 if form.errors else 200)


@bp.route("/learning/courses/<int:course_id>/items/<int:item_id>/questions/<int:question_id>/edit",
          methods=["GET", "POST"])
@login_required
def edit_question(course_id: int, item_id: int, question_id: int):
    course, quiz = _quiz(course_id, item_id)
    question = structure.get_question(quiz, question_id)
    form = QuestionForm()
    if not form.is_submitted():
        form.fill(question)
    elif form.validate():
        try:
            structure.update_question(current_user, question, form.question_input())
        except REFUSALS as exc:
            refused(form, exc)
            return _question_page(course, quiz, question, form, exc.status)
        db.session.commit()
        flash(_("Question %(number)d of “%(title)s” was saved.", number=question.position + 1, title=quiz.title),
              "success")
        return redirect(url_for("learning_trainer.edit_item", course_id=course.id, item_id=quiz.id,
                                _anchor=f"question-{question.id}"))
    return _question_page(course, quiz, question, form, 400 if form.errors else 200)


def _question_page(course: Course, quiz: Item, question: QuizQuestion | None, form: QuestionForm, status: int):
    return render_template("learning/edit_question.html", course=course, item=quiz, question=question, form=form,
                           kind_hints=KIND_HINTS), status


def _question(course_id: int, item_id: int, question_id: int) -> tuple[Course, Item, QuizQuestion]:
    course, quiz = _quiz(course_id, item_id)
    return course, quiz, structure.get_question(quiz, question_id)


@bp.post("/learning/courses/<int:course_id>/items/<int:item_id>/questions/<int:question_id>/move")
@login_required
def move_question(course_id: int, item_id: int, question_id: int):
    course, quiz, question = _question(course_id, item_id, question_id)
    structure.move_question(current_user, question, request.form.get("offset", 0, type=int))
    db.session.commit()
    flash(_("The question was moved; it is now question %(number)d.", number=question.position + 1), "success")
    return redirect(url_for("learning_trainer.edit_item", course_id=course.id, item_id=quiz.id,
                            _anchor=f"question-{question.id}"))


@bp.route("/learning/courses/<int:course_id>/items/<int:item_id>/questions/<int:question_id>/delete",
          methods=["GET", "POST"])
@login_required
def delete_question(course_id: int, item_id: int, question_id: int):
    course, quiz, question = _question(course_id, item_id, question_id)
    back = url_for("learning_trainer.edit_item", course_id=course.id, item_id=quiz.id, _anchor="questions")
    if request.method == "GET":
        return _confirm(course, "question", question.prompt, 0,
                        url_for("learning_trainer.delete_question", course_id=course.id, item_id=quiz.id,
                                question_id=question.id), back)
    structure.delete_question(current_user, question)
    db.session.commit()
    flash(_("The question was deleted from “%(title)s”.", title=quiz.title), "success")
    return redirect(back)


# Versions ----------------------------------------------------------------------------------------

@bp.get("/learning/courses/<int:course_id>/versions")
@login_required
def list_versions(course_id: int):
    course = editable(course_id)
    found = versions.versions(course)
    return render_template("learning/trainer_versions.html", course=course, found=found)


@bp.get("/learning/courses/<int:course_id>/versions/compare")
@login_required
def compare(course_id: int):
    course = editable(course_id)
    if course.published_version == 0:
        raise Invalid(_l("The course has not been published yet, so there are no versions to compare."))
    new = versions.get_version(course, _version_number("to", course.published_version))
    old = versions.get_version(course, _version_number("from", max(new.number - 1, 1)))
    changes = [{"change": change, "sentence": _sentence(change, old.snapshot, new.snapshot),
                "lines": diff_lines(change.before, change.after) if change.what == "changed" else None}
               for change in versions.compare(old.snapshot, new.snapshot)]
    found = versions.versions(course)
    return render_template("learning/trainer_compare.html", course=course, old=old, new=new, changes=changes,
                           found=found)


def _version_number(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not raw.isascii() or len(raw) > 9:
        raise Invalid(_l("Versions are compared by their numbers, such as ?from=1&to=2; “%(value)s” is not one.",
                         value=raw[:20]), field=name)
    return int(raw)


def _sentence(change: versions.Change, old: dict, new: dict) -> str:
    """One change between two versions, in words."""
    if change.kind == "course":
        # A change of the course names neither field; the one whose texts these are is the one that changed.
        field = next((name for name in COURSE_FIELDS if old[name] == change.before and new[name] == change.after),
                     "description")
        return str(COURSE_FIELDS[field])
    sentence = CHANGE_SENTENCES.get((change.what, change.kind), _l("“%(title)s” changed"))
    return str(sentence) % {"title": change.title, "before": change.before, "after": change.after}


def init_app(app: Flask) -> None:
    """Register the trainers' pages and, for trainers, the "Teaching" link of the main navigation."""
    app.register_blueprint(bp)
    add_nav_link(app, "learning_trainer.mine", _l("Teaching"), role="trainer")
