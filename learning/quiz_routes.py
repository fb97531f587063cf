"""Taking a quiz: the questions (never their answers), submitting, and the result with what was right
and why. Thin views over learning.quizzes."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from knet.db import db
from knet.errors import Invalid
from learning import certificates, courses, progress, quizzes
from learning.quizzes import QuizPage

bp = Blueprint("learning_quiz", __name__, template_folder="templates")


class AnswersForm(FlaskForm):
    """The quiz's answers come as fields named q-<question key>; the form carries the CSRF token."""


def _answers(page: QuizPage) -> dict:
    """The answers in the form, as learning.quizzes takes them."""
    answers: dict[str, object] = {}
    for question in page.questions:
        field = f"q-{question.key}"
        answers[question.key] = (request.form.get(field, "") if question.kind == "numeric"
                                 else request.form.getlist(field))
    return answers


@bp.route("/learning/courses/<int:course_id>/quizzes/<key>", methods=["GET", "POST"])
@login_required
def quiz(course_id: int, key: str):
    course = courses.get_course(current_user, course_id)
    page = quizzes.quiz_for_learner(current_user, course, key)
    form, error, given = AnswersForm(), None, {}
    if request.method == "POST":
        given = _answers(page)
        if not form.validate_on_submit():
            error = _l("The form has expired: load the page again and repeat.")
        else:
            try:
                result = quizzes.submit(current_user, course, key, given)
            except Invalid as refused:
                db.session.rollback()
                error = refused.message
            else:
                db.session.commit()
                return redirect(url_for(".result", course_id=course.id, key=key, number=result.number))
    else:
        progress.open_item(current_user, course, key)  # where the learner resumes
        db.session.commit()
    return render_template("learning/quiz.html", course=course, page=page, form=form, error=error, given=given,
                           steps=progress.outline(course, progress.enrolment_of(current_user, course))), \
        400 if error else 200


@bp.get("/learning/courses/<int:course_id>/quizzes/<key>/attempts/<int:number>")
@login_required
def result(course_id: int, key: str, number: int):
    course = courses.get_course(current_user, course_id)
    outcome = quizzes.attempt_result(current_user, course, key, number)
    return render_template("learning/quiz_result.html", course=course, result=outcome,
                           certificate=certificates.certificate_of(current_user, course),
                           steps=progress.outline(course, progress.enrolment_of(current_user, course)))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
