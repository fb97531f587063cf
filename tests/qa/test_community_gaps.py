"""Communities: old addresses after a rename (qa.models.FormerSlug), and /api/v1/communities/<id> changed
with PATCH and its members listed."""
from __future__ import annotations

from urllib.parse import quote, unquote

import pytest
from flask_babel import force_locale

from knet.db import db
from knet.errors import Unauthorized
from qa import communities
from qa.models import Community, FormerSlug
from tests.forms import csrf_token


@pytest.fixture
def people(make_user):
    return {"mod": make_user("mod", role="moderator"), "maria": make_user("maria", role="reader"),
            "nikos": make_user("nikos", role="reader")}


@pytest.fixture
def make_community(app):
    def make(actor, name: str = "GIS", visibility: str = "public", description: str = "Χάρτες.") -> Community:
        community = communities.create_community(actor, name, description, visibility)
        db.session.commit()
        return community

    return make


def rename(actor, community: Community, name: str) -> None:
    communities.update_community(actor, community, name, community.description, community.visibility)
    db.session.commit()


def former_slugs() -> dict[str, int]:
    return {former.slug: former.community_id for former in db.session.query(FormerSlug)}


def path(slug: str, rest: str = "") -> str:
    return f"/communities/{quote(slug)}{rest}"


def location(response) -> str:
    return unquote(response.headers["Location"])


# Old addresses ------------------------------------------------------------------------------------

def test_an_old_address_leads_for_good_to_the_new_one(app, people, make_community, client):
    community = make_community(people["mod"], "GIS")
    rename(people["mod"], community, "Γεωγραφικά συστήματα")
    assert former_slugs() == {"gis": community.id}

    moved = client.get("/communities/gis")
    assert moved.status_code == 301 and location(moved) == "/communities/γεωγραφικα-συστηματα"
    page = client.get(moved.headers["Location"])
    assert page.status_code == 200 and "Γεωγραφικά συστήματα" in page.get_data(as_text=True)
    assert client.head("/communities/gis").status_code == 301


def test_the_query_string_is_kept_as_it_came(app, people, make_community, client):
    community = make_community(people["mod"], "GIS")
    rename(people["mod"], community, "Χάρτες")
    moved = client.get("/communities/gis?page=2&q=%CE%B1+%CE%B2&tag=a&tag=b")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{path('χαρτες')}?page=2&q=%CE%B1+%CE%B2&tag=a&tag=b"
    # A browser may send letters unencoded (WSGI gives them as Latin-1): they arrive as UTF-8.
    raw = client.get("/communities/gis", environ_overrides={"QUERY_STRING": "q=α".encode().decode("latin-1")})
    assert raw.status_code == 301 and raw.headers["Location"] == f"{path('χαρτες')}?q=%CE%B1"
    bare = client.get("/communities/gis?")
    assert bare.status_code == 301 and bare.headers["Location"] == path("χαρτες")


def test_sub_pages_move_too_and_a_form_sent_to_the_old_address_is_sent_on(app, people, make_community, sign_in):
    community = make_community(people["mod"], "GIS")
    rename(people["mod"], community, "Χάρτες")
    client = sign_in(people["mod"])
    moved = client.get("/communities/gis/edit?from=list")
    assert moved.status_code == 301 and location(moved) == "/communities/χαρτες/edit?from=list"
    form = client.get(moved.headers["Location"]).get_data(as_text=True)
    sent = client.post("/communities/gis/edit", data={"csrf_token": csrf_token(form), "name": "Χάρτες και GIS",
                                                      "description": "", "visibility": "public"})
    assert sent.status_code == 308 and location(sent) == "/communities/χαρτες/edit"
    assert db.session.get(Community, community.id).name == "Χάρτες"  # nothing saved at the old address


def test_every_earlier_address_leads_to_the_current_one(app, people, make_community, client):
    community = make_community(people["mod"], "Πρώτο όνομα")
    rename(people["mod"], community, "Δεύτερο όνομα")
    rename(people["mod"], community, "Τρίτο όνομα")
    for old in ("πρωτο-ονομα", "δευτερο-ονομα"):
        moved = client.get(path(old))
        assert moved.status_code == 301 and location(moved) == "/communities/τριτο-ονομα"


def test_renaming_back_to_a_former_address_works(app, people, make_community, client):
    community = make_community(people["mod"], "GIS")
    rename(people["mod"], community, "Χάρτες")
    rename(people["mod"], community, "gis")
    assert community.slug == "gis" and former_slugs() == {"χαρτες": community.id}
    assert client.get("/communities/gis").status_code == 200
    assert location(client.get(path("χαρτες"))) == "/communities/gis"


def test_a_change_that_keeps_the_address_leaves_no_former_one(app, people, make_community):
    community = make_community(people["mod"], "GIS")
    rename(people["mod"], community, "gis")  # another case, the same address
    assert community.name == "gis" and former_slugs() == {}


def test_a_new_community_takes_over_a_former_address(app, people, make_community, client):
    first = make_community(people["mod"], "GIS", description="Η πρώτη κοινότητα.")
    rename(people["mod"], first, "Χάρτες")
    second = make_community(people["mod"], "GIS", description="Η δεύτερη κοινότητα.")
    assert second.slug == "gis" and former_slugs() == {}
    page = client.get("/communities/gis")
    assert page.status_code == 200 and "Η δεύτερη κοινότητα." in page.get_data(as_text=True)
    assert client.get(path("χαρτες")).status_code == 200


def test_a_rename_takes_over_another_communitys_former_address(app, people, make_community, client):
    first = make_community(people["mod"], "GIS", description="Η πρώτη κοινότητα.")
    rename(people["mod"], first, "Χάρτες")
    second = make_community(people["mod"], "Τοπογραφία", description="Η δεύτερη κοινότητα.")
    rename(people["mod"], second, "GIS")
    assert former_slugs() == {"τοπογραφια": second.id}
    assert "Η δεύτερη κοινότητα." in client.get("/communities/gis").get_data(as_text=True)
    assert location(client.get(path("τοπογραφια"))) == "/communities/gis"


def test_an_old_address_tells_nothing_to_whoever_may_not_see_the_community(app, people, make_community, client,
                                                                          sign_in):
    community = make_community(people["mod"], "Εσωτερικά θέματα", visibility="internal")
    rename(people["mod"], community, "Κρυφό νέο όνομα")
    hidden = client.get(path("εσωτερικα-θεματα"))
    assert hidden.status_code == 404 and "κρυφο" not in unquote(hidden.get_data(as_text=True))
    assert communities.renamed(None, "εσωτερικα-θεματα") is None
    assert location(sign_in(people["maria"]).get(path("εσωτερικα-θεματα"))) == "/communities/κρυφο-νεο-ονομα"


def test_a_reserved_word_is_never_a_former_address(app, people, make_community, client):
    community = make_community(people["mod"], "GIS")
    community.slug = "new"  # as if "new" had been reserved after the community took it
    db.session.commit()
    rename(people["mod"], community, "Χάρτες")
    assert former_slugs() == {}
    db.session.add(FormerSlug(slug="new", community_id=community.id))
    db.session.commit()
    assert communities.renamed(people["mod"], "new") is None
    assert client.get("/communities/new").status_code == 302  # still the sign-in before the form


@pytest.mark.parametrize("slug", ["%00", "gis%00", "%ED%A0%80", "x" * 500, "999999999999"])
def test_an_address_no_database_can_hold_is_simply_not_found(app, people, make_community, client, slug):
    make_community(people["mod"], "GIS")
    assert client.get(f"/communities/{slug}").status_code == 404
    assert client.get(f"/communities/{slug}/edit").status_code in (302, 404)


# PATCH /api/v1/communities/<id> -------------------------------------------------------------------

def test_a_moderator_changes_only_what_is_sent(app, people, make_community, make_token, client):
    community = make_community(people["mod"], "GIS", visibility="internal", description="Χάρτες.")
    mod = make_token(people["mod"])
    address = f"/api/v1/communities/{community.id}"

    changed = client.patch(address, json={"description": "*Νέοι* χάρτες."}, headers=mod)
    assert changed.status_code == 200, changed.json
    assert (changed.json["name"], changed.json["slug"], changed.json["visibility"]) == ("GIS", "gis", "internal")
    assert changed.json["description_html"] == "<p><em>Νέοι</em> χάρτες.</p>"

    changed = client.patch(address, json={"visibility": "public"}, headers=mod)
    assert changed.json["visibility"] == "public" and changed.json["description"] == "*Νέοι* χάρτες."
    assert client.get(address).status_code == 200  # anyone sees it now

    renamed = client.patch(address, json={"name": "Χάρτες και GIS"}, headers=mod)
    assert renamed.status_code == 200 and unquote(renamed.json["url"]) == "/communities/χαρτες-και-gis"
    assert location(client.get("/communities/gis")) == "/communities/χαρτες-και-gis"
    assert client.patch(address, json={}, headers=mod).json["name"] == "Χάρτες και GIS"


def test_a_community_moderator_who_is_not_a_node_moderator_may_change_it(app, people, make_community, make_token,
                                                                          client):
    community = make_community(people["mod"])
    communities.join(people["maria"], community)
    communities.set_role(people["mod"], community, people["maria"], "moderator")
    db.session.commit()
    changed = client.patch(f"/api/v1/communities/{community.id}", json={"description": "Της Μαρίας."},
                           headers=make_token(people["maria"]))
    assert changed.status_code == 200 and changed.json["description"] == "Της Μαρίας."


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["detail"].endswith(".")
    return body


@pytest.mark.parametrize("sent, field, says", [
    ({"name": "GIS", "colour": "red"}, "colour", "Unknown field “colour”"),
    ({"name": 5}, "name", "must be text"),
    ({"name": None}, "name", "must be text"),
    ({"name": ["GIS"]}, "name", "must be text"),
    ({"description": 7}, "description", "must be text"),
    ({"description": {"text": "x"}}, "description", "must be text"),
    ({"visibility": 1}, "visibility", "must be one of internal, network, public"),
    ({"visibility": ["public"]}, "visibility", "must be one of internal, network, public"),
    ({"visibility": "private"}, "visibility", "must be one of internal, network, public"),
    ({"name": "x" * 121}, "name", "between 2 and 120"),
    ({"name": " Χ "}, "name", "between 2 and 120"),
    ({"name": "112"}, "name", "at least one letter"),
    ({"name": "GIS\x00"}, "name", "cannot be stored"),
    ({"description": "α" * 10_001}, "description", "longer than 10000"),
])
def test_bad_changes_are_refused_with_the_field_named(app, people, make_community, make_token, client, sent,
                                                      field, says):
    community = make_community(people["mod"], "GIS", description="Χάρτες.")
    response = client.patch(f"/api/v1/communities/{community.id}", json=sent,
                            headers={**make_token(people["mod"]), "Accept-Language": "en"})
    body = problem(response, 400)
    assert body["field"] == field and says in body["detail"]
    db.session.expire_all()
    saved = db.session.get(Community, community.id)
    assert (saved.name, saved.description, saved.visibility) == ("GIS", "Χάρτες.", "public")


@pytest.mark.parametrize("raw, says", [
    (b"[]", "must be a JSON object"),
    (b"null", "must be a JSON object"),
    (b"{'name': 'x'}", "not valid JSON"),
    (b"", "must be a JSON object"),
])
def test_a_body_that_is_not_an_object_is_refused(app, people, make_community, make_token, client, raw, says):
    community = make_community(people["mod"])
    response = client.patch(f"/api/v1/communities/{community.id}", data=raw, content_type="application/json",
                            headers={**make_token(people["mod"]), "Accept-Language": "en"})
    assert says in problem(response, 400)["detail"]


def test_a_name_another_community_has_is_a_conflict(app, people, make_community, make_token, client):
    make_community(people["mod"], "Χάρτες")
    community = make_community(people["mod"], "GIS")
    response = client.patch(f"/api/v1/communities/{community.id}", json={"name": "ΧΑΡΤΕΣ"},
                            headers={**make_token(people["mod"]), "Accept-Language": "en"})
    body = problem(response, 409)
    assert body["field"] == "name" and "already exists" in body["detail"]
    assert db.session.get(Community, community.id).slug == "gis"


def test_who_may_not_change_a_community_is_told_why(app, people, make_community, make_token, client):
    community = make_community(people["mod"], visibility="internal")
    communities.join(people["maria"], community)
    db.session.commit()
    address = f"/api/v1/communities/{community.id}"
    english = {"Accept-Language": "en"}

    member = problem(client.patch(address, json={"name": "Δική μου"}, headers={**make_token(people["maria"]),
                                                                               **english}), 403)
    assert "Only the moderators of “GIS”" in member["detail"]
    # Someone who may not change it learns that before anything about what they sent.
    assert problem(client.patch(address, json={"colour": 1}, headers=make_token(people["nikos"])), 403)
    assert "may only read" in problem(client.patch(address, json={"description": "x"},
                                                   headers={**make_token(people["mod"], "read"), **english}),
                                      403)["detail"]
    assert "personal token" in problem(client.patch(address, json={"description": "x"}, headers=english),
                                       401)["detail"]
    for missing in (999, 2**31, 2**40):
        problem(client.patch(f"/api/v1/communities/{missing}", json={"description": "x"},
                             headers=make_token(people["mod"])), 404)
    assert db.session.get(Community, community.id).name == "GIS"


# GET /api/v1/communities/<id>/members ----------------------------------------------------------------

def test_members_are_listed_moderators_first_one_page_at_a_time(app, people, make_user, make_community,
                                                                 make_token, client):
    community = make_community(people["mod"], visibility="internal")
    for person in (people["nikos"], people["maria"], make_user("alexis", role="reader")):
        communities.join(person, community)
    people["maria"].display_name = "Μαρία Παππά"
    db.session.commit()
    reader = make_token(people["nikos"], "read")
    address = f"/api/v1/communities/{community.id}/members"

    first = client.get(f"{address}?per_page=2", headers=reader)
    assert first.status_code == 200
    body = first.json
    assert [(m["username"], m["name"], m["role"]) for m in body["members"]] == [
        ("mod", "mod", "moderator"), ("alexis", "alexis", "member")]
    assert body["total"] == 4 and body["prev"] is None and body["members"][0]["joined"].endswith("+00:00")
    second = client.get(body["next"], headers=reader).json
    # By the name shown: Latin letters before Greek ones.
    assert [(m["username"], m["name"]) for m in second["members"]] == [("nikos", "nikos"), ("maria", "Μαρία Παππά")]
    assert second["next"] is None and second["page"] == 2
    assert set(second["members"][0]) == {"username", "name", "role", "joined"}  # never whether they follow


def test_members_are_shown_to_people_signed_in_who_may_see_the_community(app, people, make_community, make_token,
                                                                         client):
    public = make_community(people["mod"], "Ανοιχτή", visibility="public")
    internal = make_community(people["mod"], "Εσωτερική", visibility="internal")
    english = {"Accept-Language": "en"}
    assert client.get(f"/api/v1/communities/{public.id}").status_code == 200
    assert "Sign in" in problem(client.get(f"/api/v1/communities/{public.id}/members", headers=english),
                                401)["detail"]
    problem(client.get(f"/api/v1/communities/{internal.id}/members"), 404)
    problem(client.get("/api/v1/communities/999/members", headers=make_token(people["maria"], "read")), 404)
    problem(client.get(f"/api/v1/communities/{public.id}/members?per_page=0",
                       headers=make_token(people["maria"], "read")), 400)
    with pytest.raises(Unauthorized) as refused, force_locale("en"):
        communities.list_members(None, public)
    assert "Συνδεθείτε" in str(refused.value)  # the node's language


# The description --------------------------------------------------------------------------------------

def test_the_openapi_document_describes_the_new_endpoints(app, client):
    spec = client.get("/api/v1/openapi.json").json
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("communities_api.")]
    for rule in rules:
        described = rule.rule.removeprefix("/api/v1").replace("<int:community_id>", "{community_id}")
        served = {method.lower() for method in rule.methods - {"HEAD", "OPTIONS"}}
        assert served <= set(spec["paths"][described]), rule.rule
    schemas = spec["components"]["schemas"]
    patch = spec["paths"]["/communities/{community_id}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CommunityChange")
    assert set(patch["responses"]) == {"200", "400", "401", "403", "404", "409"}
    change = schemas["CommunityChange"]
    assert change["additionalProperties"] is False and "required" not in change
    assert set(change["properties"]) == set(schemas["CommunityInput"]["properties"]) == {"name", "description",
                                                                                          "visibility"}
    assert set(schemas["Member"]["properties"]) == {"username", "name", "role", "joined"}
    members = spec["paths"]["/communities/{community_id}/members"]["get"]
    assert {p["name"] for p in members["parameters"]} == {"page", "per_page"}
