"""Questions and answers for people: thin views that parse input, call one service, commit, and render or redirect.

Failures the services raise (knet.errors) become a page with their status and sentence; a form that
was refused is shown again with the person's text and the reason next to the field.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required

from knet.config import LANGUAGES, MAX_PAGE_NUMBER
from knet.db import db
from knet.diff import diff_lines, has_changes
from knet.errors import Invalid, KnetError, TooLarge
from knet.search.views import link_of
from knet.views import add_nav_link
from qa import listing, moderation_routes, services
from qa import tags as qa_tags
from qa.forms import AnswerEditForm, AnswerForm, CommentForm, QuestionForm, TagFollowForm, VoteForm
from qa.models import Answer, Question
from qa.services import QuestionInput

bp = Blueprint("qa", __name__, template_folder="templates")

MAX_QUERY_CHARS = 200
VOTED = {1: _l("Your vote up was counted."), -1: _l("Your vote down was counted."),
         0: _l("Your vote was taken back.")}


def _actor():
    return current_user if current_user.is_authenticated else None


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE_NUMBER)


def _back(question_id: int, anchor: str | None = None):
    return redirect(url_for("qa.question", question_id=question_id, _anchor=anchor))


def _no_store(response):
    """JSON for the page's own script: it depends on who asks and changes with every edit."""
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Cookie")
    return response


# Lists -------------------------------------------------------------------------------------------

@bp.get("/questions")
def index():
    tab = request.args.get("tab", "newest")
    tab = tab if tab in listing.TABS else "newest"
    if tab == "mine" and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    sort = request.args.get("sort")
    language = request.args.get("language")
    wanted = listing.ListQuery(tab=tab, sort=sort if sort in listing.SORTS else None,
                               tag=request.args.get("tag", "").strip()[:MAX_QUERY_CHARS] or None,
                               community_id=request.args.get("community", type=int),
                               language=language if language in LANGUAGES else None)
    page, per_page = _page_number(), current_app.config["KNET"]["page_size"]
    questions, total = listing.list_questions(_actor(), wanted, page, per_page)
    following = bool(wanted.tag and current_user.is_authenticated
                     and qa_tags.is_following(current_user, qa_tags.find(wanted.tag)))
    return render_template("qa/index.html", questions=questions, total=total, wanted=wanted, page=page,
                           per_page=per_page, communities=listing.communities(_actor()), following=following,
                           followed=qa_tags.followed_tags(current_user) if current_user.is_authenticated else [])


@bp.get("/questions/tags/suggestions")
def tag_suggestions():
    """Tags in use, for the ask form's tag box (search-suggest.js in list mode)."""
    query = request.args.get("q", "").strip()[:MAX_QUERY_CHARS]
    found = listing.tag_suggestions(_actor(), query, request.args.get("limit", 10, type=int) or 10)
    return _no_store(jsonify({"query": query, "results": [
        {"title": tag.name, "detail": ngettext("%(num)d question", "%(num)d questions", count),
         "link": url_for("qa.index", tag=tag.name)} for tag, count in found]}))


@bp.get("/questions/similar")
def similar():
    """Questions already asked like the title being typed, for the ask form (search-suggest.js)."""
    query = request.args.get("q", "")[:MAX_QUERY_CHARS]
    hits = listing.similar_questions(_actor(), query)
    return _no_store(jsonify({"query": query, "results": [
        {"title": hit.title, "link": link_of(hit), "type": "question", "language": hit.language} for hit in hits]}))


@bp.post("/questions/tags/follow")
@login_required
def follow_tag():
    """Follow the tag of the list the person is reading, to hear of its new questions."""
    name = _follow_tag(True)
    flash(_("You follow the tag “%(tag)s”: you will be told of each new question in it.", tag=name), "success")
    return redirect(url_for("qa.index", tag=name))


@bp.post("/questions/tags/unfollow")
@login_required
def unfollow_tag():
    name = _follow_tag(False)
    flash(_("You no longer follow the tag “%(tag)s”.", tag=name), "success")
    return redirect(url_for("qa.index", tag=name))


def _follow_tag(following: bool) -> str:
    """Follow or stop following the tag named in the form; its name as the tag spells it."""
    form = TagFollowForm()
    if not form.validate_on_submit():
        raise Invalid(_l("Say which tag to follow."), field="tag")
    tag = qa_tags.named(form.tag.data) if following else qa_tags.find(form.tag.data)
    if tag is None:  # stopping to follow a tag that does not exist: nothing to do
        return form.tag.data
    qa_tags.follow(current_user, tag, following)
    db.session.commit()
    return tag.name


# Asking and editing ------------------------------------------------------------------------------

def _question_form(**defaults) -> QuestionForm:
    form = QuestionForm(**defaults)
    form.community.choices = [("", _("No community"))] + [
        (str(community.id), community.name) for community in listing.communities(current_user)]
    return form


def _question_input(form: QuestionForm) -> QuestionInput:
    return QuestionInput(title=form.title.data or "", body=form.body.data or "", tags=form.tag_list(),
                         language=form.language.data, visibility=form.visibility.data,
                         community_id=form.community_id(), summary=form.summary.data or "")


def _refused(template: str, form, exc: KnetError, **context):
    """Show the form again with the person's text and the reason it was not saved."""
    db.session.rollback()
    field = getattr(form, str(exc.extra.get("field", "")), None) or form.body
    field.errors = [*field.errors, exc.message]
    return render_template(template, form=form, **context), exc.status


@bp.route("/questions/ask", methods=["GET", "POST"])
@login_required
def ask():
    # A visitor from a peer asks their colleagues of every municipality, not this node's staff alone.
    form = _question_form(title=request.args.get("title", "")[:services.MAX_TITLE],
                          community=request.args.get("community", ""),
                          language=current_app.config["KNET"]["default_language"],
                          **({"visibility": "network"} if current_user.is_visitor else {}))
    if form.validate_on_submit():
        try:
            question = services.ask(current_user, _question_input(form))
        except (Invalid, TooLarge) as exc:
            return _refused("qa/question_form.html", form, exc, question=None)
        db.session.commit()
        flash(_("Your question was posted."), "success")
        return _back(question.id)
    return render_template("qa/question_form.html", form=form, question=None), 400 if form.errors else 200


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(question_id: int):
    question = listing.question(current_user, question_id)
    services.check_may_edit(current_user, question.author_id, question)
    form = _question_form(title=question.title, body=question.body, tags=", ".join(question.tag_names),
                          language=question.language, visibility=question.visibility,
                          community=str(question.community_id or ""))
    if form.validate_on_submit():
        try:
            services.edit_question(current_user, question, _question_input(form))
        except (Invalid, TooLarge) as exc:
            return _refused("qa/question_form.html", form, exc, question=question)
        db.session.commit()
        flash(_("Your changes to the question were saved."), "success")
        return _back(question.id)
    return render_template("qa/question_form.html", form=form, question=question), 400 if form.errors else 200


@bp.route("/answers/<int:answer_id>/edit", methods=["GET", "POST"])
@login_required
def edit_answer(answer_id: int):
    reply = listing.answer(current_user, answer_id)
    services.check_may_edit(current_user, reply.author_id, reply.question)
    form = AnswerEditForm(body=reply.body)
    if form.validate_on_submit():
        try:
            services.edit_answer(current_user, reply, form.body.data or "", form.summary.data or "")
        except (Invalid, TooLarge) as exc:
            return _refused("qa/answer_form.html", form, exc, reply=reply)
        db.session.commit()
        flash(_("Your changes to the answer were saved."), "success")
        return _back(reply.question_id, f"answer-{reply.id}")
    return render_template("qa/answer_form.html", form=form, reply=reply), 400 if form.errors else 200


# Reading -----------------------------------------------------------------------------------------

def _question_page(question: Question, answer_form: AnswerForm | None = None, status: int = 200):
    shown = listing.question_page(_actor(), question)
    return render_template("qa/question.html", shown=shown, question=question,
                           answer_form=answer_form or AnswerForm(), moderator=services.is_moderator(_actor())), status


@bp.get("/questions/<int:question_id>")
def question(question_id: int):
    """A question's page, which is also its URI."""
    return _question_page(listing.question(_actor(), question_id))


@bp.get("/answers/<int:answer_id>")
def answer(answer_id: int):
    """An answer's URI leads to its place on its question's page."""
    reply = listing.answer(_actor(), answer_id)
    return _back(reply.question_id, f"answer-{reply.id}")


def _history(revisions, question: Question, reply: Answer | None = None):
    compared = None
    if revisions and ("from" in request.args or "to" in request.args):
        new_number = request.args.get("to", revisions[0].number, type=int)
        old_number = request.args.get("from", max(new_number - 1, 1), type=int)
        old, new = listing.compare(revisions, old_number, new_number)
        lines = diff_lines(old.body, new.body)
        compared = {"old": old, "new": new, "lines": lines, "changed": has_changes(lines),
                    "title_changed": reply is None and old.title != new.title}
    return render_template("qa/history.html", revisions=revisions, question=question, reply=reply,
                           compared=compared)


@bp.get("/questions/<int:question_id>/history")
def question_history(question_id: int):
    question = listing.question(_actor(), question_id)
    return _history(services.revisions(question=question), question)


@bp.get("/answers/<int:answer_id>/history")
def answer_history(answer_id: int):
    reply = listing.answer(_actor(), answer_id)
    return _history(services.revisions(answer=reply), reply.question, reply)


# Taking part -------------------------------------------------------------------------------------

@bp.post("/questions/<int:question_id>/answers")
@login_required
def post_answer(question_id: int):
    question = listing.question(current_user, question_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _question_page(question, form, 400)
    try:
        reply = services.answer(current_user, question, form.body.data or "")
    except (Invalid, TooLarge) as exc:
        db.session.rollback()
        form.body.errors = [*form.body.errors, exc.message]
        return _question_page(question, form, exc.status)
    db.session.commit()
    flash(_("Your answer was posted."), "success")
    return _back(question.id, f"answer-{reply.id}")


def _vote_value() -> int:
    form = VoteForm()
    if not form.validate_on_submit():
        raise Invalid(_l("A vote is 1 (up), -1 (down) or 0 (take my vote back)."), field="value")
    return form.value.data


@bp.post("/questions/<int:question_id>/vote")
@login_required
def vote_question(question_id: int):
    question = listing.question(current_user, question_id)
    value = _vote_value()
    services.vote(current_user, value, question=question)
    db.session.commit()
    flash(VOTED[value], "success")
    return _back(question.id, "question")


@bp.post("/answers/<int:answer_id>/vote")
@login_required
def vote_answer(answer_id: int):
    reply = listing.answer(current_user, answer_id)
    value = _vote_value()
    services.vote(current_user, value, answer=reply)
    db.session.commit()
    flash(VOTED[value], "success")
    return _back(reply.question_id, f"answer-{reply.id}")


@bp.post("/answers/<int:answer_id>/accept")
@login_required
def accept(answer_id: int):
    reply = listing.answer(current_user, answer_id)
    services.accept(current_user, reply)
    db.session.commit()
    flash(_("The answer was marked as the accepted one."), "success")
    return _back(reply.question_id, f"answer-{reply.id}")


@bp.post("/questions/<int:question_id>/unaccept")
@login_required
def unaccept(question_id: int):
    question = listing.question(current_user, question_id)
    services.unaccept(current_user, question)
    db.session.commit()
    flash(_("No answer is marked as accepted any more."), "success")
    return _back(question.id, "answers")


def _comment_text() -> str:
    form = CommentForm()
    if not form.validate_on_submit():
        raise Invalid(_l("The comment is empty or longer than %(max)d characters.", max=services.MAX_COMMENT),
                      field="body")
    return form.body.data


@bp.post("/questions/<int:question_id>/comments")
@login_required
def comment_question(question_id: int):
    question = listing.question(current_user, question_id)
    remark = services.comment(current_user, _comment_text(), question=question)
    db.session.commit()
    flash(_("Your comment was added."), "success")
    return _back(question.id, f"comment-{remark.id}")


@bp.post("/answers/<int:answer_id>/comments")
@login_required
def comment_answer(answer_id: int):
    reply = listing.answer(current_user, answer_id)
    remark = services.comment(current_user, _comment_text(), answer=reply)
    db.session.commit()
    flash(_("Your comment was added."), "success")
    return _back(reply.question_id, f"comment-{remark.id}")


def init_app(app: Flask) -> None:
    """Register the Q&A pages, the moderators' pages and the "Questions" link of the main navigation."""
    app.register_blueprint(bp)
    app.register_blueprint(moderation_routes.bp)
    add_nav_link(app, "qa.index", _l("Questions"))
    add_nav_link(app, "qa_moderation.queue", _l("Moderation"), role="moderator")
