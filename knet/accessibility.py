"""The accessibility statement that EU Directive 2016/2102 (Greek law 4591/2019) asks public-sector sites to
publish, written from the node's [accessibility] settings."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Flask, current_app, render_template

from knet.mail import mailbox

bp = Blueprint("accessibility", __name__)


@dataclass(frozen=True)
class Statement:
    """What the statement says of this node."""

    #: "full", "partial" or "none": how far the node conforms to WCAG 2.1 level AA.
    conformance: str
    email: str
    phone: str
    prepared: date | None
    reviewed: date | None
    enforcement_url: str


def statement() -> Statement:
    """The statement as the node's settings make it: without its own address, it names the one the node's
    e-mails come from."""
    settings = current_app.config["KNET"]
    chosen = settings["accessibility"]
    sender = mailbox(settings["mail"]["sender"]) if settings["mail"]["sender"] else None
    return Statement(
        conformance=chosen["conformance"], email=chosen["email"] or (sender.addr_spec if sender else ""),
        phone=chosen["phone"], prepared=date.fromisoformat(chosen["prepared"]) if chosen["prepared"] else None,
        reviewed=date.fromisoformat(chosen["reviewed"]) if chosen["reviewed"] else None,
        enforcement_url=chosen["enforcement_url"])


@bp.get("/accessibility")
def page():
    return render_template("accessibility.html", statement=statement(), node_url=current_app.config["KNET"]["url"])


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
