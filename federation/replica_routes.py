"""GET /network/object?uri=…: a peer's object as this node keeps it, read-only, with its home municipality
and a link home for whatever cannot be done here (edit, answer, enrol)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Flask, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from auth.access import can_see
from auth.sign_on import LOGIN_PATH
from federation import peers, protocol, replicas
from federation.models import Replica
from knet import content
from knet.db import db
from knet.errors import NotFound
from knet.search import views as search_views

bp = Blueprint("federation_replicas", __name__, template_folder="templates")

#: What a visitor can do with each kind of object at its home, as the link home says it.
AT_HOME = {"page": _l("Edit at its home"), "question": _l("Answer at its home"), "course": _l("Enrol at its home"),
           "answer": _l("Comment at its home"), "community": _l("Join at its home"), "person": _l("Contact at their home")}


@bp.get("/network/object")
def show():
    replica = replicas.get(request.args.get("uri", "")[:protocol.MAX_URI])
    viewer = current_user if current_user.is_authenticated else None
    if replica is None or (replica.document is not None
                           and not can_see(viewer, replica.document.get("knet:visibility", "network"), None)):
        raise NotFound(_l("This node keeps no copy of that object, or you may not read it."))
    if replica.document is None:
        return render_template("federation/replica_gone.html", replica=replica), 410
    document = replica.document
    answers = []
    if replica.kind == "question":
        answers = [answer for answer in _answers(replica.uri)
                   if can_see(viewer, answer.document.get("knet:visibility", "network"), None)]
    return render_template("federation/replica.html", replica=replica, document=document,
                           content=Markup(document.get("content") or ""), home_link=act_at_home(replica, viewer),
                           action=AT_HOME.get(replica.kind), tags=replicas.tags_of(document), answers=answers,
                           modules=_modules(document),
                           offers=content.actions_on(replica.kind, document) if viewer is not None else [])


def _answers(question_uri: str) -> list[Replica]:
    return list(db.session.scalars(select(Replica).where(Replica.in_reply_to == question_uri,
                                                        Replica.document.is_not(None)).order_by(Replica.id)))


def home_link(replica: Replica) -> str | None:
    """The object's page at its home, only if it is an address on the peer's own host."""
    url = (replica.document or {}).get("url")
    return url if isinstance(url, str) and protocol.node_of(url) == replica.peer.url else None


def act_at_home(replica: Replica, viewer) -> str | None:
    """Where "answer / edit / enrol at its home" leads: for this node's staff, through the peer's sign-in by
    their home node (this one), which brings them to the object signed in; for anyone else, to the object."""
    url = home_link(replica)
    if url is None or viewer is None or viewer.is_visitor:
        return url
    return f"{replica.peer.url}{LOGIN_PATH}?" + urlencode({"iss": peers.own_url(), "target_link_uri": url})


def _modules(document: dict) -> list[dict]:
    modules = document.get("knet:modules")
    return [module for module in modules if isinstance(module, dict)] if isinstance(modules, list) else []


def _copy(uri: str) -> content.Copy | None:
    replica = replicas.get(uri)
    if replica is None or replica.document is None:
        return None
    return content.Copy(replica.uri, replica.version, replica.document, replica.peer.name, replica.peer.url)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    content.keep_copies_with(app, _copy)
    search_views.link_foreign_objects(app, _link, _peer_name)


def _link(uri: str) -> str:
    """Where a peer's object opens from a search: this node's copy, or its home when there is no copy
    yet (a live answer can be ahead of replication)."""
    return url_for("federation_replicas.show", uri=uri) if replicas.get(uri) is not None else uri


def _peer_name(url: str) -> str | None:
    peer = peers.get(url)
    return peer.name if peer else None
