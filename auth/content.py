"""People as the rest of the node sees them: a profile is a search document of type ``person``.

A person's document is made of their profile and of what the directory says about them (name, title,
department, whether they still work here), and several modules change those: the profile services,
directory sign-in and sync, the `knet user` commands. Rather than trust each of them to record the
change, any commit that creates a person or changes a column their document is made of (or renames
or moves a department) records it here, in the same transaction, so the index cannot miss one.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app, has_app_context
from flask_babel import force_locale, lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from auth.models import Department, User
from knet.config import LANGUAGES as INTERFACE_LANGUAGES
from knet import content
from knet.content import SHAREABLE, ContentType, changed, content_types
from knet.db import as_utc, db
from knet.search.index import SearchDocument

TYPE = "auth.person"
#: The languages a person may say they work in, by code (ISO 639). A fixed list: free text would make
#: "English", "english" and «αγγλικά» three languages.
LANGUAGE_NAMES = {
    "el": _l("Greek"), "en": _l("English"), "fr": _l("French"), "de": _l("German"), "it": _l("Italian"),
    "es": _l("Spanish"), "pt": _l("Portuguese"), "nl": _l("Dutch"), "bg": _l("Bulgarian"), "sq": _l("Albanian"),
    "ro": _l("Romanian"), "tr": _l("Turkish"), "ar": _l("Arabic"), "ru": _l("Russian"), "uk": _l("Ukrainian"),
    "pl": _l("Polish"), "sr": _l("Serbian"), "mk": _l("Macedonian"), "ka": _l("Georgian"), "fa": _l("Persian"),
    "ur": _l("Urdu"), "zh": _l("Chinese"), "gss": _l("Greek Sign Language"),
}


def language_name(code: str) -> str:
    """The name of a language in the current locale (the code itself when it is not on the list)."""
    return str(LANGUAGE_NAMES.get(code, code))


def person_path(username: str) -> str:
    """The address of a profile on this node (the people.profile route)."""
    return "/people/" + quote(username, safe="@")


def person_uri(user: User) -> str:
    """A profile's permanent address."""
    return current_app.config["KNET"]["url"] + person_path(user.username)


def search_document(user_id: int) -> SearchDocument | None:
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.is_visitor:  # a visitor's profile is their home node's
        return None
    department = _department(user)
    skills = [skill.name for skill in user.skills]
    # Language names in every interface language, so «Γαλλικά» and «French» both find a French speaker.
    languages = []
    for locale in INTERFACE_LANGUAGES:
        with force_locale(locale):
            languages += [language_name(code) for code in user.languages.split()]
    body = "\n".join(part for part in (user.title, department, ", ".join(skills), user.about,
                                       " ".join(dict.fromkeys(languages))) if part)
    return SearchDocument(
        uri=person_uri(user),
        type="person",
        title=user.name,
        body=body,
        visibility=user.profile_visibility,
        home=current_app.config["KNET"]["url"],
        author=str(user.id),
        tags=tuple(skills),
        updated=as_utc(user.profile_updated_at),
    )


def document(user_id: int) -> dict | None:
    """A profile as peers receive it, for those who chose `network`: what its page shows the staff of another
    node, never the e-mail address, phone, roles or anything about the account."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.is_visitor or user.profile_visibility not in SHAREABLE:
        return None
    summary = ", ".join(part for part in (user.title, _department(user)) if part)
    return content.document(
        id=person_uri(user), type="Person", name=user.name, url=person_uri(user), content=_about_html(user.about),
        summary=summary, tags=[skill.name for skill in user.skills], updated=user.profile_updated_at,
        visibility=user.profile_visibility, **{"knet:languages": user.languages.split()})


def _department(user: User) -> str:
    """The person's department with the units above it: «Δήμος › Διεύθυνση Πληροφορικής › Τμήμα Δικτύων»."""
    return " › ".join(unit.name for unit in user.department.path) if user.department else ""


def _about_html(about: str) -> str:
    """The plain text of "ask me about" as HTML, its line breaks kept as its page keeps them."""
    return str(Markup("<p>{}</p>").format(Markup("<br>\n").join(about.split("\n")))) if about else ""


def indexable_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.active.is_(True)).order_by(User.id)))


CONTENT_TYPE = ContentType(TYPE, search_document, indexable_ids, document)


# --- keeping the index in step ---------------------------------------------------------------------

#: The attributes of a person and of a department that a person's search document is made of.
PERSON_ATTRIBUTES = ("username", "display_name", "title", "department", "department_id", "active", "about",
                     "languages", "profile_visibility", "profile_updated_at", "skills")
DEPARTMENT_ATTRIBUTES = ("name", "parent", "parent_id")
_PEOPLE = "auth.people_changed"
_UNITS = "auth.units_changed"


def _has_changes(obj, attributes: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


@event.listens_for(Session, "after_flush")
def _notice(session: Session, flush_context) -> None:
    # After the flush new people have their ids, and attribute histories still say what changed.
    people: dict[int, str] = session.info.setdefault(_PEOPLE, {})
    units: set[int] = session.info.setdefault(_UNITS, set())
    for obj in session.new:
        if isinstance(obj, User):
            people[obj.id] = obj.username
    for obj in session.dirty:
        if isinstance(obj, User) and _has_changes(obj, PERSON_ATTRIBUTES):
            people[obj.id] = obj.username
        elif isinstance(obj, Department) and _has_changes(obj, DEPARTMENT_ATTRIBUTES):
            units.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, User):
            people[obj.id] = obj.username


@event.listens_for(Session, "before_commit")
def _record(session: Session) -> None:
    if not has_app_context() or TYPE not in content_types() or session is not db.session():
        return
    session.flush()  # what is not flushed yet is noticed too
    people: dict[int, str] = session.info.pop(_PEOPLE, {})
    units: set[int] = session.info.pop(_UNITS, set())
    if units:
        people.update(session.execute(select(User.id, User.username).where(
            User.department_id.in_(_with_sub_units(session, units)))).all())
    base = current_app.config["KNET"]["url"]
    for user_id, username in people.items():
        changed(TYPE, user_id, base + person_path(username))


def _with_sub_units(session: Session, units: set[int]) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in session.execute(select(Department.id, Department.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    found, stack = set(), list(units)
    while stack:
        unit_id = stack.pop()
        if unit_id not in found:
            found.add(unit_id)
            stack.extend(children.get(unit_id, []))
    return found


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PEOPLE, None)
    session.info.pop(_UNITS, None)
