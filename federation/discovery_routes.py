"""/.well-known/nodeinfo, /nodeinfo/2.1, /.well-known/webfinger and the node document /federation/actor:
thin views over federation.discovery and federation.actor. They are public (no signature: discovery comes
before any agreement) and say nothing that may not leave."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from auth.models import User
from federation import discovery, keys
from federation.actor import node_document
from knet.db import db, utcnow
from knet.errors import Invalid, NotFound

bp = Blueprint("discovery", __name__)

JRD = "application/jrd+json"
ACTIVITY_JSON = "application/activity+json"  # what ActivityPub servers ask for and expect
#: Longer resources name nobody (usernames are at most 64 characters).
MAX_RESOURCE = 1000


def _node_url() -> str:
    return str(current_app.config["KNET"]["url"])


@bp.get("/.well-known/nodeinfo")
def nodeinfo_links():
    return _public(jsonify(discovery.nodeinfo_links(_node_url())))


@bp.get("/nodeinfo/2.1")
def nodeinfo():
    settings = current_app.config["KNET"]
    response = jsonify(discovery.nodeinfo(settings["name"], _node_url(), settings["default_language"], _usage()))
    response.mimetype = "application/json"
    response.headers["Content-Type"] = f'application/json; profile="{discovery.NODEINFO_SCHEMA}#"'
    return _public(response)


@bp.get("/.well-known/webfinger")
def webfinger():
    resource = request.args.get("resource", "")
    if not resource or len(resource) > MAX_RESOURCE or any(ord(c) < 32 for c in resource):
        raise Invalid(_l("Say whom to find with ?resource=acct:name@host."), field="resource")
    user = discovery.parse_account(resource, _node_url())
    if user is None:
        raise NotFound(_l("This node knows no one by that name."))
    if user == "":
        jrd = discovery.node_jrd(_node_url())
    else:
        person = db.session.scalar(select(User).where(User.username == user, User.active.is_(True),
                                                      User.profile_visibility.in_(discovery.SHAREABLE_PROFILES)))
        if person is None:
            raise NotFound(_l("This node knows no one by that name."))
        profile = url_for("people.profile", username=person.username, _external=False)
        jrd = discovery.person_jrd(_node_url(), person.username, _node_url() + profile)
    response = jsonify(discovery.only_rels(jrd, request.args.getlist("rel")))
    response.headers["Content-Type"] = JRD
    return _public(response)


@bp.get("/federation/actor")
def actor():
    settings = current_app.config["KNET"]
    instance = Path(current_app.instance_path)
    ring = keys.load(instance)
    response = jsonify(node_document(settings["name"], _node_url(), ring,
                                     fediverse_key=keys.fediverse_key(instance).public_key()))
    response.headers["Content-Type"] = ACTIVITY_JSON
    return _public(response)


def _usage() -> discovery.Usage:
    now, active = utcnow(), User.active.is_(True)

    def count(*conditions) -> int:
        return db.session.scalar(select(func.count(User.id)).where(active, *conditions)) or 0

    return discovery.Usage(count(), count(User.last_sign_in_at >= now - timedelta(days=30)),
                           count(User.last_sign_in_at >= now - timedelta(days=182)))


def _public(response):
    """Anyone's page may read discovery documents (RFC 7033 §5)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
