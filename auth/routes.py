"""Signing in and out of the node."""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from auth import audit, upstream
from auth.forms import SignInForm
from auth.models import User
from auth.sign_on import active_peers
from auth.signin import Attempt, TooManyAttempts, sign_in as check_sign_in
from knet.db import db
from knet.errors import KnetError
from knet.security_headers import allow_form_targets
from knet.views import local_path

bp = Blueprint("auth", __name__, template_folder="templates")

#: The session remembers which "sign out everywhere" it was made after.
EPOCH = "knet_epoch"
#: A browser's mark of the people who have signed in with it (see auth.signin).
DEVICE_COOKIE = "knet_device"
DEVICE_DAYS = 180
DEVICE_NAMES = 10


@bp.route("/login", methods=["GET", "POST"])
def sign_in():
    form = SignInForm(next=request.args.get("next", ""))
    error, status, retry_after = None, 200, None
    if form.validate_on_submit():
        attempt = Attempt(form.username.data, form.password.data, request.remote_addr or "",
                          _device_for(form.username.data))
        try:
            user = check_sign_in(attempt)
        except KnetError as exc:
            db.session.commit()  # the audit log keeps refused attempts too
            error, status = exc.message, exc.status
            retry_after = exc.extra.get("retry_after") if isinstance(exc, TooManyAttempts) else None
        else:
            start_session(user)
            db.session.commit()
            response = redirect(local_path(form.next.data))
            _remember_device(response, attempt.key)
            return response
    elif request.method == "POST":
        status = 400
    peers, provider = active_peers(), upstream.settings()
    # Its forms lead on to a peer (signing in there, or back to a peer that asked who the person is once
    # signed in here) or to the national sign-in.
    allow_form_targets(*(peer.url for peer in peers), provider["authorize_url"] if provider else "")
    response = Response(render_template("auth/sign_in.html", form=form, error=error, peers=peers,
                                        upstream=provider), status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
def old_sign_in():
    """The address of earlier versions; bookmarks keep working."""
    query = request.query_string.decode()
    return redirect(url_for("auth.sign_in") + (f"?{query}" if query else ""), 308)


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        audit.record("sign_out", current_user.username.casefold(), user=current_user, address=request.remote_addr or "")
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("knet.home"))


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session of the person, on every browser and server (a lost phone, a shared computer)."""
    current_user.session_epoch += 1
    audit.record("sign_out_everywhere", current_user.username.casefold(), user=current_user,
                 address=request.remote_addr or "")
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("knet.home"))


def start_session(user: User) -> None:
    """A new session for the signed-in person: nothing from before sign-in carries over."""
    session.clear()
    login_user(user)
    session[EPOCH] = user.session_epoch


def session_is_current(epoch: int) -> bool:
    """Whether this request's session was made after the person's last "sign out everywhere"."""
    return session.get(EPOCH) == epoch


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="knet-known-device")


def _device_for(username: str) -> str | None:
    """This browser's known-device id, if the person with this name has signed in with it before."""
    try:
        mark = _serializer().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        return None
    names = mark.get("names", []) if isinstance(mark, dict) else []
    return mark.get("id") if username.strip().casefold()[:200] in names else None


def _remember_device(response: Response, key: str) -> None:
    try:
        mark = _serializer().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        mark = None
    if not isinstance(mark, dict) or not isinstance(mark.get("names"), list):
        mark = {"id": secrets.token_hex(8), "names": []}
    names = [key] + [name for name in mark["names"] if name != key]
    mark["names"] = names[:DEVICE_NAMES]
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps(mark), max_age=DEVICE_DAYS * 24 * 3600, httponly=True,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
