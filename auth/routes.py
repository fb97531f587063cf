"""Signing in and out of the node."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from auth.forms import SignInForm
from auth.services import authenticate_local
from knet.views import local_path

bp = Blueprint("auth", __name__, template_folder="templates")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm(next=request.args.get("next", ""))
    error = None
    if form.validate_on_submit():
        user = authenticate_local(form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(local_path(form.next.data))
        error = _("The username or password is incorrect.")
    status = 401 if error else 200
    return render_template("auth/sign_in.html", form=form, error=error), status


@bp.post("/sign-out")
def sign_out():
    logout_user()
    return redirect(url_for("knet.home"))
