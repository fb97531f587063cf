"""Communities of practice (qa/communities.py): the services, the pages and /api/v1/communities."""
from __future__ import annotations

import html
import json
import re
import unicodedata
from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from flask_babel import force_locale

from knet import jobs
from knet.db import db, utcnow
from knet.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from qa import communities, moderation
from qa.communities import slugify
from qa.models import Community, Membership
from tests.forms import csrf_token

ATHENS = ZoneInfo("Europe/Athens")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "data", "cite",
                  "srcset"}
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Zs"}


@pytest.fixture
def people(make_user):
    return {"mod": make_user("mod", role="moderator"), "maria": make_user("maria", role="reader"),
            "nikos": make_user("nikos", role="reader"), "editor": make_user("editor", role="editor")}


@pytest.fixture
def make_community(app):
    def make(actor, name: str = "Προμήθειες", description: str = "Για όσους κάνουν **διαγωνισμούς**.",
             visibility: str = "internal") -> Community:
        community = communities.create_community(actor, name, description, visibility)
        db.session.commit()
        return community

    return make


def english(exc_info) -> str:
    with force_locale("en"):
        return exc_info.value.message


def text(response) -> str:
    return response.get_data(as_text=True)


def english_client(client):
    client.set_cookie("knet_lang", "en")
    return client


# Creating and editing -----------------------------------------------------------------------------

def test_a_moderator_creates_a_community_and_becomes_its_moderator(app, people, make_community):
    community = make_community(people["mod"], "Πολιτική Προστασία")
    assert community.slug == "πολιτικη-προστασια"
    assert communities.community_uri(community.id) == f"http://127.0.0.1:5000/communities/{community.id}"
    [membership] = community.memberships
    assert (membership.user, membership.role, membership.following) == (people["mod"], "moderator", True)
    assert "<strong>διαγωνισμούς</strong>" in community.description_html


def test_slugs_read_like_the_wikis():
    assert slugify("  ΔΗΜΟΣ Αθηναίων ") == "δημος-αθηναιων"
    assert slugify("GIS & χαρτογράφηση") == "gis-χαρτογραφηση"


def test_only_moderators_create_communities(app, people):
    with pytest.raises(Forbidden) as refused:
        communities.create_community(people["editor"], "GIS")
    assert "Moderator" in english(refused)
    with pytest.raises(Unauthorized):
        communities.create_community(None, "GIS")


def test_a_duplicate_name_is_a_conflict_whatever_its_case_or_accents(app, people, make_community):
    make_community(people["mod"], "Προμήθειες")
    with pytest.raises(Conflict) as refused:
        communities.create_community(people["mod"], "  ΠΡΟΜΗΘΕΙΕΣ ")
    assert "already exists" in english(refused)


@pytest.mark.parametrize("name, visibility, says", [
    ("Χ", "internal", "between 2 and 120"),
    ("x" * 121, "internal", "between 2 and 120"),
    ("112", "internal", "at least one letter"),
    ("New", "internal", "at least one letter"),
    ("--", "internal", "at least one letter"),
    ("GIS\x00", "internal", "cannot be stored"),
    ("GIS", "private", "must be one of internal, network, public"),
])
def test_a_bad_community_is_refused_with_the_field_named(app, people, name, visibility, says):
    with pytest.raises(Invalid) as refused:
        communities.create_community(people["mod"], name, "", visibility)
    assert says in english(refused)
    assert db.session.query(Community).count() == 0


def test_community_moderators_and_node_moderators_edit_others_do_not(app, people, make_community):
    community = make_community(people["mod"])
    communities.join(people["maria"], community)
    with pytest.raises(Forbidden):
        communities.update_community(people["maria"], community, "Άλλο", "", "internal")
    communities.set_role(people["mod"], community, people["maria"], "moderator")
    communities.update_community(people["maria"], community, "Δημόσιες προμήθειες", "Νέα περιγραφή", "public")
    assert (community.slug, community.visibility) == ("δημοσιες-προμηθειες", "public")


def test_the_uri_stays_when_the_name_changes(app, people, make_community, client):
    community = make_community(people["mod"], "GIS", visibility="public")
    uri = communities.community_uri(community.id)
    communities.update_community(people["mod"], community, "Γεωγραφικά συστήματα", "", "public")
    db.session.commit()
    assert communities.community_uri(community.id) == uri
    moved = client.get(f"/communities/{community.id}")
    assert moved.status_code == 302
    assert unquote(moved.headers["Location"]).endswith("/communities/γεωγραφικα-συστηματα")
    old = client.get("/communities/gis")  # the old address leads on, for good
    assert old.status_code == 301 and old.headers["Location"] == moved.headers["Location"]
    assert client.get(f"/api/v1/communities/{community.id}").json["uri"] == uri
    page = text(client.get(moved.headers["Location"]))
    assert uri in page


# Membership ---------------------------------------------------------------------------------------

def test_join_follow_and_leave(app, people, make_community):
    community = make_community(people["mod"])
    membership, created = communities.join(people["maria"], community)
    assert created and (membership.role, membership.following) == ("member", True)
    assert communities.join(people["maria"], community) == (membership, False)
    communities.follow(people["maria"], community, False)
    assert membership.following is False
    communities.leave(people["maria"], community)
    assert communities.membership_of(people["maria"], community) is None
    with pytest.raises(Conflict) as refused:
        communities.follow(people["maria"], community)
    assert "Join" in english(refused)
    with pytest.raises(Unauthorized):
        communities.join(None, community)


def test_the_last_moderator_cannot_leave_without_handing_over(app, people, make_community):
    community = make_community(people["mod"])
    with pytest.raises(Conflict) as refused:
        communities.leave(people["mod"], community)
    assert "only moderator" in english(refused) and "make another member a moderator" in english(refused)
    communities.join(people["maria"], community)
    with pytest.raises(Forbidden):
        communities.set_role(people["maria"], community, people["maria"], "moderator")
    with pytest.raises(Conflict):
        communities.set_role(people["mod"], community, people["mod"], "member")
    communities.set_role(people["mod"], community, people["maria"], "moderator")
    communities.leave(people["mod"], community)
    assert [(m.user.username, m.role) for m in communities.members(community)] == [("maria", "moderator")]
    with pytest.raises(Invalid):
        communities.set_role(people["maria"], community, people["maria"], "owner")
    with pytest.raises(NotFound):
        communities.set_role(people["maria"], community, people["nikos"], "moderator")


def test_joining_leaving_and_following_through_the_page(app, people, make_community, sign_in):
    community = make_community(people["mod"], visibility="internal")
    client = english_client(sign_in(people["maria"]))
    page = text(client.get(f"/communities/{community.slug}"))
    assert "Join this community" in page and f"/questions/ask?community={community.id}" in page
    joined = client.post(f"/communities/{community.id}/join", data={"csrf_token": csrf_token(page)})
    assert joined.status_code == 302
    page = text(client.get(joined.headers["Location"]))
    assert "You joined" in page and "Leave this community" in page and "Stop following" in page
    assert client.post(f"/communities/{community.id}/unfollow",
                       data={"csrf_token": csrf_token(page)}).status_code == 302
    assert communities.membership_of(people["maria"], community).following is False
    page = text(client.get(f"/communities/{community.slug}"))
    assert "Follow new questions" in page
    assert client.post(f"/communities/{community.id}/follow", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert client.post(f"/communities/{community.id}/leave", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert communities.membership_of(people["maria"], community) is None
    assert client.post(f"/communities/{community.id}/join", data={}).status_code == 400  # no CSRF token


def test_the_last_moderator_is_told_why_on_the_page(app, people, make_community, sign_in):
    community = make_community(people["mod"])
    client = english_client(sign_in(people["mod"]))
    page = text(client.get(f"/communities/{community.slug}"))
    refused = client.post(f"/communities/{community.id}/leave", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 409
    assert 'role="alert"' in text(refused) and "You are the only moderator" in text(refused)
    communities.join(people["maria"], community)
    db.session.commit()
    page = text(client.get(f"/communities/{community.slug}"))
    assert "Make moderator" in page
    made = client.post(f"/communities/{community.id}/members/maria/role",
                       data={"csrf_token": csrf_token(page), "role": "moderator"})
    assert made.status_code == 302
    assert communities.membership_of(people["maria"], community).role == "moderator"


def test_anonymous_visitors_are_asked_to_sign_in_to_join(app, people, make_community, client):
    community = make_community(people["mod"], visibility="public")
    page = english_client(client).get(f"/communities/{community.slug}")
    assert page.status_code == 200 and "Sign in to join this community" in text(page)
    assert "/questions/ask" not in text(page)
    assert "/people/mod" not in text(page)  # members are shown to staff only
    assert client.post(f"/communities/{community.id}/join").status_code in (302, 400)


def test_creating_and_editing_through_the_forms(app, people, make_community, sign_in):
    client = english_client(sign_in(people["mod"]))
    form = text(client.get("/communities/new"))
    created = client.post("/communities/new", data={"csrf_token": csrf_token(form), "name": "GIS",
                                                    "description": "Χάρτες", "visibility": "internal"})
    assert created.status_code == 302 and unquote(created.headers["Location"]).endswith("/communities/gis")
    again = client.post("/communities/new", data={"csrf_token": csrf_token(form), "name": "gis",
                                                  "description": "", "visibility": "internal"})
    assert again.status_code == 409
    assert "already exists" in text(again) and 'href="/communities/gis"' in text(again)
    form = text(client.get("/communities/gis/edit"))
    saved = client.post("/communities/gis/edit", data={"csrf_token": csrf_token(form), "name": "GIS και χάρτες",
                                                       "description": "Νέα", "visibility": "public"})
    assert saved.status_code == 302 and unquote(saved.headers["Location"]).endswith("/communities/gis-και-χαρτες")
    reader = english_client(sign_in(people["maria"]))
    assert reader.get("/communities/new").status_code == 403
    assert reader.get("/communities/gis-και-χαρτες/edit").status_code == 403


# Visibility ---------------------------------------------------------------------------------------

def test_visibility_of_communities_and_their_questions(app, people, make_community, make_question, client,
                                                       sign_in):
    internal = make_community(people["mod"], "Εσωτερική κοινότητα", visibility="internal")
    public = make_community(people["mod"], "Ανοιχτή κοινότητα", visibility="public")
    make_question(people["maria"], title="Δημόσια ερώτηση για όλους", visibility="public", community_id=public.id)
    make_question(people["maria"], title="Εσωτερική ερώτηση προσωπικού", visibility="internal",
                  community_id=public.id)
    make_question(people["maria"], title="Ιδιωτική ερώτηση της Μαρίας", visibility="private",
                  community_id=public.id)
    hidden = make_question(people["nikos"], title="Κρυμμένη ερώτηση από συντονιστή", visibility="public",
                           community_id=public.id)
    moderation.hide(people["mod"], "question", hidden.id, "ανεπιθύμητο")
    db.session.commit()

    assert client.get(f"/communities/{internal.slug}").status_code == 404
    assert client.get(f"/communities/{internal.id}").status_code == 404
    assert client.get(f"/api/v1/communities/{internal.id}").status_code == 404
    assert "Εσωτερική κοινότητα" not in text(client.get("/communities"))
    page = text(client.get(f"/communities/{public.slug}"))
    assert "Δημόσια ερώτηση" in page
    assert not {"Εσωτερική ερώτηση", "Ιδιωτική ερώτηση", "Κρυμμένη ερώτηση"} & set(re.findall(r"\w+ ερώτηση", page))

    listed, total = communities.list_communities(None)
    assert total == 1 and [(s.community.name, s.questions) for s in listed] == [("Ανοιχτή κοινότητα", 1)]
    listed, total = communities.list_communities(people["nikos"])
    assert total == 2 and {s.community.name: s.questions for s in listed}["Ανοιχτή κοινότητα"] == 2
    assert {s.community.name: s.questions for s in communities.list_communities(people["maria"])[0]}[
        "Ανοιχτή κοινότητα"] == 3

    page = text(sign_in(people["nikos"]).get(f"/communities/{public.slug}"))
    assert "Εσωτερική ερώτηση" in page and "Ιδιωτική ερώτηση" not in page and "Κρυμμένη ερώτηση" not in page


def test_latest_and_unanswered_questions(app, people, make_community, make_question, make_answer):
    community = make_community(people["mod"])
    first = make_question(people["maria"], title="Πρώτη ερώτηση για τους διαγωνισμούς", community_id=community.id)
    second = make_question(people["maria"], title="Δεύτερη ερώτηση για τις συμβάσεις", community_id=community.id)
    make_question(people["maria"], title="Ερώτηση χωρίς κοινότητα καθόλου")
    make_answer(people["nikos"], first)
    assert [q.id for q in communities.latest_questions(people["nikos"], community)] == [second.id, first.id]
    assert [q.id for q in communities.unanswered_questions(people["nikos"], community)] == [second.id]


def test_key_wiki_pages_come_from_search_as_the_viewer_may_see_them(app, people, make_community, make_page,
                                                                    make_question, client):
    community = make_community(people["mod"], "Προμήθειες", visibility="public")
    make_page(people["editor"], "Οδηγός προμηθειών", "Πώς γίνονται οι προμήθειες του δήμου.", visibility="public")
    make_page(people["editor"], "Εσωτερικές οδηγίες", "Προμήθειες: εσωτερική διαδικασία.", visibility="internal")
    make_page(people["editor"], "Χάρτες", "Για το ΕΣΗΔΗΣ.", visibility="public", tags=["ΕΣΗΔΗΣ"])
    make_page(people["editor"], "Άσχετη σελίδα", "Τίποτα κοινό.", visibility="public")
    make_question(people["maria"], title="Πώς μπαίνω στο ΕΣΗΔΗΣ σήμερα;", visibility="public", tags=["ΕΣΗΔΗΣ"],
                  community_id=community.id)
    jobs.run_pending()
    assert {hit.title for hit in communities.key_pages(None, community)} == {"Οδηγός προμηθειών", "Χάρτες"}
    assert {hit.title for hit in communities.key_pages(people["nikos"], community)} == {
        "Οδηγός προμηθειών", "Εσωτερικές οδηγίες", "Χάρτες"}
    page = text(client.get(f"/communities/{community.slug}"))
    assert "Οδηγός προμηθειών" in page and "Εσωτερικές οδηγίες" not in page and "Άσχετη σελίδα" not in page
    assert re.search(r'href="/pages/\d+"', page)


def test_communities_are_found_by_search(app, people, make_community, client):
    make_community(people["mod"], "Πολιτική Προστασία", "Σεισμοί, πλημμύρες και πυρκαγιές.", visibility="public")
    make_community(people["mod"], "Κρυφή ομάδα", "Πυρκαγιές εσωτερικά.", visibility="internal")
    jobs.run_pending()
    found = client.get("/api/v1/search?q=πυρκαγιες&type=community").json
    assert [hit["title"] for hit in found["results"]] == ["Πολιτική Προστασία"]


# Activity ---------------------------------------------------------------------------------------

def _days_ago(days: int) -> datetime:
    """Noon, Athens time, so many days ago (never near a day's edge)."""
    today = utcnow().astimezone(ATHENS).date()
    return datetime.combine(today - timedelta(days=days), time(12), ATHENS)


def test_activity_counts_questions_and_answers_per_day(app, people, make_community, make_question, make_answer,
                                                       client):
    community = make_community(people["mod"], "GIS", visibility="public")
    old = make_question(people["maria"], title="Παλιά ερώτηση πριν από μήνες", visibility="public",
                        community_id=community.id)
    busy = make_question(people["maria"], title="Ερώτηση της πολυάσχολης μέρας", visibility="public",
                         community_id=community.id)
    replies = [make_answer(people["nikos"], busy), make_answer(people["mod"], busy)]
    recent = make_question(people["maria"], title="Ερώτηση από σήμερα το πρωί", visibility="public",
                           community_id=community.id)
    internal = make_question(people["maria"], title="Εσωτερική ερώτηση, μόνο προσωπικό", visibility="internal",
                             community_id=community.id)
    old.created_at = _days_ago(120)
    busy.created_at, replies[0].created_at, replies[1].created_at = _days_ago(5), _days_ago(5), _days_ago(5)
    recent.created_at = internal.created_at = _days_ago(0)
    db.session.commit()

    seen = communities.activity(community)  # as an anonymous visitor: public questions only
    assert len(seen.days) == 90 and seen.days[-1].day == _days_ago(0).date()
    assert seen.total == 4 and {d.day: d.count for d in seen.days if d.count} == {
        _days_ago(5).date(): 3, _days_ago(0).date(): 1}
    assert seen.busiest.day == _days_ago(5).date()
    assert communities.activity(community, actor=people["nikos"]).total == 5
    assert communities.activity(community, days=7).days[0].day == _days_ago(6).date()

    page = text(english_client(client).get(f"/communities/{community.slug}"))
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and "aria-labelledby" in svg and "<polyline" in svg
    busiest = format_date(_days_ago(5).date(), "d MMMM", locale="en")
    summary = f"4 questions and answers in the last 90 days; busiest day {busiest} (3)."
    assert re.search(r'<desc id="activity-desc">(.*?)</desc>', svg).group(1) == summary
    assert "<title" in svg and "script" not in svg
    points = re.search(r'points="([^"]+)"', svg).group(1).split()
    assert len(points) == 90
    heights = [float(point.split(",")[1]) for point in points]
    assert heights.index(min(heights)) == 90 - 1 - 5  # the busiest day is the highest point


def test_a_quiet_community_says_so(app, people, make_community, client):
    community = make_community(people["mod"], "GIS", visibility="public")
    page = text(english_client(client).get(f"/communities/{community.slug}"))
    assert "No questions or answers in the last 90 days." in page
    assert "<circle" not in page


# The list ---------------------------------------------------------------------------------------

def test_the_list_shows_counts_and_my_membership(app, people, make_community, make_question, sign_in):
    community = make_community(people["mod"], "Προμήθειες")
    make_community(people["mod"], "GIS")
    communities.join(people["maria"], community)
    make_question(people["maria"], title="Ερώτηση για τις προμήθειες", community_id=community.id)
    db.session.commit()
    listed, total = communities.list_communities(people["maria"])
    assert [(s.community.name, s.members, s.questions, bool(s.membership)) for s in listed] == [
        ("GIS", 1, 0, False), ("Προμήθειες", 2, 1, True)]
    page = text(english_client(sign_in(people["maria"])).get("/communities"))
    assert "2 communities you can see." in page and "2 members" in page and "You are a member" in page
    assert "Create a community" not in page


# Cross-site scripting ----------------------------------------------------------------------------

class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]], str]] = []
        self._script: list | None = None

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs, ""))
        if tag == "script":
            self._script = [tag, attrs, ""]

    def handle_data(self, data):
        if self._script is not None:
            self._script[2] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.found.append(tuple(self._script))
            self._script = None


def _scheme(value: str) -> str:
    previous = None
    while previous != value:
        previous, value = value, html.unescape(value)
    compact = "".join(ch for ch in value if not (ch.isspace() or unicodedata.category(ch) in _INVISIBLE)).lower()
    return compact.split(":", 1)[0] if ":" in compact else ""


def dangers(page: str) -> list[str]:
    """Script the page did not ship itself, event handlers, and javascript: or vbscript: addresses."""
    parser = _Elements()
    parser.feed(page)
    parser.close()
    found = []
    for tag, attrs, content in parser.found:
        values = dict(attrs)
        if tag == "script" and (content.strip() or not (values.get("src") or "").startswith("/static/")):
            found.append(f"<script {values}>{content[:40]}")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if name in URL_ATTRIBUTES and value and _scheme(value) in ("javascript", "vbscript"):
                found.append(f"<{tag} {name}={value!r}>")
    return found


def _payloads(corpus) -> list[str]:
    payloads = []
    for name in ("xss_payloads.json", "markdown_xss_payloads.json"):
        payloads += [entry["payload"] for entry in json.loads((corpus / "xss" / name).read_text(encoding="utf-8"))]
    return payloads


@pytest.mark.corpus_pages
def test_no_xss_payload_runs_through_a_name_or_a_description(app, people, corpus, sign_in):
    client = sign_in(people["mod"])
    assert dangers('<a href="jav&#x09;ascript:x">') and dangers("<img src=x onerror=alert(1)>")
    assert dangers("<script>alert(1)</script>") and not dangers('<script src="/static/knet.js"></script>')
    payloads = _payloads(corpus)
    assert len(payloads) > 700
    created = []
    for number, payload in enumerate(payloads):
        name = " ".join(f"Κ{number} {payload}".split())[:communities.MAX_NAME]
        community = communities.create_community(people["mod"], name, payload, "public")
        created.append(community)
    db.session.commit()
    for community in created:
        page = client.get(f"/communities/{community.slug}")
        assert page.status_code == 200, community.name
        assert dangers(text(page)) == [], community.description
        assert dangers(community.description_html) == []
    for number in range(1, len(created) // 25 + 2):
        listing = client.get(f"/communities?page={number}")
        assert dangers(text(listing)) == []
    api = client.get("/api/v1/communities?per_page=100")
    assert api.status_code == 200 and all(not dangers(c["description_html"]) for c in api.json["communities"])


# The API ------------------------------------------------------------------------------------------

def test_api_create_list_and_get(app, people, make_token, client):
    moderator = make_token(people["mod"], "write")
    created = client.post("/api/v1/communities", json={"name": "Πολιτική Προστασία", "description": "*Σεισμοί*",
                                                       "visibility": "public"}, headers=moderator)
    assert created.status_code == 201, created.json
    body = created.json
    assert created.headers["Location"].endswith(f"/api/v1/communities/{body['id']}")
    assert body["uri"] == f"http://127.0.0.1:5000/communities/{body['id']}"
    assert (body["slug"], body["members"], body["questions"]) == ("πολιτικη-προστασια", 1, 0)
    assert body["membership"]["role"] == "moderator" and body["description_html"] == "<p><em>Σεισμοί</em></p>"
    assert unquote(body["url"]) == "/communities/πολιτικη-προστασια"

    duplicate = client.post("/api/v1/communities", json={"name": "ΠΟΛΙΤΙΚΗ ΠΡΟΣΤΑΣΙΑ"}, headers=moderator)
    assert duplicate.status_code == 409 and duplicate.mimetype == "application/problem+json"
    assert duplicate.json["detail"].endswith(".") and duplicate.json["field"] == "name"

    reader = client.post("/api/v1/communities", json={"name": "GIS"}, headers=make_token(people["maria"], "write"))
    assert reader.status_code == 403 and reader.mimetype == "application/problem+json"
    assert client.post("/api/v1/communities", json={"name": "GIS"}).status_code == 401
    bad = client.post("/api/v1/communities", json={"name": "GIS", "colour": "red"}, headers=moderator)
    assert bad.status_code == 400 and "colour" in bad.json["detail"]
    private = client.post("/api/v1/communities", json={"name": "GIS", "visibility": "private"}, headers=moderator)
    assert private.status_code == 400 and private.json["field"] == "visibility"

    listed = client.get("/api/v1/communities").json
    assert listed["total"] == 1 and listed["communities"][0]["membership"] is None
    mine = client.get(f"/api/v1/communities/{body['id']}", headers=make_token(people["mod"], "read")).json
    assert mine["membership"]["role"] == "moderator"
    assert client.get("/api/v1/communities/999").status_code == 404


def test_api_membership(app, people, make_token, make_community, client):
    community = make_community(people["mod"])
    maria = make_token(people["maria"], "write")
    address = f"/api/v1/communities/{community.id}/membership"
    joined = client.post(address, headers=maria)
    assert joined.status_code == 201 and joined.json["role"] == "member" and joined.json["following"] is True
    again = client.post(address, json={"following": False}, headers=maria)
    assert again.status_code == 200 and again.json["following"] is False
    assert client.post(address, json={"following": "yes"}, headers=maria).status_code == 400
    got = client.get(f"/api/v1/communities/{community.id}", headers=maria).json
    assert got["members"] == 2 and got["membership"]["following"] is False
    assert client.delete(address, headers=maria).status_code == 204
    assert db.session.query(Membership).filter_by(user_id=people["maria"].id).count() == 0

    last = client.delete(address, headers={**make_token(people["mod"], "write"), "Accept-Language": "en"})
    assert last.status_code == 409 and last.mimetype == "application/problem+json"
    assert "only moderator" in last.json["detail"]
    assert client.post(address, headers=make_token(people["maria"], "read")).status_code == 403
    assert client.post(address).status_code == 401
    assert client.get(f"/api/v1/communities/{community.id}").status_code == 404  # internal, anonymous
