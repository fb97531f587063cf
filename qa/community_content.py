"""Communities as the rest of the node sees them (the content contract of knet.content)."""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from knet import content
from knet.content import SHAREABLE, ContentType
from knet.db import as_utc, db
from knet.search.index import SearchDocument
from qa.communities import COMMUNITY_TYPE, community_uri
from qa.models import Community


def community_document(community_id: int) -> SearchDocument | None:
    """The community's search document: found by its name and description."""
    community = db.session.get(Community, community_id)
    if community is None:
        return None
    return SearchDocument(
        uri=community_uri(community.id), type="community", title=community.name,
        body=Markup(community.description_html).striptags(), visibility=community.visibility,
        home=current_app.config["KNET"]["url"], author=str(community.created_by_id or ""),
        updated=as_utc(community.created_at))


def community_for_peers(community_id: int) -> dict | None:
    """The community as peers receive it: its name and description (never its members)."""
    community = db.session.get(Community, community_id)
    if community is None or community.visibility not in SHAREABLE:
        return None
    return content.document(
        id=community_uri(community.id), type="Group", name=community.name,
        url=f"{current_app.config['KNET']['url']}/communities/{quote(community.slug)}",
        content=community.description_html, source=community.description, published=community.created_at,
        visibility=community.visibility, **{"knet:slug": community.slug})


def _community_ids() -> list[int]:
    return list(db.session.scalars(select(Community.id).order_by(Community.id)))


CONTENT_TYPE = ContentType(COMMUNITY_TYPE, community_document, _community_ids, community_for_peers)
