"""Keeping Q&A useful, for people: the moderators' queue and log, and the forms that close, reopen, mark
duplicates, lock, hide, restore, flag and dismiss. Thin views: each calls one qa.moderation service."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required

from knet.db import db
from knet.errors import Invalid, NotFound
from knet.views import local_path
from qa import listing, moderation, services
from qa.forms import ActionForm, DuplicateForm, ReasonForm

bp = Blueprint("qa_moderation", __name__, template_folder="templates")

#: The kinds of things in addresses (/answers/5/hide) and as the services name them.
KINDS = {"questions": "question", "answers": "answer", "comments": "comment"}
KIND_RULE = "<any(questions, answers, comments):kind>"
LOG_LENGTH = 100


def _submitted(form_class):
    """The form sent with this request; a value the form refuses (too long, not a number) is an Invalid."""
    form = form_class()
    if not form.validate_on_submit():
        field, errors = next(iter(form.errors.items()), ("", [_("The form could not be read.")]))
        raise Invalid(" ".join(str(error) for error in errors), field=field)
    return form


def _target(kind: str, item_id: int) -> str:
    """The service's name for the kind of item, once the id is one a database can hold."""
    if item_id > services.MAX_ID:
        raise NotFound(_l("There is nothing like that to act on."))
    return KINDS[kind]


def _back(form: ActionForm, target_type: str, target_id: int):
    """Back where the form was (the queue names itself in `next`), or to the item on its question's page."""
    if form.next.data:
        return redirect(local_path(form.next.data))
    place = listing.place_of(current_user, target_type, target_id)
    if place.question is None:
        return redirect(url_for("qa.index"))
    return redirect(url_for("qa.question", question_id=place.question.id, _anchor=place.anchor))


@bp.get("/moderation")
@login_required
def queue():
    """Open flags, oldest first, and what moderators did lately."""
    flags = moderation.open_flags(current_user)
    log = moderation.log(current_user, LOG_LENGTH)
    return render_template("qa/moderation.html", flags=flags, log=log,
                           places=listing.places(current_user, [*flags, *log]))


@bp.post("/questions/<int:question_id>/close")
@login_required
def close(question_id: int):
    question = listing.question(current_user, question_id)
    form = _submitted(ReasonForm)
    moderation.close(current_user, question, form.reason.data or "")
    db.session.commit()
    flash(_("The question was closed: it takes no new answers."), "success")
    return _back(form, "question", question.id)


@bp.post("/questions/<int:question_id>/reopen")
@login_required
def reopen(question_id: int):
    question = listing.question(current_user, question_id)
    form = _submitted(ActionForm)
    moderation.reopen(current_user, question)
    db.session.commit()
    flash(_("The question was reopened."), "success")
    return _back(form, "question", question.id)


@bp.post("/questions/<int:question_id>/duplicate")
@login_required
def duplicate(question_id: int):
    question = listing.question(current_user, question_id)
    form = _submitted(DuplicateForm)
    moderation.mark_duplicate(current_user, question, listing.original_for(current_user, form.original.data))
    db.session.commit()
    flash(_("The question was closed as a duplicate; it now leads to the original."), "success")
    return _back(form, "question", question.id)


@bp.post("/questions/<int:question_id>/lock")
@login_required
def lock(question_id: int):
    question = listing.question(current_user, question_id)
    form = _submitted(ReasonForm)
    moderation.lock(current_user, question, form.reason.data or "")
    db.session.commit()
    flash(_("The question was locked: no answers, comments, votes or edits until it is unlocked."), "success")
    return _back(form, "question", question.id)


@bp.post("/questions/<int:question_id>/unlock")
@login_required
def unlock(question_id: int):
    question = listing.question(current_user, question_id)
    form = _submitted(ActionForm)
    moderation.unlock(current_user, question)
    db.session.commit()
    flash(_("The question was unlocked."), "success")
    return _back(form, "question", question.id)


@bp.post(f"/{KIND_RULE}/<int:item_id>/hide")
@login_required
def hide(kind: str, item_id: int):
    target_type = _target(kind, item_id)
    form = _submitted(ReasonForm)
    moderation.hide(current_user, target_type, item_id, form.reason.data or "")
    db.session.commit()
    flash(_("It was hidden: only moderators and its author see it now."), "success")
    return _back(form, target_type, item_id)


@bp.post(f"/{KIND_RULE}/<int:item_id>/restore")
@login_required
def restore(kind: str, item_id: int):
    target_type = _target(kind, item_id)
    form = _submitted(ActionForm)
    moderation.restore(current_user, target_type, item_id)
    db.session.commit()
    flash(_("It was restored: everyone who may read the question sees it again."), "success")
    return _back(form, target_type, item_id)


@bp.post(f"/{KIND_RULE}/<int:item_id>/flag")
@login_required
def flag(kind: str, item_id: int):
    target_type = _target(kind, item_id)
    form = _submitted(ReasonForm)
    moderation.flag(current_user, target_type, item_id, form.reason.data or "")
    db.session.commit()
    flash(_("Thank you: the moderators will look at it."), "success")
    return _back(form, target_type, item_id)


@bp.post("/moderation/flags/<int:flag_id>/dismiss")
@login_required
def dismiss(flag_id: int):
    form = _submitted(ActionForm)
    moderation.dismiss(current_user, listing.flag(flag_id))
    db.session.commit()
    flash(_("The flag was dismissed."), "success")
    return redirect(local_path(form.next.data or url_for("qa_moderation.queue")))
