"""Communities in the JSON API: /api/v1/communities, each one's members and your membership."""
from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import lazy_gettext as _l

from auth.bearer import api_actor
from knet.api import json_object, page_links, pagination
from knet.db import as_utc, db
from knet.errors import Invalid
from qa import communities
from qa.communities import CommunitySummary
from qa.models import Membership

bp = Blueprint("communities_api", __name__, url_prefix="/api/v1/communities")

FIELDS = {"name", "description", "visibility"}


def membership_json(membership: Membership) -> dict:
    return {"community": membership.community_id, "role": membership.role, "following": membership.following,
            "joined": as_utc(membership.joined_at).isoformat()}


def member_json(membership: Membership) -> dict:
    return {"username": membership.user.username, "name": membership.user.name, "role": membership.role,
            "joined": as_utc(membership.joined_at).isoformat()}


def community_json(summary: CommunitySummary) -> dict:
    community = summary.community
    return {
        "id": community.id,
        "uri": communities.community_uri(community.id),
        "slug": community.slug,
        "name": community.name,
        "description": community.description,
        "description_html": community.description_html,
        "visibility": community.visibility,
        "created": as_utc(community.created_at).isoformat(),
        "members": summary.members,
        "questions": summary.questions,
        "membership": membership_json(summary.membership) if summary.membership else None,
        "url": url_for("communities.view", slug=community.slug),
    }


@bp.get("")
def list_communities():
    page, per_page = pagination()
    listed, total = communities.list_communities(api_actor(), page, per_page)
    return {"communities": [community_json(summary) for summary in listed],
            **page_links("communities_api.list_communities", page, per_page, total)}


@bp.post("")
def create_community():
    actor = api_actor()
    data = json_object(FIELDS, required={"name"})
    community = communities.create_community(actor, data["name"], data.get("description", ""),
                                             data.get("visibility", "internal"))
    db.session.commit()
    return (community_json(communities.summary(actor, community)), 201,
            {"Location": url_for("communities_api.get_community", community_id=community.id)})


@bp.get("/<int:community_id>")
def get_community(community_id: int):
    actor = api_actor()
    return community_json(communities.summary(actor, communities.get_community_by_id(actor, community_id)))


@bp.patch("/<int:community_id>")
def update_community(community_id: int):
    """Change what is sent of the name, description and visibility (the community's managers)."""
    actor = api_actor()
    community = communities.get_community_by_id(actor, community_id)
    communities.require_manager(actor, community)  # before reading the body: who may not, learns that first
    data = json_object(FIELDS)
    communities.update_community(actor, community, data.get("name", community.name),
                                 data.get("description", community.description),
                                 data.get("visibility", community.visibility))
    db.session.commit()
    return community_json(communities.summary(actor, community))


@bp.get("/<int:community_id>/members")
def list_members(community_id: int):
    actor = api_actor()
    page, per_page = pagination()
    listed, total = communities.list_members(actor, communities.get_community_by_id(actor, community_id), page,
                                             per_page)
    return {"members": [member_json(membership) for membership in listed],
            **page_links("communities_api.list_members", page, per_page, total, community_id=community_id)}


@bp.post("/<int:community_id>/membership")
def join(community_id: int):
    """Join the community (again: nothing changes but `following`, if sent)."""
    actor = api_actor()
    community = communities.get_community_by_id(actor, community_id)
    data = json_object({"following"}) if request.get_data() else {}
    following = data.get("following", True)
    if not isinstance(following, bool):
        raise Invalid(_l("The field “following” must be true or false."), field="following")
    membership, created = communities.join(actor, community, following)
    if not created and "following" in data:
        communities.follow(actor, community, following)
    db.session.commit()
    return membership_json(membership), 201 if created else 200


@bp.delete("/<int:community_id>/membership")
def leave(community_id: int):
    actor = api_actor()
    communities.leave(actor, communities.get_community_by_id(actor, community_id))
    db.session.commit()
    return "", 204
