"""Wiki pages for people: thin views that parse input, call one service and render."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auth.access import require_role
from knet.db import db
from knet.render_cache import cached_view
from knet.errors import Conflict, Invalid, KnetError, TooLarge
from wiki import forks, services
from knet.diff import diff_lines, has_changes
from wiki.forms import ActionForm, PageForm, RenameForm, RevisionForm
from wiki.services import EditConflict, PageInput

bp = Blueprint("wiki", __name__, template_folder="templates")


def _actor():
    return current_user if current_user.is_authenticated else None


def _limit() -> int:
    return current_app.config["KNET"]["max_body_bytes"]


def _page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _input(form: PageForm) -> PageInput:
    return PageInput(title=form.title.data or "", body=form.body.data or "", language=form.language.data,
                     tags=form.tag_list(), visibility=form.visibility.data, licence=form.licence.data,
                     summary=form.summary.data or "", network_editors=bool(form.network_editors.data))


@bp.get("/pages/")
def index():
    per_page = current_app.config["KNET"]["page_size"]
    pages, total = services.list_pages(_actor(), _page_number(), per_page)
    return render_template("wiki/index.html", pages=pages, total=total, page=_page_number(), per_page=per_page)


@bp.route("/pages/new", methods=["GET", "POST"])
@login_required
def create():
    require_role(current_user, "editor")
    form = PageForm(title=request.args.get("title", ""), language=current_app.config["KNET"]["default_language"])
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = services.preview(form.body.data or "")
        else:
            try:
                page = services.create_page(current_user, _input(form), _limit())
            except (Invalid, Conflict, TooLarge) as exc:
                db.session.rollback()
                return _refused(form, exc, page=None)
            db.session.commit()
            flash(_("The page was created."), "success")
            return redirect(url_for("wiki.view", slug=page.slug))
    return render_template("wiki/edit.html", form=form, page=None, preview=preview), 400 if form.errors else 200


def _refused(form: PageForm, exc: KnetError, page):
    """Show the form again with the person's text and the reason it was not saved."""
    field = getattr(form, str(exc.extra.get("field", "")), None) or form.title
    field.errors = [*field.errors, exc.message]
    existing = exc.extra.get("url") if isinstance(exc, Conflict) else None
    return render_template("wiki/edit.html", form=form, page=page, preview=None, existing_url=existing), exc.status


@bp.get("/pages/<int:page_id>")
def permanent(page_id: int):
    """A page's permanent address (its URI), which leads to its current one."""
    return redirect(url_for("wiki.view", slug=services.slug_of(_actor(), page_id)))


@bp.get("/wiki/<slug>")
def view(slug: str):
    return cached_view(lambda: _render_view(slug))


def _render_view(slug: str):
    page, redirected_from = services.get_page(slug, _actor(), include_deleted=True)
    if redirected_from:
        flash(_("You were redirected from “%(old)s”, the page's former address.", old=redirected_from), "info")
        return redirect(url_for("wiki.view", slug=page.slug), 301)
    action_form = ActionForm() if current_user.is_authenticated else None
    return render_template("wiki/page.html", page=page, revision=page.current, action_form=action_form,
                           source=forks.source_of(page))


@bp.route("/wiki/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    page, _redirected = services.get_page(slug, current_user)
    services.check_may_edit(current_user, page)
    current = page.current
    form = PageForm(title=page.title, body=current.body, language=page.language, visibility=page.visibility,
                    licence=page.licence, network_editors=page.network_editors, tags=", ".join(page.tag_names),
                    base_revision=page.revision)
    preview = conflict = None
    status = 200
    if form.validate_on_submit():
        base = request.form.get("base_revision", type=int) or 0
        if form.preview.data:
            preview = services.preview(form.body.data or "")
        else:
            try:
                services.update_page(current_user, page, _input(form), base, _limit())
            except EditConflict as exc:
                db.session.rollback()
                conflict = _conflict(page, exc.base_revision)
                form.base_revision.data = page.revision
                status = 409
            except (Invalid, Conflict, TooLarge) as exc:
                db.session.rollback()
                return _refused(form, exc, page=page)
            else:
                db.session.commit()
                flash(_("Your changes were saved."), "success")
                return redirect(url_for("wiki.view", slug=page.slug))
    elif form.errors:
        status = 400
    return render_template("wiki/edit.html", form=form, page=page, preview=preview, conflict=conflict), status


def _conflict(page, base_revision: int) -> dict:
    base = services.get_revision(page, base_revision) if base_revision >= 1 else None
    lines = diff_lines(base.body if base else "", page.current.body)
    return {"base": base, "current": page.current, "lines": lines}


@bp.post("/pages/fork")
@login_required
def fork():
    """Fork another node's page (by the URI of this node's copy of it) into a page of this node."""
    page = forks.fork(current_user, request.form.get("uri", "")[:500])
    db.session.commit()
    flash(_("The page was forked into this node. It is internal until you choose otherwise; its source is "
            "named on it, as its licence asks."), "success")
    return redirect(url_for("wiki.view", slug=page.slug))


@bp.get("/wiki/<slug>/source-changes")
def source_changes(slug: str):
    """A fork's text against its source's text now (what changed at the source, or here, since the fork)."""
    page, _redirected = services.get_page(slug, _actor())
    source = forks.source_of(page)
    if source is None:
        abort(404)
    lines = diff_lines(page.current.body, forks.markdown_of(source.document))
    return render_template("wiki/source_changes.html", page=page, source=source, lines=lines,
                           changed=has_changes(lines))


@bp.get("/wiki/<slug>/history")
def history(slug: str):
    page, _redirected = services.get_page(slug, _actor())
    return render_template("wiki/history.html", page=page, revisions=list(reversed(page.revisions)),
                           revert_form=RevisionForm())


@bp.get("/wiki/<slug>/revisions/<int:number>")
def revision(slug: str, number: int):
    page, _redirected = services.get_page(slug, _actor())
    return render_template("wiki/page.html", page=page, revision=services.get_revision(page, number),
                           action_form=ActionForm())


@bp.get("/wiki/<slug>/diff")
def diff(slug: str):
    page, _redirected = services.get_page(slug, _actor())
    new_number = request.args.get("to", page.revision, type=int)
    old_number = request.args.get("from", max(new_number - 1, 1), type=int)
    old, new = services.get_revision(page, old_number), services.get_revision(page, new_number)
    lines = diff_lines(old.body, new.body)
    return render_template("wiki/diff.html", page=page, old=old, new=new, lines=lines, changed=has_changes(lines),
                           title_changed=old.title != new.title)


@bp.post("/wiki/<slug>/revert")
@login_required
def revert(slug: str):
    page, _redirected = services.get_page(slug, current_user)
    form = RevisionForm()
    if not form.validate_on_submit():
        abort(400)
    services.revert_page(current_user, page, form.revision.data)
    db.session.commit()
    flash(_("The page was reverted to revision %(number)d.", number=form.revision.data), "success")
    return redirect(url_for("wiki.view", slug=page.slug))


@bp.route("/wiki/<slug>/rename", methods=["GET", "POST"])
@login_required
def rename(slug: str):
    page, _redirected = services.get_page(slug, current_user)
    services.check_may_edit(current_user, page)
    form = RenameForm(title=page.title)
    if form.validate_on_submit():
        services.rename_page(current_user, page, form.title.data, form.summary.data or "")
        db.session.commit()
        flash(_("The page was renamed; its old address now leads here."), "success")
        return redirect(url_for("wiki.view", slug=page.slug))
    return render_template("wiki/rename.html", page=page, form=form), 400 if form.errors else 200


@bp.post("/wiki/<slug>/delete")
@login_required
def delete(slug: str):
    page, _redirected = services.get_page(slug, current_user)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.delete_page(current_user, page)
    db.session.commit()
    flash(_("The page “%(title)s” was deleted. A moderator can restore it.", title=page.title), "success")
    return redirect(url_for("wiki.index"))


@bp.post("/wiki/<slug>/restore")
@login_required
def restore(slug: str):
    page, _redirected = services.get_page(slug, current_user, include_deleted=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.restore_page(current_user, page)
    db.session.commit()
    flash(_("The page was restored."), "success")
    return redirect(url_for("wiki.view", slug=page.slug))


@bp.get("/pages/deleted")
@login_required
def deleted():
    return render_template("wiki/deleted.html", pages=services.deleted_pages(current_user), action_form=ActionForm())


@bp.get("/wiki/<slug>/links-here")
def links_here(slug: str):
    page, _redirected = services.get_page(slug, _actor())
    return render_template("wiki/links_here.html", page=page, pages=services.backlinks(page, _actor()))


@bp.get("/pages/recent")
def recent():
    per_page = current_app.config["KNET"]["page_size"]
    tag = request.args.get("tag") or None
    language = request.args.get("language") or None
    revisions, total = services.recent_changes(_actor(), _page_number(), per_page, tag=tag, language=language)
    return render_template("wiki/recent.html", revisions=revisions, total=total, page=_page_number(),
                           per_page=per_page, tag=tag, language=language, tags=services.all_tags(_actor()))
