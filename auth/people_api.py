"""People and skills in the JSON API: /api/v1/people and /api/v1/skills (read only, with a token)."""
from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import lazy_gettext as _l

from auth import people
from auth.bearer import api_actor
from auth.content import person_path
from auth.models import User
from knet.api import page_links, pagination
from knet.db import as_utc
from knet.errors import Unauthorized

bp = Blueprint("people_api", __name__, url_prefix="/api/v1")

MAX_QUERY_CHARS = 200


def _viewer() -> User:
    actor = api_actor()
    if actor is None:
        raise Unauthorized(_l("Profiles are visible to the staff of this municipality: send a personal token "
                              "(“Authorization: Bearer <token>”)."))
    return actor


def person_json(person: User, photo_version: int | None = None) -> dict:
    unit = person.department
    return {
        "username": person.username,
        "name": person.name,
        "title": person.title,
        "department": {"id": unit.id, "name": unit.name, "path": [part.name for part in unit.path]} if unit else None,
        "email": person.email,
        "phone": person.phone,
        "languages": person.languages.split(),
        "skills": [skill.name for skill in person.skills],
        "about": person.about,
        "roles": list(person.roles),
        "active": person.active,
        "visibility": person.profile_visibility,
        "updated": as_utc(person.profile_updated_at).isoformat(),
        "url": person_path(person.username),
        "photo": (url_for("people.photo", username=person.username, v=photo_version)
                  if photo_version is not None else None),
    }


@bp.get("/people")
def list_people():
    viewer = _viewer()
    page, per_page = pagination()
    query = request.args.get("q", "").strip()[:MAX_QUERY_CHARS]
    skill_name = request.args.get("skill", "").strip()[:MAX_QUERY_CHARS]
    if query:
        found = people.who_knows(viewer, query, page, per_page)
        listed, total = [hit.person for hit in found.people], found.total
    elif skill_name:
        skill = people.find_skill(skill_name)
        listed, total = people.people_with_skill(skill, page, per_page, viewer) if skill else ([], 0)
    else:
        listed, total = people.list_people(page, per_page)
    versions = people.photo_versions(listed)
    return {"people": [person_json(person, versions.get(person.id)) for person in listed],
            **page_links("people_api.list_people", page, per_page, total, q=query or None,
                         skill=skill_name or None)}


@bp.get("/people/<username>")
def get_person(username: str):
    person = people.get_person(_viewer(), username)
    return person_json(person, people.photo_versions([person]).get(person.id))


@bp.get("/skills")
def skills():
    """Skills people have, most common first; with ?q=, those whose name or a word of it starts so."""
    _viewer()
    limit = min(max(request.args.get("limit", 20, type=int) or 20, 1), people.MAX_SUGGESTIONS)
    query = request.args.get("q", "").strip()[:people.MAX_SKILL_LENGTH]
    found = people.skill_suggestions(query, limit) if query else people.skill_counts(limit)
    return {"skills": [{"name": skill.name, "people": count} for skill, count in found]}
