"""The trainers' page that assigns a course to a department or a directory group, with a due date,
and shows how far those asked have got. Thin views over learning.assignments."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from auth.people import department_tree
from knet.db import db
from knet.errors import Conflict, Invalid
from learning import assignments
from learning.models import Course
from learning.trainer_forms import DepartmentAssignmentForm, GroupAssignmentForm
from learning.trainer_views import editable, refused

bp = Blueprint("learning_assignments", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    assignments.init_app(app)
    app.register_blueprint(bp)


def _page(course: Course, sent: tuple[str, FlaskForm] | None = None, status: int = 200):
    """The course's assignments and the two forms that add one (`sent`: which form was refused, and the
    form, shown as it was sent)."""
    forms = {"department": DepartmentAssignmentForm(formdata=None, prefix="department"),
             "group": GroupAssignmentForm(formdata=None, prefix="group")}
    if sent is not None:
        forms[sent[0]] = sent[1]
    forms["department"].department.choices = [("", _("Choose a department"))] + [
        (str(node.department.id), "\u2003" * depth + node.department.name) for node, depth in _flattened()]
    forms["group"].group.choices = [("", _("Choose a group"))] + [
        (group.dn, ngettext("%(name)s (%(num)d person)", "%(name)s (%(num)d people)", group.members, name=group.name))
        for group in assignments.known_groups()]
    return render_template("learning/trainer_assignments.html", course=course, forms=forms,
                           rows=assignments.of_course(course), learner_page=True), status


def _flattened():
    """Every department in tree order, each with its depth (for indenting it in the list)."""
    stack, seen = [(node, 0) for node in reversed(department_tree())], set()
    while stack:
        node, depth = stack.pop()
        if node.department.id in seen:
            continue
        seen.add(node.department.id)
        yield node, depth
        stack.extend((child, depth + 1) for child in reversed(node.children))


@bp.get("/learning/courses/<int:course_id>/assignments")
@login_required
def page(course_id: int):
    return _page(editable(course_id))


@bp.post("/learning/courses/<int:course_id>/assignments/<any(department, group):target>")
@login_required
def assign(course_id: int, target: str):
    course = editable(course_id)
    form = (DepartmentAssignmentForm if target == "department" else GroupAssignmentForm)(prefix=target)
    if not form.validate_on_submit():
        return _page(course, (target, form), 400)
    chosen = form.department.data if target == "department" else form.group.data
    try:
        _assignment, new = assignments.assign(current_user, course, due=form.due.data, **{
            "department_id" if target == "department" else "group_dn": chosen or ""})
    except (Invalid, Conflict) as exc:
        refused(form, exc)
        return _page(course, (target, form), exc.status)
    db.session.commit()
    flash(_("Assigned: those asked were told, and find the course in “My learning”.") if new
          else _("The assignment's due date was changed."), "success")
    return redirect(url_for(".page", course_id=course.id))


@bp.post("/learning/courses/<int:course_id>/assignments/<int:assignment_id>/withdraw")
@login_required
def withdraw(course_id: int, assignment_id: int):
    course = editable(course_id)
    assignments.unassign(current_user, course, assignment_id)
    db.session.commit()
    flash(_("The assignment was withdrawn. Those who enrolled keep the course and their progress."), "success")
    return redirect(url_for(".page", course_id=course.id))
