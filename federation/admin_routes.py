"""The federation admin page: the peers with their health and last day, adding one (after its name and
key fingerprints were shown to compare), suspending, resuming and removing one. Thin views over
federation.peers and federation.stats, for the node's administrators only."""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from auth.access import require_role
from federation import peers, stats
from federation.models import Peer
from federation.peers import NodeDocument, PeeringError
from knet.db import db
from knet.errors import Invalid, NotFound
from knet.views import add_nav_link

logger = logging.getLogger(__name__)

bp = Blueprint("federation_admin", __name__, url_prefix="/admin/federation", template_folder="templates")

#: Each state as the page says it (not the bare words, which other pages translate for other things).
STATES = {"pending": _l("pending: waiting for its administrator to add this node"),
          "active": _l("active: both nodes have added each other"),
          "suspended": _l("suspended: nothing is sent to it or accepted from it")}


class AddPeerForm(FlaskForm):
    url = StringField(_l("The node's address"),
                      validators=[DataRequired(_l("Give the node's address.")), Length(max=300)],
                      render_kw={"inputmode": "url", "autocomplete": "url", "autocapitalize": "none",
                                 "spellcheck": "false"})


class ConfirmPeerForm(FlaskForm):
    url = HiddenField()
    #: The fingerprints the administrator was shown: the peer is added only with these keys.
    fingerprints = HiddenField()


@bp.before_request
@login_required
def administrators_only():
    require_role(current_user, "admin")


@bp.get("")
def index():
    return _index(AddPeerForm())


@bp.post("/add")
def add():
    """Fetch the node document of the address given and show its name and keys to compare."""
    form = AddPeerForm()
    if not form.validate_on_submit():
        return _index(form, 400)
    try:
        found = peers.fetch_node(form.url.data)
    except PeeringError as exc:
        return _refused(form.url.data, exc)
    return _confirmation(found)


@bp.post("/add/confirm")
def confirm_add():
    """Add the peer the administrator confirmed, tell it so, and say what state the agreement is in."""
    form = ConfirmPeerForm()
    if not form.validate_on_submit():
        raise Invalid(_l("The form has expired: load the page again and repeat."))
    try:
        found = peers.fetch_node(form.url.data or "")
    except PeeringError as exc:
        return _refused(form.url.data or "", exc)
    if " ".join(found.fingerprints) != form.fingerprints.data:
        return _confirmation(found, changed=True)
    peer = peers.add(current_user, found, request.remote_addr or "")
    state = peers.handshake(peer)
    db.session.commit()
    logger.info("%s added the peer %s (%s)", current_user.username, peer.url, state)
    flash(_added(peer, state), "success")
    return redirect(url_for(".index", _anchor=f"peer-{peer.id}"))


@bp.post("/suspend")
def suspend():
    peer = _peer(request.form.get("url", ""))
    peers.set_suspended(current_user, peer, True, request.remote_addr or "")
    db.session.commit()
    logger.info("%s suspended the peer %s", current_user.username, peer.url)
    flash(_("%(name)s is suspended: nothing is sent to it or accepted from it until you resume it.",
            name=peer.name), "success")
    return redirect(url_for(".index", _anchor=f"peer-{peer.id}"))


@bp.post("/resume")
def resume():
    peer = _peer(request.form.get("url", ""))
    peers.set_suspended(current_user, peer, False, request.remote_addr or "")
    db.session.commit()
    logger.info("%s resumed the peer %s", current_user.username, peer.url)
    if peer.state == "active":
        flash(_("%(name)s is resumed: the agreement is active again.", name=peer.name), "success")
    else:
        flash(_("%(name)s is resumed; the agreement stays pending until its administrator adds this node.",
                name=peer.name), "success")
    return redirect(url_for(".index", _anchor=f"peer-{peer.id}"))


@bp.get("/remove")
def confirm_remove():
    peer = _peer(request.args.get("url", ""))
    return render_template("federation/admin_remove.html", peer=peer, health=peers.health(peer))


@bp.post("/remove")
def remove():
    peer = _peer(request.form.get("url", ""))
    name, url = peer.name, peer.url
    purged = peers.remove(peer, current_user, request.remote_addr or "")
    db.session.commit()
    logger.info("%s removed the peer %s", current_user.username, url)
    flash(ngettext("%(name)s is no longer a peer of this node; its %(num)d replica was removed.",
                   "%(name)s is no longer a peer of this node; its %(num)d replicas were removed.", purged,
                   name=name), "success")
    return redirect(url_for(".index"))


def _index(form: AddPeerForm, status: int = 200):
    return render_template("federation/admin_peers.html", reports=stats.overview(), form=form,
                           own_url=peers.own_url(), states=STATES), status


def _refused(url: str, exc: PeeringError):
    """The page again, with the reason the address cannot be added under its field."""
    form = AddPeerForm(formdata=None, url=url)
    form.url.errors = [str(exc)]
    return _index(form, 400)


def _confirmation(found: NodeDocument, changed: bool = False):
    form = ConfirmPeerForm(formdata=None, url=found.url, fingerprints=" ".join(found.fingerprints))
    return render_template("federation/admin_add.html", found=found, form=form, known=peers.get(found.url),
                           changed=changed), 409 if changed else 200


def _added(peer: Peer, state: str) -> str:
    if state == "active":
        return _("%(name)s is a peer: both nodes have added each other, so the agreement is active.", name=peer.name)
    if state == "suspended":
        return _("The name and keys of %(name)s are brought up to date; it stays suspended until you resume it.",
                 name=peer.name)
    message = _("%(name)s is added. The agreement is pending until its administrator adds this node, at "
                "%(address)s.", name=peer.name, address=peers.own_url())
    if peer.last_error:
        message += " " + _("The last attempt to reach it failed: %(reason)s", reason=peer.last_error)
    return message


def _peer(url: str) -> Peer:
    try:
        return peers.require(url[:300])
    except PeeringError:
        raise NotFound(_l("This node has no peer at that address; it may have been removed already.")) from None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav_link(app, "federation_admin.index", _l("Federation"), role="admin")
