"""Every page and API endpoint, walked as each role and as an anonymous visitor: nothing private or
internal leaks to someone who may not see it, and no address answers with a server error."""
from __future__ import annotations

import itertools
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from auth.models import Department, Skill, User
from auth.notifications import notify
from knet import jobs
from knet.db import db
from learning import courses, structure, versions
from learning.courses import CourseInput
from learning.models import Item
from tests.conftest import PASSWORD
from tests.forms import csrf_token

ROLES = ("reader", "editor", "trainer", "moderator", "admin")
PRIVATE, INTERNAL, NETWORK, PUBLIC = "Privatemarkerzq", "Internalmarkerzq", "Networkmarkerzq", "Publicmarkerzq"
PROFILE = "Profilemarkerzq"
MARKERS = {"private": PRIVATE, "internal": INTERNAL, "network": NETWORK, "public": PUBLIC}
#: Query strings tried on every address, so lists, searches and suggestions all get asked. They name
#: words every object holds, never a marker itself: a search page rightly repeats its query.
QUERIES = ({}, {"q": "zqword"}, {"q": "zqw"}, {"tag": "secretzq"}, {"skill": "zqskill"})


@pytest.fixture
def world(app, make_user, make_page):
    """Pages of every visibility by one author, a profile only staff may see, and one account per role."""
    author = make_user("alice", role="editor")
    author.about = f"Ask me about {PROFILE} zqword"
    author.skills = [Skill(name="zqskill", key="zqskill")]
    author.department = Department(dn="ou=secretzq,dc=example", name="Secretzq Office")
    slugs = {}
    for marker, visibility in ((PRIVATE, "private"), (INTERNAL, "internal"), (NETWORK, "network"),
                               (PUBLIC, "public")):
        page = make_page(author, f"{marker} page", f"The text of {marker}, with zqword.", visibility=visibility,
                         tags=["secretzq"], licence="CC-BY-4.0")
        slugs[visibility] = page.slug
    tina = make_user("tina", role="trainer")
    for marker, visibility in ((PRIVATE, "private"), (INTERNAL, "internal"), (NETWORK, "network"),
                               (PUBLIC, "public")):
        course = courses.create_course(tina, CourseInput(title=f"{marker} course", summary=f"About {marker}, zqword.",
                                                         visibility=visibility, tags=["secretzq"]))
        module = structure.add_module(tina, course, f"{marker} module")
        structure.add_lesson(tina, module, f"{marker} lesson", f"The lesson of {marker}, with zqword.")
        versions.publish(tina, course)
    people = {role: make_user(f"{role}-person", role=role) for role in ROLES}
    # Only its reader may see a notification, whatever their role.
    notify([author], "test.private", actor=None, subject=f"{PRIVATE} notification", url="/")
    db.session.commit()
    jobs.run_pending()
    return author, slugs, people


def _values(app, slugs) -> dict[str, list]:
    department = db.session.scalar(select(Department.id))
    user = User.by_username("alice")
    return {"slug": list(slugs.values()), "page_id": [1, 2, 3, 4], "number": [1], "username": ["alice"],
            "id": [department], "department_id": [department], "user_id": [user.id], "language": ["el"],
            "key": ["zqskill", "secretzq", *db.session.scalars(select(Item.key))], "skill": ["zqskill"], "name": ["secretzq"],
            "community_id": [1], "question_id": [1, 2], "answer_id": [1],
            "notification_id": [1], "course_id": [1, 2, 3, 4], "module_id": [1, 4], "item_id": [1, 4], "certificate_id": ["nope"], "attachment_id": [1],
            "filename": ["notes.pdf"], "token": ["nope"], "path": ["index.html"], "tag": ["secretzq"], "import_id": [1],
            "dataset_file": ["pages.jsonl", "pages.csv", "courses.csv", "catalog.jsonld", "nope.txt"]}


def addresses(app, slugs) -> list[str]:
    """Every GET address of the node, with each variable filled in and each query string tried."""
    values = _values(app, slugs)
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.endswith("set_language"):
            continue
        names = sorted(rule.arguments)
        missing = [name for name in names if name not in values]
        assert not missing, f"{rule.rule}: give the walk a value for {missing}"
        for combination in itertools.product(*(values[name] for name in names)):
            path = rule.build(dict(zip(names, combination)))[1]
            found += [path + ("?" + urlencode(query) if query else "") for query in QUERIES]
    return found


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_nothing_leaks_on_any_address_for_any_role(app, world, make_token):
    author, slugs, people = world
    walk = addresses(app, slugs)
    assert len(walk) > 100
    viewers = {"anonymous": (app.test_client(), {})}
    for role, person in people.items():
        client = app.test_client()
        page = client.get("/login")
        client.post("/login", data={"username": person.username, "password": PASSWORD,
                                    "csrf_token": csrf_token(text_of(page))})
        viewers[role] = (client, make_token(person, "read"))
    hidden_from = {"anonymous": ("private", "internal", "network")}
    for name, (client, token) in viewers.items():
        hidden = hidden_from.get(name, ("private",))
        for path in walk:
            headers = token if path.startswith("/api/") else {}
            response = client.get(path, headers=headers)
            assert response.status_code < 500, (name, path, response.status_code)
            body = text_of(response) + response.headers.get("Location", "")
            response.close()  # a download streams from an open file
            # Titles and texts are capitalised, slugs are not: a page may repeat the address it was
            # asked for, but no answer may name a hidden page that was not asked for.
            leaked = [MARKERS[level] for level in hidden if MARKERS[level] in body]
            leaked += [slugs[level] for level in hidden if slugs[level] in body and slugs[level] not in path]
            if name == "anonymous" and PROFILE in body:
                leaked.append(PROFILE)
            assert not leaked, f"{path} shows {leaked} to {name}"


def test_the_author_sees_their_private_page_everywhere_it_is_listed(app, world, sign_in):
    author, slugs, _people = world
    client = sign_in(author)
    assert PRIVATE in text_of(client.get(f"/wiki/{slugs['private']}"))
    assert PRIVATE in text_of(client.get("/pages/"))
    assert PRIVATE in text_of(client.get("/search?q=zqword"))


def test_public_content_is_open_to_everyone(app, world, client):
    _author, slugs, _people = world
    assert PUBLIC in text_of(client.get(f"/wiki/{slugs['public']}"))
    assert PUBLIC in text_of(client.get("/api/v1/search?q=zqword"))


@pytest.mark.parametrize("role, may_write, may_restore", [
    ("reader", False, False), ("trainer", False, False), ("editor", True, False), ("moderator", False, True),
    ("admin", True, True)])
def test_each_role_may_do_what_it_is_for(app, world, sign_in, make_token, role, may_write, may_restore):
    _author, slugs, people = world
    person = people[role]
    client = sign_in(person)
    form = client.get("/pages/new")
    assert form.status_code == (200 if may_write else 403), role
    if not may_write:
        assert "Editor" in text_of(form) or "Συντάκτ" in text_of(form)
    api = client.post("/api/v1/pages", json={"title": f"By {role}", "body": "x", "visibility": "internal"},
                      headers=make_token(person, "write"))
    assert api.status_code == (201 if may_write else 403), (role, api.get_json())
    assert client.get("/pages/deleted").status_code == (200 if may_restore else 403)
