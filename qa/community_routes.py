"""Community pages: thin views that parse input, call one service and render."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required

from auth.access import require_role
from auth.models import User
from knet.api import add_openapi, register_api
from knet.config import MAX_PAGE_NUMBER
from knet.content import attached_to, register as register_content_type
from knet.db import db
from knet.errors import KnetError, NotFound
from knet.search.views import link_of
from knet.views import add_nav_link
from qa import communities, community_api, community_content, community_openapi
from qa.communities import Activity, Community
from qa.community_forms import CommunityForm
from qa.services import question_uri

bp = Blueprint("communities", __name__, template_folder="templates")

SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 270, 48, 4
VISIBILITY_LABELS = {"internal": _l("Internal"), "network": _l("Network"), "public": _l("Public")}
ROLE_LABELS = {"member": _l("Member"), "moderator": _l("Moderator")}


def _actor() -> User | None:
    return current_user if current_user.is_authenticated else None


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE_NUMBER)


@bp.before_request
def follow_rename():
    """An address a community had before a rename leads, for good, to the same page at its new one (with
    the same query); a form sent to the old address is sent on as it is (308)."""
    slug = (request.view_args or {}).get("slug")
    community = communities.renamed(_actor(), slug) if slug is not None else None
    if community is None:
        return None
    query = request.query_string.decode("utf-8", "replace")  # redirect() writes it back as UTF-8
    location = url_for(request.endpoint, **{**request.view_args, "slug": community.slug})
    return redirect(location + (f"?{query}" if query else ""), 301 if request.method in ("GET", "HEAD") else 308)


@bp.get("/communities")
def index():
    page, per_page = _page_number(), current_app.config["KNET"]["page_size"]
    listed, total = communities.list_communities(_actor(), page, per_page)
    return render_template("qa/communities/index.html", listed=listed, total=total, page=page, per_page=per_page,
                           visibility_labels=VISIBILITY_LABELS, role_labels=ROLE_LABELS)


@bp.route("/communities/new", methods=["GET", "POST"])
@login_required
def create():
    require_role(current_user, "moderator")
    form = CommunityForm()
    if form.validate_on_submit():
        try:
            community = communities.create_community(current_user, form.name.data or "", form.description.data or "",
                                                     form.visibility.data)
        except KnetError as exc:
            db.session.rollback()
            return _refused(form, exc, community=None)
        db.session.commit()
        flash(_("The community was created. You are its moderator."), "success")
        return redirect(url_for("communities.view", slug=community.slug))
    return _form_page(form, None), 400 if form.errors else 200


@bp.get("/communities/<int:community_id>")
def permanent(community_id: int):
    """A community's URI, which leads to its current readable address."""
    community = communities.get_community_by_id(_actor(), community_id)
    return redirect(url_for("communities.view", slug=community.slug))


@bp.get("/communities/<slug>")
def view(slug: str):
    return _community_page(communities.get_community(_actor(), slug))


@bp.route("/communities/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    community = communities.get_community(current_user, slug)
    communities.require_manager(current_user, community)
    form = CommunityForm(obj=community)
    if form.validate_on_submit():
        try:
            communities.update_community(current_user, community, form.name.data or "", form.description.data or "",
                                         form.visibility.data)
        except KnetError as exc:
            db.session.rollback()
            return _refused(form, exc, community=db.session.get(Community, community.id))
        db.session.commit()
        flash(_("The community was saved."), "success")
        return redirect(url_for("communities.view", slug=community.slug))
    return _form_page(form, community), 400 if form.errors else 200


@bp.post("/communities/<int:community_id>/join")
@login_required
def join(community_id: int):
    return _act(community_id, lambda c: communities.join(current_user, c),
                lambda c: _("You joined “%(name)s”; you will hear about its new questions.", name=c.name))


@bp.post("/communities/<int:community_id>/leave")
@login_required
def leave(community_id: int):
    return _act(community_id, lambda c: communities.leave(current_user, c),
                lambda c: _("You left “%(name)s”.", name=c.name))


@bp.post("/communities/<int:community_id>/follow")
@login_required
def follow(community_id: int):
    return _act(community_id, lambda c: communities.follow(current_user, c, True),
                lambda c: _("You follow “%(name)s”: you will hear about its new questions.", name=c.name))


@bp.post("/communities/<int:community_id>/unfollow")
@login_required
def unfollow(community_id: int):
    return _act(community_id, lambda c: communities.follow(current_user, c, False),
                lambda c: _("You no longer follow “%(name)s”; you are still a member.", name=c.name))


@bp.post("/communities/<int:community_id>/members/<username>/role")
@login_required
def set_role(community_id: int, username: str):
    member = User.by_username(username)
    if member is None:
        raise NotFound(_("There is no such person."))
    role = request.form.get("role", "")
    if role == "moderator":
        def done(c: Community) -> str:
            return _("%(person)s is now a moderator of “%(name)s”.", person=member.name, name=c.name)
    else:
        def done(c: Community) -> str:
            return _("%(person)s is now a member of “%(name)s”.", person=member.name, name=c.name)
    return _act(community_id, lambda c: communities.set_role(current_user, c, member, role), done)


def _act(community_id: int, action: Callable[[Community], object], done: Callable[[Community], str]):
    """Run one membership action from a form (its CSRF token is checked for the whole app): on success,
    back to the community; on refusal, its page again with the reason, under the refusal's status."""
    community = communities.get_community_by_id(current_user, community_id)
    try:
        action(community)
    except KnetError as exc:
        db.session.rollback()
        return _community_page(db.session.get(Community, community_id), refusal=exc.message), exc.status
    db.session.commit()
    flash(done(community), "success")
    return redirect(url_for("communities.view", slug=community.slug))


def _community_page(community: Community, refusal: str | None = None):
    actor = _actor()
    activity = communities.activity(community, actor=actor)
    return render_template(
        "qa/communities/page.html", community=community, summary=communities.summary(actor, community),
        uri=communities.community_uri(community.id), latest=communities.latest_questions(actor, community),
        unanswered=communities.unanswered_questions(actor, community),
        pages=communities.key_pages(actor, community), link_of=link_of,
        attached=attached_to(actor, communities.community_uri(community.id)),
        members=communities.members(community) if actor else [], may_manage=communities.may_manage(actor, community),
        activity=activity, spark=sparkline(activity), activity_text=activity_text(activity),
        question_path=question_path, refusal=refusal,
        visibility_labels=VISIBILITY_LABELS, role_labels=ROLE_LABELS)


def _refused(form: CommunityForm, exc: KnetError, community: Community | None):
    """Show the form again with what was typed and why it was not saved."""
    field = getattr(form, str(exc.extra.get("field", "")), None) or form.name
    field.errors = [*field.errors, exc.message]
    return _form_page(form, community, existing=exc.extra.get("url")), exc.status


def _form_page(form: CommunityForm, community: Community | None, existing: str | None = None) -> str:
    return render_template("qa/communities/edit.html", form=form, community=community, existing=existing)


def question_path(question_id: int) -> str:
    """A question's address on this node: its URI without the node's part."""
    uri, base = question_uri(question_id), current_app.config["KNET"]["url"].rstrip("/")
    return uri[len(base):] if uri.startswith(base + "/") else uri


def sparkline(activity: Activity) -> dict:
    """The geometry of the activity line: one point per day, the tallest day at the top."""
    days = activity.days
    peak = max((day.count for day in days), default=0) or 1
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(len(days) - 1, 1)
    usable = SPARK_HEIGHT - 2 * SPARK_PAD

    def y(count: int) -> float:
        return round(SPARK_HEIGHT - SPARK_PAD - usable * count / peak, 1)

    points = " ".join(f"{round(SPARK_PAD + n * step, 1)},{y(day.count)}" for n, day in enumerate(days))
    busiest = activity.busiest
    marker = None
    if busiest is not None:
        index = days.index(busiest)
        marker = {"x": round(SPARK_PAD + index * step, 1), "y": y(busiest.count)}
    return {"width": SPARK_WIDTH, "height": SPARK_HEIGHT, "points": points, "marker": marker,
            "baseline": SPARK_HEIGHT - SPARK_PAD}


def activity_text(activity: Activity) -> str:
    """The activity line in words, for people who cannot see it."""
    days = len(activity.days)
    if not activity.total:
        return ngettext("No questions or answers in the last %(num)d day.",
                        "No questions or answers in the last %(num)d days.", days)
    busiest = activity.busiest
    return ngettext("%(num)d question or answer in the last %(days)d days; busiest day %(day)s (%(count)d).",
                    "%(num)d questions and answers in the last %(days)d days; busiest day %(day)s (%(count)d).",
                    activity.total, days=days, day=format_date(busiest.day, "d MMMM"), count=busiest.count)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav_link(app, "communities.index", _l("Communities"))
    register_content_type(app, community_content.CONTENT_TYPE)
    register_api(app, community_api.bp)
    add_openapi(app, community_openapi.PATHS, community_openapi.SCHEMAS)
