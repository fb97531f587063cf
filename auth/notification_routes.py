"""The notifications page, the count in the header, and the notifications API: thin views over
auth.notifications."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SubmitField
from wtforms.fields.choices import SelectChoice

from auth import notifications
from auth.bearer import api_actor
from auth.models import DIGESTS, Notification, User
from knet.api import add_openapi, json_object, page_links, pagination, register_api
from knet.config import MAX_PAGE_NUMBER
from knet.db import as_utc, db
from knet.errors import Invalid, Unauthorized

bp = Blueprint("notifications", __name__, template_folder="templates")
api_bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1")


class DigestForm(FlaskForm):
    digest = RadioField(_l("Send me my unread notifications by e-mail"),
                        choices=[SelectChoice(value, notifications.DIGEST_NAMES[value]) for value in DIGESTS])
    save = SubmitField(_l("Save"))


class MarkAllReadForm(FlaskForm):
    #: The newest notification on the page: one that arrived after the page was shown stays unread.
    up_to = HiddenField()
    submit = SubmitField(_l("Mark all as read"))


@bp.app_context_processor
def _unread_in_header():
    signed_in = current_user.is_authenticated
    return {"unread_notifications": notifications.unread_count(current_user) if signed_in else 0}


@bp.get("/notifications")
@login_required
def page():
    unread_only = request.args.get("show") == "unread"
    number = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE_NUMBER)
    per_page = current_app.config["KNET"]["page_size"]
    listed, total = notifications.recent(current_user, number, per_page, unread_only=unread_only)
    mark_all = MarkAllReadForm(up_to=str(max((n.id for n in listed), default=0)))
    return render_template(
        "notifications/list.html", listed=listed, total=total, page=number, per_page=per_page,
        unread_only=unread_only, message=notifications.message, mark_all=mark_all,
        digest_form=DigestForm(digest=current_user.digest), mail_enabled=_mail_enabled())


@bp.get("/notifications/<int:notification_id>")
@login_required
def open_one(notification_id: int):
    """Mark the notification read and go to what it is about."""
    found = notifications.get(current_user, notification_id)
    notifications.mark_read(current_user, found)
    db.session.commit()
    return redirect(found.url)


@bp.post("/notifications/read")
@login_required
def mark_all_read():
    form = MarkAllReadForm()
    if not form.validate_on_submit():
        raise Invalid(_l("The form has expired: load the page again and repeat."))
    up_to = int(form.up_to.data) if (form.up_to.data or "").isdigit() else None
    marked = notifications.mark_all_read(current_user, up_to)
    db.session.commit()
    flash(ngettext("Marked %(num)d notification as read.", "Marked %(num)d notifications as read.", marked)
          if marked else _("There was nothing unread."), "success")
    return redirect(url_for(".page"))


@bp.post("/notifications/digest")
@login_required
def digest():
    form = DigestForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            raise Invalid(_l("The form has expired: load the page again and repeat."))
        raise Invalid(_l("Choose how often: %(choices)s.", choices=", ".join(DIGESTS)), field="digest")
    notifications.set_digest(current_user, form.digest.data)
    db.session.commit()
    flash(_("Saved: %(choice)s.", choice=notifications.DIGEST_NAMES[form.digest.data]), "success")
    return redirect(url_for(".page", _anchor="digest"))


def _mail_enabled() -> bool:
    return bool(current_app.config["KNET"].get("mail", {}).get("host"))


# The API --------------------------------------------------------------------------------------

def _reader() -> User:
    actor = api_actor() or (current_user if current_user.is_authenticated else None)
    if actor is None:
        raise Unauthorized(_l("Sign in, or send a personal token (“Authorization: Bearer <token>”)."))
    return actor


def notification_json(notification: Notification) -> dict:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "text": notifications.message(notification),
        "actor": notification.actor.username if notification.actor is not None else None,
        "subject": notification.subject,
        "url": notification.url,
        "created": as_utc(notification.created_at).isoformat(),
        "read": notification.read_at is not None,
    }


@api_bp.get("/notifications")
def api_list():
    """The person's notifications, newest first; ?unread=true for the unread ones only."""
    reader = _reader()
    number, per_page = pagination()
    unread_only = request.args.get("unread", "").lower() in ("1", "true", "yes")
    listed, total = notifications.recent(reader, number, per_page, unread_only=unread_only)
    return {"unread": notifications.unread_count(reader),
            "notifications": [notification_json(n) for n in listed],
            **page_links("notifications_api.api_list", number, per_page, total,
                         unread="true" if unread_only else None)}


@api_bp.post("/notifications/read")
def api_mark_read():
    """Mark notifications read: {"ids": [1, 2]}, or {"all": true} (with "up_to": id, optionally)."""
    reader = api_actor()
    if reader is None:
        raise Unauthorized(_l("Changes through the API need a personal token: “knet user token --scope write”."))
    body = json_object({"ids", "all", "up_to"})
    if body.get("all") is True:
        up_to = body.get("up_to")
        if up_to is not None and (type(up_to) is not int or not 1 <= up_to <= notifications.MAX_ID):
            raise Invalid(_l("“up_to” must be a notification id."), field="up_to")
        marked = notifications.mark_all_read(reader, up_to)
    else:
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids or len(ids) > 100 or any(type(i) is not int for i in ids):
            raise Invalid(_l("Send “ids”, a list of 1 to 100 notification ids, or “all”: true."), field="ids")
        found = [notifications.get(reader, i) for i in ids]
        marked = sum(n.read_at is None for n in found)
        for n in found:
            notifications.mark_read(reader, n)
    db.session.commit()
    return {"marked": marked, "unread": notifications.unread_count(reader)}


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
PATHS = {
    "/notifications": {
        "get": {
            "summary": "My notifications",
            "description": "Newest first, with the number still unread. Known by a bearer token or the browser's session.",
            "parameters": [
                {"name": "unread", "in": "query", "schema": {"type": "boolean"}, "description": "Only the unread ones."},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            ],
            "responses": {
                "200": {"description": "One page of notifications",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NotificationList"}}}},
                "400": {"description": "Bad page numbers", "content": _PROBLEM},
                "401": {"description": "Nobody is signed in", "content": _PROBLEM},
            },
        },
    },
    "/notifications/read": {
        "post": {
            "summary": "Mark notifications read",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"ids": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "integer"}},
                               "all": {"type": "boolean"},
                               "up_to": {"type": "integer", "description": "With all: only those up to this id."}},
            }}}},
            "responses": {
                "200": {"description": "How many were marked, and how many are still unread",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["marked", "unread"],
                            "properties": {"marked": {"type": "integer"}, "unread": {"type": "integer"}}}}}},
                "400": {"description": "Not a list of ids", "content": _PROBLEM},
                "401": {"description": "No token", "content": _PROBLEM},
                "403": {"description": "A read-only token", "content": _PROBLEM},
                "404": {"description": "Not one of my notifications", "content": _PROBLEM},
            },
        },
    },
}
SCHEMAS = {
    "Notification": {
        "type": "object",
        "required": ["id", "kind", "text", "actor", "subject", "url", "created", "read"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "description": "What happened, e.g. qa.answer, qa.mention."},
            "text": {"type": "string", "description": "The notification as a sentence, in the request's language."},
            "actor": {"type": ["string", "null"], "description": "The username of who made it happen."},
            "subject": {"type": "string"},
            "url": {"type": "string", "description": "Where to read it: a path on this node."},
            "created": {"type": "string", "format": "date-time"},
            "read": {"type": "boolean"},
        },
    },
    "NotificationList": {
        "type": "object",
        "required": ["unread", "notifications", "page", "per_page", "total", "next", "prev"],
        "properties": {
            "unread": {"type": "integer"},
            "notifications": {"type": "array", "items": {"$ref": "#/components/schemas/Notification"}},
            "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
            "next": {"type": ["string", "null"]}, "prev": {"type": ["string", "null"]},
        },
    },
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_api(app, api_bp)
    add_openapi(app, PATHS, SCHEMAS)
