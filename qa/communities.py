"""Communities of practice: creating and editing them, membership, and what their pages show.

A community's identity is its URI, ``{node url}/communities/{id}``: its name and the readable
address made from it (the slug) may change, the URI never does, so peers can keep pointing at it.
Services take the acting person and flush; the caller commits.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from auth.access import can_see, require_role, visible_clause
from auth.models import User
from knet import content, markup
from knet.db import as_utc, db, utcnow
from knet.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from knet.search import Filters, Hit, fold, search, viewer_of
from knet.search.indexing import node_index
from qa.models import Answer, Community, FormerSlug, Membership, Question
from qa.services import MAX_ID, UNSTORABLE

logger = logging.getLogger(__name__)

COMMUNITY_TYPE = "qa.community"
#: Who may read a community: never private, since a community is a shared space.
VISIBILITIES = ("internal", "network", "public")
ROLES = ("member", "moderator")
MIN_NAME = 2
MAX_NAME = 120
MAX_DESCRIPTION = 10_000
MAX_SLUG = 80
#: Words of the community's address that name pages of their own.
RESERVED_SLUGS = {"new"}
ACTIVITY_DAYS = 90
NO_SUCH_COMMUNITY = _l("There is no such community, or you may not see it.")
_SEPARATORS = re.compile(r"[^\w]+|_+")
_FINAL_SIGMA = re.compile(r"σ(?=-|$)")
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class CommunitySummary:
    """A community as lists show it: how many members and visible questions, and the viewer's place in it."""

    community: Community
    members: int
    questions: int
    membership: Membership | None


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True)
class Activity:
    """Questions and answers per day, oldest day first, ending today (in the node's time zone)."""

    days: list[DayCount]

    @property
    def total(self) -> int:
        return sum(day.count for day in self.days)

    @property
    def busiest(self) -> DayCount | None:
        """The day with the most (the latest of equal ones), or None when nothing happened."""
        if not self.total:
            return None
        return max(reversed(self.days), key=lambda day: day.count)


# Addresses ---------------------------------------------------------------------------------------

def slugify(name: str) -> str:
    """The readable address of a name: «Πολιτική Προστασία» → «πολιτικη-προστασια», as wiki pages' are."""
    slug = _SEPARATORS.sub("-", fold(name.strip())).strip("-")[:MAX_SLUG].rstrip("-")
    # fold writes every sigma as σ; a word still ends in ς, however the name was typed.
    return _FINAL_SIGMA.sub("ς", slug)


def community_uri(community_id: int) -> str:
    """The community's identity, which stays when its name (and so its slug) changes."""
    return f"{current_app.config['KNET']['url']}/communities/{community_id}"


# Reading ------------------------------------------------------------------------------------------

def get_community(actor: User | None, slug: str) -> Community:
    if UNSTORABLE.search(slug):  # no database could hold it (PostgreSQL refuses to compare it)
        raise NotFound(NO_SUCH_COMMUNITY)
    community = db.session.scalar(select(Community).where(Community.slug == slug))
    return _visible(actor, community)


def get_community_by_id(actor: User | None, community_id: int) -> Community:
    return _visible(actor, db.session.get(Community, community_id) if 0 < community_id <= MAX_ID else None)


def renamed(actor: User | None, slug: str) -> Community | None:
    """The community that had this address before it was renamed, if this person may see it."""
    if UNSTORABLE.search(slug) or slug in RESERVED_SLUGS:
        return None
    former = db.session.get(FormerSlug, slug)
    community = db.session.get(Community, former.community_id) if former is not None else None
    if community is None or not can_see(actor, community.visibility, None):
        return None
    return community


def _visible(actor: User | None, community: Community | None) -> Community:
    if community is None or not can_see(actor, community.visibility, None):
        raise NotFound(NO_SUCH_COMMUNITY)
    return community


def list_communities(actor: User | None, page: int = 1, per_page: int = 25) -> tuple[list[CommunitySummary], int]:
    """The communities this person may see, by name, with their member and question counts."""
    visible = visible_clause(actor, Community.visibility, Community.created_by_id)
    total = db.session.scalar(select(func.count()).select_from(Community).where(visible))
    communities = list(db.session.scalars(select(Community).where(visible).order_by(Community.name, Community.id)
                                          .offset((page - 1) * per_page).limit(per_page)))
    return _summaries(actor, communities), total


def summary(actor: User | None, community: Community) -> CommunitySummary:
    return _summaries(actor, [community])[0]


def _summaries(actor: User | None, communities: list[Community]) -> list[CommunitySummary]:
    ids = [community.id for community in communities]
    if not ids:
        return []
    members = dict(db.session.execute(select(Membership.community_id, func.count()).where(
        Membership.community_id.in_(ids)).group_by(Membership.community_id)).all())
    questions = dict(db.session.execute(select(Question.community_id, func.count()).where(
        Question.community_id.in_(ids), *_visible_questions(actor)).group_by(Question.community_id)).all())
    mine = {}
    if actor is not None:
        mine = {m.community_id: m for m in db.session.scalars(select(Membership).where(
            Membership.user_id == actor.id, Membership.community_id.in_(ids)))}
    return [CommunitySummary(c, members.get(c.id, 0), questions.get(c.id, 0), mine.get(c.id)) for c in communities]


def _visible_questions(actor: User | None) -> tuple:
    # Hidden questions count nowhere outside the moderators' pages.
    return visible_clause(actor, Question.visibility, Question.author_id), Question.hidden_at.is_(None)


def membership_of(actor: User | None, community: Community) -> Membership | None:
    if actor is None:
        return None
    return db.session.scalar(select(Membership).where(Membership.community_id == community.id,
                                                      Membership.user_id == actor.id))


def members(community: Community, limit: int = 100, offset: int = 0) -> list[Membership]:
    """Moderators first, then members, each by name."""
    role_order = (Membership.role != "moderator")
    return list(db.session.scalars(select(Membership).join(User, Membership.user_id == User.id)
                                   .where(Membership.community_id == community.id)
                                   .order_by(role_order, func.lower(func.coalesce(func.nullif(User.display_name, ""),
                                                                                  User.username)), User.id)
                                   .offset(offset).limit(limit)))


def list_members(actor: User | None, community: Community, page: int = 1,
                 per_page: int = 25) -> tuple[list[Membership], int]:
    """One page of a community's members (moderators first) and how many there are; like its page,
    it shows them only to people signed in who may see the community."""
    if actor is None:
        raise Unauthorized(_l("Sign in to see who belongs to a community."))
    _visible(actor, community)
    total = db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.community_id == community.id))
    return members(community, per_page, (page - 1) * per_page), total


def latest_questions(actor: User | None, community: Community, limit: int = 10) -> list[Question]:
    return list(db.session.scalars(select(Question).where(Question.community_id == community.id,
                                                          *_visible_questions(actor))
                                   .order_by(Question.created_at.desc(), Question.id.desc()).limit(limit)))


def unanswered_questions(actor: User | None, community: Community, limit: int = 10) -> list[Question]:
    """Open questions nobody has answered yet, newest first."""
    return list(db.session.scalars(select(Question).where(
        Question.community_id == community.id, Question.answer_count == 0, Question.closed_at.is_(None),
        *_visible_questions(actor)).order_by(Question.created_at.desc(), Question.id.desc()).limit(limit)))


def key_pages(actor: User | None, community: Community, limit: int = 5) -> list[Hit]:
    """Wiki pages the node's search finds for the community's name or its questions' commonest tags.

    The wiki is another feature package, so pages are found through the search index (as this
    person may see them), never through the wiki's tables."""
    words = " ".join(_WORDS.findall(community.name.lower()))
    if not words:
        return []
    # Lower-cased words and quoted tags: nothing in them reads as AND/OR/NOT or another operator.
    text = " OR ".join([f"({words})", *(f'"{" ".join(_WORDS.findall(tag.lower()))}"'
                                        for tag in _common_tags(actor, community) if _WORDS.search(tag))])
    viewer = viewer_of(actor)
    return search(node_index(), text, viewer=viewer, per_page=limit, filters=Filters(type="page"),
                  suggest=False).hits


def _common_tags(actor: User | None, community: Community, limit: int = 3) -> list[str]:
    questions = db.session.scalars(select(Question).where(Question.community_id == community.id,
                                                          *_visible_questions(actor))
                                   .order_by(Question.created_at.desc()).limit(200))
    counts: dict[str, int] = {}
    for question in questions:
        for name in question.tag_names:
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda name: (-counts[name], name))[:limit]


def activity(community: Community, days: int = ACTIVITY_DAYS, *, actor: User | None = None) -> Activity:
    """Questions and answers per day over the last ``days`` days (today included), as ``actor``
    may see them (anonymous: public questions only); hidden ones do not count."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC"))
    today = utcnow().astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), zone)
    asked = select(Question.created_at).where(Question.community_id == community.id, Question.created_at >= since,
                                              *_visible_questions(actor))
    answered = (select(Answer.created_at).join(Question, Answer.question_id == Question.id)
                .where(Question.community_id == community.id, Answer.created_at >= since,
                       Answer.hidden_at.is_(None), *_visible_questions(actor)))
    counts: dict[date, int] = {}
    for moment in [*db.session.scalars(asked), *db.session.scalars(answered)]:
        day = as_utc(moment).astimezone(zone).date()
        counts[day] = counts.get(day, 0) + 1
    return Activity([DayCount(first + timedelta(days=n), counts.get(first + timedelta(days=n), 0))
                     for n in range(days)])


def may_manage(actor: User | None, community: Community) -> bool:
    """Whether this person may edit the community and its members' roles: its moderators and the node's."""
    if actor is None:
        return False
    if actor.has_role("moderator"):
        return True
    membership = membership_of(actor, community)
    return membership is not None and membership.role == "moderator"


# Writing ------------------------------------------------------------------------------------------

def create_community(actor: User | None, name: str, description: str = "", visibility: str = "internal") -> Community:
    """Create a community (the node's moderators and administrators); its creator becomes its moderator."""
    require_role(actor, "moderator")
    name, slug = _validate_name(name)
    description, visibility = _validate_description(description), _validate_visibility(visibility)
    _unique(slug)
    _take_over(slug)
    community = Community(slug=slug, name=name, description=description, description_html=markup.render(description),
                          visibility=visibility, created_by_id=actor.id)
    community.memberships.append(Membership(user=actor, role="moderator", following=True))
    db.session.add(community)
    db.session.flush()
    _changed(community)
    logger.info("%s created community %d (%s)", actor.username, community.id, slug)
    return community


def update_community(actor: User | None, community: Community, name: str, description: str,
                     visibility: str) -> Community:
    """Change a community's name, description or visibility (its moderators, or the node's); its old
    address then leads to the new one."""
    require_manager(actor, community)
    name, slug = _validate_name(name)
    description, visibility = _validate_description(description), _validate_visibility(visibility)
    _unique(slug, community)
    if slug != community.slug:
        _take_over(slug)
        if community.slug not in RESERVED_SLUGS:  # a word reserved since then leads to its own page
            db.session.add(FormerSlug(slug=community.slug, community_id=community.id))
    community.name, community.slug, community.visibility = name, slug, visibility
    community.description, community.description_html = description, markup.render(description)
    db.session.flush()
    _changed(community)
    logger.info("%s updated community %d (%s)", actor.username, community.id, slug)
    return community


def join(actor: User | None, community: Community, following: bool = True) -> tuple[Membership, bool]:
    """Join a community as a member (anyone signed in who may see it); joining again changes nothing.
    Returns the membership and whether it is new."""
    _signed_in(actor)
    _visible(actor, community)
    existing = membership_of(actor, community)
    if existing is not None:
        return existing, False
    membership = Membership(community=community, user=actor, role="member", following=bool(following))
    db.session.add(membership)
    db.session.flush()
    logger.info("%s joined community %d", actor.username, community.id)
    return membership, True


def leave(actor: User | None, community: Community) -> None:
    """Leave a community; its last moderator must first make someone else a moderator."""
    _signed_in(actor)
    membership = membership_of(actor, community)
    if membership is None:
        return
    if membership.role == "moderator" and _moderator_count(community) == 1:
        raise Conflict(_l("You are the only moderator of “%(name)s”: make another member a moderator before "
                          "you leave, so that someone still looks after it.", name=community.name))
    db.session.delete(membership)
    db.session.flush()
    logger.info("%s left community %d", actor.username, community.id)


def follow(actor: User | None, community: Community, following: bool = True) -> Membership:
    """Follow (or stop following) a community's new questions; only members do."""
    _signed_in(actor)
    membership = membership_of(actor, community)
    if membership is None:
        raise Conflict(_l("Join “%(name)s” first: members follow a community.", name=community.name))
    membership.following = bool(following)
    db.session.flush()
    return membership


def set_role(actor: User | None, community: Community, member: User, role: str) -> Membership:
    """Make a member a moderator of the community, or a moderator a member again (its moderators, or the node's)."""
    require_manager(actor, community)
    if role not in ROLES:
        raise Invalid(_l("The role must be one of %(choices)s.", choices=", ".join(ROLES)), field="role")
    membership = membership_of(member, community)
    if membership is None:
        raise NotFound(_l("%(name)s is not a member of this community.", name=member.name))
    if membership.role == "moderator" and role == "member" and _moderator_count(community) == 1:
        raise Conflict(_l("“%(name)s” needs at least one moderator: make someone else a moderator first.",
                          name=community.name))
    membership.role = role
    db.session.flush()
    logger.info("%s made %s a %s of community %d", actor.username, member.username, role, community.id)
    return membership


# Rules shared by the operations ------------------------------------------------------------------

def _signed_in(actor: User | None) -> None:
    if actor is None:
        raise Unauthorized(_l("Sign in to join communities."))


def require_manager(actor: User | None, community: Community) -> None:
    """Refuse (401 or 403, saying why) anyone who may not manage the community."""
    _signed_in(actor)
    _visible(actor, community)
    if not may_manage(actor, community):
        raise Forbidden(_l("Only the moderators of “%(name)s”, or the node's moderators, may do this.",
                           name=community.name))


def _moderator_count(community: Community) -> int:
    return db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.community_id == community.id, Membership.role == "moderator"))


def _check_text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise Invalid(_l("This field must be text."), field=field)
    if UNSTORABLE.search(value):
        raise Invalid(_l("The text contains a character that cannot be stored (NUL or an unpaired surrogate)."),
                      field=field)
    return value


def _validate_name(name: object) -> tuple[str, str]:
    name = " ".join(_check_text(name, "name").split())
    if not MIN_NAME <= len(name) <= MAX_NAME:
        raise Invalid(_l("A community's name has between %(min)d and %(max)d characters.", min=MIN_NAME,
                         max=MAX_NAME), field="name")
    slug = slugify(name)
    if not slug or slug.isdigit() or slug in RESERVED_SLUGS:
        raise Invalid(_l("The name needs at least one letter (and may not be “%(reserved)s”), so that the "
                         "community's address is not taken for something else.",
                         reserved=", ".join(sorted(RESERVED_SLUGS))), field="name")
    return name, slug


def _validate_description(description: object) -> str:
    description = _check_text(description, "description").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(_l("The description is longer than %(max)d characters.", max=MAX_DESCRIPTION),
                      field="description")
    return description


def _validate_visibility(visibility: object) -> str:
    if visibility not in VISIBILITIES:
        raise Invalid(_l("The visibility must be one of %(choices)s.", choices=", ".join(VISIBILITIES)),
                      field="visibility")
    return visibility


def _unique(slug: str, community: Community | None = None) -> None:
    existing = db.session.scalar(select(Community).where(Community.slug == slug))
    if existing is not None and existing is not community:
        raise Conflict(_l("A community with this name already exists (its address is “%(slug)s”): join it, or "
                          "choose another name.", slug=slug), field="name", url=f"/communities/{slug}")


def _take_over(slug: str) -> None:
    """A community that takes an address another one had before a rename (or its own, back) is what
    the address leads to from now on."""
    db.session.execute(delete(FormerSlug).where(FormerSlug.slug == slug))


def _changed(community: Community) -> None:
    """Tell the rest of the node (the search index now, peers later) that a community changed."""
    content.changed(COMMUNITY_TYPE, community.id, community_uri(community.id))
