"""What the wiki keeps about a person (knet.personal_data): the pages they created and the revisions they
wrote, with their text. On erasure the pages and revisions stay, shown as by "former staff"; the name an
imported revision gave its author is emptied, and every page they created or edited is sent to peers again.
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import or_, select, update

from auth.models import User
from knet import content, personal_data
from knet.content import iso
from knet.db import db
from wiki.content import TYPE, page_uri
from wiki.models import Page, Revision
from wiki.services import page_path


def init_app(app: Flask) -> None:
    personal_data.register(app, "wiki", export=export, erase=erase)


def export(person: User) -> dict:
    pages = db.session.scalars(select(Page).where(Page.author_id == person.id).order_by(Page.id))
    revisions = db.session.scalars(select(Revision).where(Revision.author_id == person.id)
                                   .order_by(Revision.page_id, Revision.number))
    return {
        "pages_created": [{"uri": page_uri(page.id), "path": page_path(page.slug), "title": page.title,
                           "visibility": page.visibility, "created_at": iso(page.created_at),
                           "deleted": page.deleted_at is not None} for page in pages],
        "revisions": [{"page": page_uri(revision.page_id), "number": revision.number, "title": revision.title,
                       "summary": revision.summary, "text": revision.body, "created_at": iso(revision.created_at)}
                      for revision in revisions],
    }


def erase(person: User) -> None:
    touched = db.session.scalars(select(Page.id).where(or_(
        Page.author_id == person.id, Page.id.in_(select(Revision.page_id).where(Revision.author_id == person.id)))))
    for page_id in touched:
        content.changed(TYPE, page_id, page_uri(page_id))
    db.session.execute(update(Revision).where(Revision.author_id == person.id).values(author_name=""))
