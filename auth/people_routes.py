"""Profiles and the people and skills directory: thin views that parse input, call a service and render."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from itertools import groupby

from flask import (Blueprint, Flask, current_app, flash, jsonify, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from auth import content, people, people_api, people_openapi, photos
from auth.access import ROLE_NAMES
from auth.models import User
from auth.people import ProfileInput
from auth.people_forms import VISIBILITY_HINTS, ProfileForm
from knet.api import add_openapi, register_api
from knet.config import MAX_PAGE_NUMBER
from knet.content import register as register_content_type
from knet.db import db
from knet.errors import Invalid
from knet.views import add_nav_link

bp = Blueprint("people", __name__, template_folder="templates")

PROFILE_PANELS = "auth.profile_panels"
#: Renders a feature's section of a profile: panel(person, viewer) -> HTML.
ProfilePanel = Callable[[User, User], Markup]

MAX_QUERY_CHARS = 200
#: How long a browser keeps a photo fetched by its versioned address (?v=…): a new photo has a new address.
PHOTO_MAX_AGE = 30 * 24 * 3600


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE_NUMBER)


@bp.get("/people")
@login_required
def directory():
    query = request.args.get("q", "").strip()[:MAX_QUERY_CHARS]
    skill_name = request.args.get("skill", "").strip()[:MAX_QUERY_CHARS]
    page, per_page = _page_number(), current_app.config["KNET"]["page_size"]
    found = skill = None
    snippets: dict[int, str] = {}
    activity: dict[tuple[int, str], list[str]] = {}
    if query:
        found = people.who_knows(current_user, query, page, per_page)
        listed, total = [hit.person for hit in found.people], found.total
        snippets = {hit.person.id: hit.snippet for hit in found.people}
    elif skill_name:
        skill = people.find_skill(skill_name)
        listed, total = people.people_with_skill(skill, page, per_page, current_user) if skill else ([], 0)
        activity = people.skill_activity(current_user, listed, [skill.key]) if skill else {}
    else:
        listed, total = people.list_people(page, per_page)
    return render_template(
        "people/directory.html", query=query, skill_name=skill_name, chosen=skill, listed=listed, total=total,
        snippets=snippets, activity=activity, suggestion=found.suggestion if found else None, page=page,
        per_page=per_page, photo_versions=people.photo_versions(listed), tree=people.department_tree(),
        skills=people.skill_counts())


@bp.get("/people/<username>")
@login_required
def profile(username: str):
    person = people.get_person(current_user, username)
    panels = [panel(person, current_user) for panel in current_app.extensions.get(PROFILE_PANELS, [])]
    activity = people.skill_activity(current_user, [person], [skill.key for skill in person.skills])
    return render_template("people/profile.html", person=person, role_labels=ROLE_NAMES,
                           language_name=content.language_name, can_edit=people.can_edit_profile(current_user, person),
                           photo_version=people.photo_versions([person]).get(person.id), panels=panels,
                           activity=activity)


def add_profile_panel(app: Flask, panel: ProfilePanel) -> None:
    """Let a feature show a person's work on their profile (their questions and answers, their courses…)."""
    app.extensions.setdefault(PROFILE_PANELS, []).append(panel)


def _defaults(person) -> dict:
    return {"skills": ", ".join(skill.name for skill in person.skills), "about": person.about,
            "languages": person.languages.split(), "visibility": person.profile_visibility}


@bp.route("/people/<username>/edit", methods=["GET", "POST"])
@login_required
def edit(username: str):
    person = people.get_person(current_user, username)
    people.require_profile_editor(current_user, person)
    form = ProfileForm(**(_defaults(person) if request.method == "GET" else {}))
    if form.validate_on_submit():
        try:
            _save(form, person)
        except Invalid as exc:
            db.session.rollback()
            field = getattr(form, str(exc.extra.get("field", "")), None) or form.skills
            field.errors = [*field.errors, exc.message]
        else:
            db.session.commit()
            flash(_("The profile was saved."), "success")
            return redirect(url_for("people.profile", username=person.username))
    return _edit_page(form, person), 400 if form.errors else 200


def _save(form: ProfileForm, person) -> None:
    people.update_profile(current_user, person, ProfileInput(
        about=form.about.data or "", languages=form.languages.data or [], skills=form.skill_list(),
        visibility=form.visibility.data))
    if form.photo.data:
        # One byte past the limit is enough to know the upload is too large.
        people.set_photo(current_user, person, form.photo.data.stream.read(photos.MAX_BYTES + 1))
    elif form.remove_photo.data:
        people.remove_photo(current_user, person)


def _edit_page(form: ProfileForm, person) -> str:
    return render_template("people/edit.html", form=form, person=person, visibility_hints=VISIBILITY_HINTS,
                           photo_version=people.photo_versions([person]).get(person.id),
                           max_photo_mib=photos.MAX_BYTES // (1024 * 1024), max_side=photos.MAX_SIDE)


@bp.get("/people/<username>/photo")
@login_required
def photo(username: str):
    stored = people.get_photo(current_user, username)
    response = make_response(stored.data)
    response.mimetype = stored.content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.set_etag(hashlib.sha256(stored.data).hexdigest()[:32])
    response.last_modified = stored.updated_at
    response.cache_control.private = True
    if request.args.get("v") == str(people.photo_version(stored)):
        response.cache_control.max_age = PHOTO_MAX_AGE
    else:
        response.cache_control.no_cache = True
    response.vary.add("Cookie")
    return response.make_conditional(request)


@bp.get("/people/skills/suggestions")
@login_required
def skill_suggestions():
    """Skills people already have, for the profile form's autocompletion (see search-suggest.js)."""
    query = request.args.get("q", "").strip()[:people.MAX_SKILL_LENGTH]
    limit = request.args.get("limit", 10, type=int) or 10
    found = people.skill_suggestions(query, limit)
    response = jsonify({"query": query, "results": [
        {"title": skill.name, "people": count, "detail": ngettext("%(num)d person", "%(num)d people", count),
         "link": url_for("people.directory", skill=skill.name)} for skill, count in found]})
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Cookie")
    return response


@bp.get("/departments/<int:department_id>")
@login_required
def department(department_id: int):
    unit = people.get_department(department_id)
    include_sub_units = request.args.get("only") != "direct"
    members = people.department_people(unit, include_sub_units)
    groups = [(unit_of, list(grouped)) for unit_of, grouped in groupby(members, key=lambda person: person.department)]
    return render_template("people/department.html", unit=unit, node=people.department_node(unit), groups=groups,
                           include_sub_units=include_sub_units, photo_versions=people.photo_versions(members))


def init_app(app: Flask) -> None:
    """Register the profile and directory pages, their API and the `person` search type."""
    app.register_blueprint(bp)
    register_api(app, people_api.bp)
    add_openapi(app, people_openapi.PATHS, people_openapi.SCHEMAS)
    register_content_type(app, content.CONTENT_TYPE)
    add_nav_link(app, "people.directory", _l("People"))
