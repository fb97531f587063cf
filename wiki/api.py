"""Wiki pages in the JSON API: /api/v1/pages."""
from __future__ import annotations

from flask import Blueprint, current_app, request, url_for

from auth.bearer import api_actor
from knet.api import json_object, page_links, pagination
from knet.db import as_utc, db
from knet.errors import Invalid
from wiki import services
from knet.diff import unified
from wiki.models import Page, Revision
from wiki.services import PageInput

bp = Blueprint("wiki_api", __name__, url_prefix="/api/v1/pages")

FIELDS = {"title", "body", "language", "tags", "visibility", "licence", "summary"}
TEXT_FIELDS = {"title", "body", "language", "visibility", "licence", "summary"}


def page_json(page: Page) -> dict:
    current = page.current
    return {
        "slug": page.slug,
        "title": page.title,
        "body": current.body,
        "html": current.html,
        "language": page.language,
        "tags": page.tag_names,
        "visibility": page.visibility,
        "licence": page.licence,
        "revision": page.revision,
        "updated": as_utc(page.updated_at).isoformat(),
        "author": page.author.username if page.author else None,
        "url": url_for("wiki.view", slug=page.slug, _external=False),
    }


def revision_json(revision: Revision) -> dict:
    return {
        "revision": revision.number,
        "title": revision.title,
        "summary": revision.summary,
        "author": revision.author.username if revision.author else None,
        "created": as_utc(revision.created_at).isoformat(),
    }


def _page_input(data: dict, defaults: PageInput) -> PageInput:
    for name in TEXT_FIELDS & set(data):
        if not isinstance(data[name], str):
            raise Invalid(f"The field '{name}' must be text.", field=name)
    tags = data.get("tags", list(defaults.tags))
    if not isinstance(tags, list):
        raise Invalid("The field 'tags' must be a list of text.", field="tags")
    return PageInput(
        title=data.get("title", defaults.title), body=data.get("body", defaults.body),
        language=data.get("language", defaults.language), tags=tags,
        visibility=data.get("visibility", defaults.visibility), licence=data.get("licence", defaults.licence),
        summary=data.get("summary", ""),
    )


def _limit() -> int:
    return current_app.config["KNET"]["max_body_bytes"]


@bp.get("")
def list_pages():
    page, per_page = pagination()
    pages, total = services.list_pages(api_actor(), page, per_page)
    return {"items": [page_json(p) for p in pages], **page_links("wiki_api.list_pages", page, per_page, total)}


@bp.post("")
def create_page():
    actor = api_actor()
    data = json_object(FIELDS, required={"title", "body"})
    defaults = PageInput(title="", body="", language=current_app.config["KNET"]["default_language"])
    page = services.create_page(actor, _page_input(data, defaults), _limit())
    db.session.commit()
    return page_json(page), 201, {"Location": url_for("wiki_api.get_page", slug=page.slug)}


@bp.get("/<slug>")
def get_page(slug: str):
    page, _redirected = services.get_page(slug, api_actor())
    return page_json(page)


@bp.put("/<slug>")
def update_page(slug: str):
    actor = api_actor()
    page, _redirected = services.get_page(slug, actor)
    data = json_object(FIELDS | {"base_revision"}, required={"base_revision"})
    base = data.pop("base_revision")
    if not isinstance(base, int) or isinstance(base, bool):
        raise Invalid("The field 'base_revision' must be a revision number.", field="base_revision")
    current = PageInput(title=page.title, body=page.current.body, language=page.language, tags=page.tag_names,
                        visibility=page.visibility, licence=page.licence)
    services.update_page(actor, page, _page_input(data, current), base, _limit())
    db.session.commit()
    return page_json(page)


@bp.delete("/<slug>")
def delete_page(slug: str):
    actor = api_actor()
    page, _redirected = services.get_page(slug, actor)
    services.delete_page(actor, page)
    db.session.commit()
    return "", 204


@bp.get("/<slug>/revisions")
def revisions(slug: str):
    page, _redirected = services.get_page(slug, api_actor())
    return {"items": [revision_json(r) for r in reversed(page.revisions)], "current": page.revision}


@bp.get("/<slug>/diff")
def diff(slug: str):
    page, _redirected = services.get_page(slug, api_actor())
    old = services.get_revision(page, _query_int("from"))
    new = services.get_revision(page, _query_int("to"))
    return {"from": old.number, "to": new.number,
            "unified": unified(_ended(old.body), _ended(new.body), f"{page.slug}@{old.number}",
                               f"{page.slug}@{new.number}")}


def _ended(text: str) -> str:
    # difflib joins a last line without its newline to the next diff line ("-old+new"); end every text with one.
    return text if not text or text.endswith("\n") else text + "\n"


def _query_int(name: str) -> int:
    raw = request.args.get(name)
    if raw is None or not raw.isdigit():
        raise Invalid(f"The query parameter '{name}' must be a revision number.", field=name)
    return int(raw)


@bp.post("/<slug>/revert")
def revert(slug: str):
    actor = api_actor()
    page, _redirected = services.get_page(slug, actor)
    data = json_object({"revision"}, required={"revision"})
    if not isinstance(data["revision"], int) or isinstance(data["revision"], bool):
        raise Invalid("The field 'revision' must be a revision number.", field="revision")
    services.revert_page(actor, page, data["revision"])
    db.session.commit()
    return page_json(page)
