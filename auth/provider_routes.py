"""The provider's addresses: discovery, the key set, the authorization endpoint with its consent screen,
and the token endpoint (auth/provider.py does the work)."""
from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SubmitField

from auth import provider
from auth.provider import PeerClient
from auth.sign_on import AUTHORIZE_PATH, JWKS_PATH, TOKEN_PATH
from knet.api import csrf
from knet.db import db
from knet.errors import Forbidden, Invalid, KnetError
from knet.security_headers import allow_form_targets

bp = Blueprint("provider", __name__, template_folder="templates")

#: What a person reads when a sign-in request cannot be answered to the peer, by OAuth error code.
REFUSALS = {
    "invalid_client": _l("This sign-in request does not come from a municipality this node is peered with."),
    "unauthorized_client": _l("This node does not sign its staff in at that municipality now: the agreement "
                              "between them is pending or suspended."),
    "invalid_request": _l("This sign-in request is not valid, so it cannot be answered."),
}


class ConsentForm(FlaskForm):
    allow = SubmitField(_l("Allow"))
    deny = SubmitField(_l("Do not allow"))


@bp.get("/.well-known/openid-configuration")
def discovery():
    return provider.metadata()


@bp.get(JWKS_PATH)
def jwks():
    return provider.jwks()


@bp.route(AUTHORIZE_PATH, methods=["GET", "POST"])
def authorize():
    """A peer asks who the person is: sign them in here first, ask their consent the first time, then send
    them back to the peer with a code."""
    person = current_user if current_user.is_authenticated else None
    try:
        grant = provider.server().get_consent_grant(end_user=person)
    except OAuth2Error as error:
        if error.redirect_uri:
            return provider.error_response(error)
        raise _refusal(error) from None
    if person is None:
        return redirect(url_for("auth.sign_in", next=request.full_path))
    client: PeerClient = grant.client
    if person.is_visitor:
        return provider.deny(grant.redirect_uri, grant.request.payload.state,
                             "The person is a visitor here; they sign in through their own home node.")
    form = ConsentForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            raise Invalid(_l("Choose whether to allow the sign-in."))
        if form.allow.data:
            provider.remember_consent(person, client)
        response = provider.authorization_response(grant, person if form.allow.data else None,
                                                   request.remote_addr or "")
        db.session.commit()
        return response
    if provider.has_consented(person, client) and "consent" not in (grant.prompt or ""):
        response = provider.authorization_response(grant, person, request.remote_addr or "")
        db.session.commit()
        return response
    allow_form_targets(grant.redirect_uri)  # the answer to the consent goes back to the peer
    return render_template("auth/consent.html", form=form, peer=client.node, person=person,
                           claims=provider.claims_of(person), municipality=current_app.config["KNET"]["name"])


@bp.post(TOKEN_PATH)
def token():
    """A peer exchanges a code for the person's ID token (authenticating with its federation key)."""
    response = provider.server().create_token_response()
    db.session.commit()
    return response


def _refusal(error: OAuth2Error) -> KnetError:
    """The error as a page for the person, when it cannot be sent back to the peer."""
    sentence = REFUSALS.get(error.error, REFUSALS["invalid_request"])
    detail = f"{sentence} ({error.description})" if error.description else str(sentence)
    kind = Forbidden if error.error == "unauthorized_client" else Invalid
    return kind(detail, reason=error.error, field=getattr(error, "field", None))


def init_app(app: Flask) -> None:
    provider.init_app(app)
    app.register_blueprint(bp)
    csrf.exempt(token)  # peers authenticate with a signed assertion; no cookie ever reaches it
