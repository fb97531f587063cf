"""People as the rest of the node sees them: a profile is a search document of type ``person``."""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app
from flask_babel import force_locale, lazy_gettext as _l
from sqlalchemy import select

from auth.models import User
from knet.config import LANGUAGES as INTERFACE_LANGUAGES
from knet.content import ContentType
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
    if user is None or not user.active:
        return None
    department = " › ".join(unit.name for unit in user.department.path) if user.department else ""
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


def indexable_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.active.is_(True)).order_by(User.id)))


CONTENT_TYPE = ContentType(TYPE, search_document, indexable_ids)
