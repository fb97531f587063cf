"""The node as the fediverse sees it, with a fake Mastodon server on 127.0.0.1 (real HTTP, real RSA
signatures both ways): it finds the node actor through WebFinger, follows it, receives the Accept and then
the node's public objects, and nothing else; it can never write anything; and anyone reads the node's
public objects from its outbox and at their own addresses."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import func, select, update

from federation import cavage, fediverse_followers, keys
from federation.client import PeerUnreachable, require_reachable_from
from federation.models import Follower, Published, Received, Replica
from knet import jobs
from knet.db import db
from knet.jobs import DEAD, Job
from learning import courses, structure, versions
from learning.courses import CourseInput
from qa import services as qa
from tests.federation.fake_mastodon import FakeMastodon
from tests.federation.network import writer
from wiki import services as wiki
from wiki.models import Page

NODE = "http://127.0.0.1:5000"
HOST = "127.0.0.1:5000"
ACTOR = f"{NODE}/federation/actor"
INBOX = f"{NODE}/federation/inbox"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACTIVITY_JSON = "application/activity+json"


@pytest.fixture
def mastodon(app):
    with FakeMastodon() as server:
        # The node answers in this process, at no address the fake server could fetch its key from.
        server.known_keys[f"{ACTOR}#main-key"] = keys.fediverse_key(Path(app.instance_path)).public_key()
        yield server


def send(client, server: FakeMastodon, document: dict | bytes, **changed_headers):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    headers = {**server.signed_headers(INBOX, body), **changed_headers}
    return client.post("/federation/inbox", data=body, headers=headers)


def follow(client, server: FakeMastodon) -> dict:
    activity = server.follow_activity(NODE)
    response = send(client, server, activity)
    assert response.status_code == 202, response.get_data(as_text=True)
    return activity


def page(title: str, visibility: str = "public") -> Page:
    made = wiki.create_page(writer(), wiki.PageInput(title, f"Κείμενο: {title}.", visibility=visibility), 100_000)
    db.session.commit()
    return made


def edit(made: Page, **changes) -> None:
    data = wiki.PageInput(changes.get("title", made.title), made.current.body, made.language, made.tag_names,
                          changes.get("visibility", made.visibility), made.licence)
    wiki.update_page(writer(), made, data, made.revision, 100_000)
    db.session.commit()


def arrived(server: FakeMastodon) -> list[tuple[str, str, str]]:
    """What reached the fake server: (activity type, object type, object name or id), all verified."""
    assert all(arrival.verified for arrival in server.arrivals), server.arrivals
    found = []
    for arrival in server.arrivals:
        obj = arrival.activity["object"]
        found.append((arrival.activity["type"], obj.get("type"), obj.get("name") or obj.get("id")))
    return found


def test_a_mastodon_user_follows_the_node_and_receives_its_public_objects_only(app, client, mastodon):
    activity = follow(client, mastodon)
    follower = db.session.scalar(select(Follower))
    assert (follower.actor, follower.inbox, follower.shared_inbox, follower.follow_id) == (
        mastodon.actor, f"{mastodon.actor}/inbox", f"{mastodon.url}/inbox", activity["id"])
    jobs.run_pending()
    [accept] = mastodon.received("Accept")
    assert accept.verified and accept.key_id == f"{ACTOR}#main-key" and accept.path == f"/users/{mastodon.username}/inbox"
    assert accept.activity["actor"] == ACTOR and accept.activity["object"]["id"] == activity["id"]
    assert accept.activity["object"]["type"] == "Follow" and accept.activity["object"]["object"] == ACTOR

    mastodon.arrivals.clear()
    public = page("Ωράριο δημαρχείου")
    page("Εσωτερικός κανονισμός", visibility="internal")
    page("Κοινά έγγραφα δικτύου", visibility="network")
    page("Προσωπικές σημειώσεις", visibility="private")
    jobs.run_pending()
    assert arrived(mastodon) == [("Create", "Article", "Ωράριο δημαρχείου")]
    [create] = mastodon.arrivals
    assert create.path == "/inbox", "a server's followers get each activity once, at its shared inbox"
    obj = create.activity["object"]
    assert create.activity["actor"] == ACTOR and create.activity["to"] == [PUBLIC] and obj["to"] == [PUBLIC]
    assert obj["attributedTo"] == ACTOR and obj["id"] == f"{NODE}/pages/{public.id}"
    assert obj["knet:visibility"] == "public" and "Κείμενο" in obj["content"]
    assert create.activity["cc"] == [f"{NODE}/federation/followers"]

    mastodon.arrivals.clear()
    edit(public, title="Ωράριο δημαρχείου 2026")
    edit(public, title="Ωράριο δημαρχείου 2026")  # no change: nothing is sent again
    jobs.run_pending()
    edit(public, visibility="network")  # no longer public: withdrawn
    jobs.run_pending()
    assert arrived(mastodon) == [("Update", "Article", "Ωράριο δημαρχείου 2026"),
                                 ("Delete", "Tombstone", f"{NODE}/pages/{public.id}")]
    ids = [arrival.activity["id"] for arrival in mastodon.arrivals]
    assert len(set(ids)) == 2
    assert "Ωράριο" not in json.dumps(mastodon.arrivals[1].activity), "a withdrawn object is not described"

    mastodon.arrivals.clear()
    question = qa.ask(writer(), qa.QuestionInput("Πώς εκδίδεται άδεια στάθμευσης;", "Ρωτώ για την άδεια.",
                                                 visibility="public"))
    qa.ask(writer(), qa.QuestionInput("Εσωτερική ερώτηση για τη μισθοδοσία", "Μόνο για εμάς.",
                                      visibility="internal"))
    course = courses.create_course(writer(), CourseInput(title="Πρώτες βοήθειες", visibility="public"))
    structure.add_lesson(writer(), structure.add_module(writer(), course, "Ενότητα"), "Μάθημα", "Κείμενο μαθήματος.")
    versions.publish(writer(), course)
    db.session.commit()
    jobs.run_pending()
    assert sorted(arrived(mastodon)) == [("Create", "Article", "Πρώτες βοήθειες"),
                                         ("Create", "Page", "Πώς εκδίδεται άδεια στάθμευσης;")]
    assert question.id

    mastodon.arrivals.clear()
    response = send(client, mastodon, mastodon.undo_activity(activity))
    assert response.status_code == 202
    assert db.session.scalar(select(func.count()).select_from(Follower)) == 0
    page("Νέα ανακοίνωση")
    jobs.run_pending()
    assert mastodon.arrivals == []
    assert db.session.scalar(select(Job.id).where(Job.state == DEAD)) is None


def test_a_follow_sent_again_is_accepted_again_and_an_undo_by_id_alone_ends_it(app, client, mastodon):
    first = follow(client, mastodon)
    second = follow(client, mastodon)
    jobs.run_pending()
    assert [arrival.activity["object"]["id"] for arrival in mastodon.received("Accept")] == [first["id"], second["id"]]
    assert db.session.scalar(select(Follower.follow_id)) == second["id"]
    undo = {**mastodon.undo_activity(second), "object": second["id"]}
    assert send(client, mastodon, undo).status_code == 202
    assert db.session.scalar(select(Follower.id)) is None
    assert send(client, mastodon, undo).status_code == 202, "undoing what is not there is no error"


def test_a_delivery_is_tried_again_while_the_server_is_down_and_not_after_it_refuses_for_good(app, client, mastodon):
    follow(client, mastodon)
    jobs.run_pending()
    mastodon.arrivals.clear()
    mastodon.refuse_next = [503, 429]
    page("Προσλήψεις εποχικού προσωπικού")
    jobs.run_pending()
    assert mastodon.arrivals == [] and mastodon.refuse_next == [429]
    delivery = db.session.scalar(select(Job).where(Job.kind == "fediverse.deliver", Job.state == "pending"))
    assert delivery.attempts == 1 and "503" in delivery.last_error
    for _try in range(2):  # its backoff over: tried again, then once more after the 429
        db.session.execute(update(Job).where(Job.id == delivery.id).values(run_after=datetime.now(UTC)))
        db.session.commit()
        jobs.run_pending()
    assert arrived(mastodon) == [("Create", "Article", "Προσλήψεις εποχικού προσωπικού")]
    assert db.session.get(Job, delivery.id).state == "done"

    mastodon.arrivals.clear()
    mastodon.refuse_next = [410]  # gone for good: not tried again
    page("Δεύτερη ανακοίνωση")
    jobs.run_pending()
    assert mastodon.arrivals == []
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == "fediverse.deliver",
                                                                        Job.state == "pending")) == 0


def test_followers_on_one_server_share_its_inbox(app):
    for name, shared in (("a", "https://one.example/inbox"), ("b", "https://one.example/inbox"), ("c", None)):
        db.session.add(Follower(actor=f"https://one.example/users/{name}", inbox=f"https://one.example/users/{name}/inbox",
                                shared_inbox=shared, follow_id=f"https://one.example/follows/{name}"))
    db.session.commit()
    assert fediverse_followers.inboxes() == ["https://one.example/inbox", "https://one.example/users/c/inbox"]
    assert fediverse_followers.count() == 3


def nothing_changed(before: dict) -> None:
    assert state() == before


def state() -> dict:
    return {"followers": db.session.scalar(select(func.count()).select_from(Follower)),
            "received": db.session.scalar(select(func.count()).select_from(Received)),
            "replicas": db.session.scalar(select(func.count()).select_from(Replica)),
            "published": db.session.scalar(select(func.count()).select_from(Published)),
            "pages": sorted((made.title, made.visibility, made.deleted_at is None)
                            for made in db.session.scalars(select(Page))),
            "jobs": db.session.scalar(select(func.count()).select_from(Job))}


def test_the_fediverse_can_never_write_here(app, client, mastodon):
    existing = page("Δημοτικά τέλη")
    jobs.run_pending()
    before = state()
    uri = f"{NODE}/pages/{existing.id}"
    note = {"id": f"{mastodon.url}/notes/1", "type": "Note", "content": "spam", "attributedTo": mastodon.actor}
    article = {"id": uri, "type": "Article", "name": "Αλλαγμένη", "content": "<p>x</p>", "knet:version": 99,
               "knet:visibility": "public"}
    refused = {
        "Create": {"type": "Create", "object": note}, "Create of ours": {"type": "Create", "object": article},
        "Update": {"type": "Update", "object": article}, "Delete": {"type": "Delete", "object": uri},
        "Like": {"type": "Like", "object": uri}, "Announce": {"type": "Announce", "object": uri},
        "Undo of a Like": {"type": "Undo", "object": {"type": "Like", "actor": mastodon.actor, "object": uri}},
        "Flag": {"type": "Flag", "object": [ACTOR]}, "Block": {"type": "Block", "object": ACTOR},
        "Accept": {"type": "Accept", "object": {"type": "Follow", "actor": ACTOR, "object": mastodon.actor}},
    }
    for name, activity in refused.items():
        activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{mastodon.url}/activities/{name}",
                    "actor": mastodon.actor, **activity}
        response = send(client, mastodon, activity)
        assert response.status_code == 403 and response.json["reason"] == "read-only", (name, response.json)
        assert response.mimetype == "application/problem+json" and response.json["detail"]
    wrong = {**mastodon.follow_activity(NODE), "object": f"{NODE}/people/maria"}
    response = send(client, mastodon, wrong)
    assert response.status_code == 400 and response.json["reason"] == "wrong-object"
    for body, reason in ((b"not json", "not-json"), (b"[]", "not-an-activity"), (b'{"actor": "x"}', "actor-mismatch")):
        response = send(client, mastodon, body)
        assert response.status_code in (400, 401) and response.json["reason"] == reason, body
    nothing_changed(before)


def test_requests_that_are_not_what_their_signer_signed_are_refused_with_a_reason(app, client, mastodon):
    before = state()
    activity = mastodon.follow_activity(NODE)
    body = json.dumps(activity).encode()
    headers = mastodon.signed_headers(INBOX, body)

    def status(body=body, headers=headers) -> tuple[int, str]:
        response = client.post("/federation/inbox", data=body, headers=headers)
        return response.status_code, response.json.get("reason")

    assert status(body=body.replace(b"Follow", b"Follox")) == (401, "digest-mismatch")
    changed = body.replace(b"Follow", b"Follox")
    assert status(body=changed, headers={**headers, "Digest": cavage.digest(changed)}) == (401, "bad-signature")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    assert status(headers={**headers, "Date": cavage.http_date(yesterday)}) == (401, "too-old")
    signed_for_elsewhere = mastodon.signed_headers("http://127.0.0.1:5001/federation/inbox", body)
    assert status(headers=signed_for_elsewhere) == (401, "bad-signature")
    assert status(headers={key: value for key, value in headers.items() if key != "Signature"}) == (401, "unsigned")
    assert status(headers={**headers, "Signature": "keyId=broken"}) == (401, "malformed")
    # The activity speaks for someone else than the signer.
    other = {**activity, "actor": "https://mastodon.example/users/someone"}
    assert send(client, mastodon, other).json["reason"] == "actor-mismatch"
    nothing_changed(before)


@pytest.mark.parametrize("published, reason", [
    ({"inbox": "http://127.0.0.1:9/inbox"}, "not-an-actor"),
    ({"endpoints": {"sharedInbox": "http://elsewhere.example/inbox"}}, "not-an-actor"),
    ({"id": "http://elsewhere.example/users/eleni"}, "host-mismatch"),
    ({"publicKey": None}, "unknown-key"),
    ({"publicKey": {"id": "other", "publicKeyPem": "x"}}, "unknown-key"),
    ({"inbox": None}, "not-an-actor"),
])
def test_a_signer_whose_actor_is_not_what_it_should_be_is_refused(app, client, mastodon, published, reason):
    mastodon.actor_changes = published
    response = send(client, mastodon, mastodon.follow_activity(NODE))
    assert (response.status_code, response.json["reason"]) == (401, reason), response.json
    assert db.session.scalar(select(Follower.id)) is None


def test_a_signer_that_cannot_be_reached_or_signs_with_a_weak_key_is_refused(app, client, mastodon):
    mastodon.server.shutdown()
    mastodon.server.server_close()
    response = send(client, mastodon, mastodon.follow_activity(NODE))
    assert (response.status_code, response.json["reason"]) == (401, "actor-unreachable")
    assert db.session.scalar(select(Follower.id)) is None
    with FakeMastodon() as weak:
        weak.key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        response = send(client, weak, weak.follow_activity(NODE))
        assert (response.status_code, response.json["reason"]) == (401, "weak-key")


def test_a_node_on_the_internet_never_fetches_a_signer_from_its_own_networks(app, client, mastodon):
    """Anyone may claim a key on http://127.0.0.1:…/ or http://10.…/: a node on a public address refuses to
    fetch it, so a stranger cannot make it probe the networks it sits in."""
    app.config["KNET"]["url"] = "http://knet.athina.example"  # (an https node refuses http key ids anyway)
    response = send(client, mastodon, mastodon.follow_activity(NODE))
    assert (response.status_code, response.json["reason"]) == (401, "actor-unreachable")
    assert mastodon.fetched == []
    assert db.session.scalar(select(Follower.id)) is None


def test_anyone_reads_the_public_outbox_and_public_objects_at_their_addresses(app, client):
    public = [page(f"Δημόσια σελίδα {number}") for number in range(22)]
    hidden = page("Σελίδα δικτύου Zqnetwork", visibility="network")
    page("Εσωτερική σελίδα Zqinternal", visibility="internal")
    question = qa.ask(writer(), qa.QuestionInput("Πού πληρώνονται τα τέλη;", "Ρωτώ.", visibility="public"))
    db.session.commit()
    jobs.run_pending()
    response = client.get("/federation/outbox")
    assert response.status_code == 200 and response.headers["Content-Type"] == ACTIVITY_JSON
    outbox = response.json
    assert (outbox["type"], outbox["totalItems"]) == ("OrderedCollection", 23)
    items, url = [], outbox["first"]
    while url:
        answer = client.get(url.removeprefix(NODE)).json
        assert answer["type"] == "OrderedCollectionPage" and len(answer["orderedItems"]) <= 20
        items += answer["orderedItems"]
        url = answer.get("next")
    assert {item["type"] for item in items} == {"Create"}
    assert {item["object"]["name"] for item in items} == {made.title for made in public} | {question.title}
    assert all(item["object"]["to"] == [PUBLIC] for item in items)
    assert "Zqnetwork" not in json.dumps(items) and "Zqinternal" not in json.dumps(items)
    assert client.get("/federation/outbox?page=true&before=abc").status_code == 400

    # Each public object at its own address, for whoever asks for ActivityPub; people get the page.
    for accept in (ACTIVITY_JSON, 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'):
        response = client.get(f"/pages/{public[0].id}", headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["Content-Type"] == ACTIVITY_JSON
        assert response.json["id"] == f"{NODE}/pages/{public[0].id}" and response.json["type"] == "Article"
    response = client.get(f"/questions/{question.id}", headers={"Accept": ACTIVITY_JSON})
    assert response.json["type"] == "Page" and response.json["name"] == question.title
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get(f"/pages/{public[0].id}", headers={"Accept": browser}).status_code == 302
    for address in (f"/pages/{hidden.id}", "/pages/9999"):
        response = client.get(address, headers={"Accept": ACTIVITY_JSON})
        assert response.headers["Content-Type"] != ACTIVITY_JSON and "Zqnetwork" not in response.get_data(as_text=True)
    edit(public[0], visibility="internal")  # at once, before the change log hears of it
    response = client.get(f"/pages/{public[0].id}", headers={"Accept": ACTIVITY_JSON})
    assert response.headers["Content-Type"] != ACTIVITY_JSON


def test_a_mastodon_user_finds_the_node_actor_through_webfinger(app, client):
    jrd = client.get("/.well-known/webfinger", query_string={"resource": f"acct:{HOST}@{HOST}"}).json
    [link] = [link for link in jrd["links"] if link["rel"] == "self"]
    assert link["type"] == ACTIVITY_JSON
    actor = client.get(link["href"].removeprefix(NODE), headers={"Accept": ACTIVITY_JSON}).json
    assert actor["id"] == link["href"] == ACTOR and actor["type"] == "Organization"
    # As Mastodon checks it: the actor's name at its host leads back to the same actor.
    again = client.get("/.well-known/webfinger",
                       query_string={"resource": f"acct:{actor['preferredUsername']}@{HOST}"}).json
    assert {"rel": "self", "type": ACTIVITY_JSON, "href": ACTOR} in again["links"]
    key = actor["publicKey"]
    assert (key["id"], key["owner"]) == (f"{ACTOR}#main-key", ACTOR)
    public_key = load_pem_public_key(key["publicKeyPem"].encode())
    assert isinstance(public_key, RSAPublicKey) and public_key.key_size >= 2048
    assert actor["endpoints"]["sharedInbox"] == actor["inbox"] == INBOX
    assert actor["followers"] == f"{NODE}/federation/followers"
    followers = client.get("/federation/followers")
    assert followers.headers["Content-Type"] == ACTIVITY_JSON and followers.json["totalItems"] == 0
    # Peers keep reading the Ed25519 keys.
    assert [entry["id"] for entry in actor["knet:keys"]] == [
        keys.key_url(NODE, keys.load(Path(app.instance_path)).current.id)]


@pytest.mark.parametrize("own, stranger, allowed", [
    ("https://knet.athina.example", "https://93.184.216.34/users/eleni", True),
    ("https://knet.athina.example", "http://127.0.0.1:8080/actor", False),
    ("https://knet.athina.example", "https://10.0.0.5/actor", False),
    ("https://knet.athina.example", "https://[::1]/actor", False),
    ("https://knet.athina.example", "https://169.254.169.254/latest/meta-data", False),
    ("http://127.0.0.1:5000", "http://127.0.0.1:8080/actor", True),
    ("http://127.0.0.1:5000", "https://192.168.1.10/actor", False),
    ("http://10.1.2.3:5000", "https://10.9.9.9/actor", True),
])
def test_which_strangers_addresses_a_node_contacts(own, stranger, allowed):
    if allowed:
        require_reachable_from(stranger, own)
    else:
        with pytest.raises(PeerUnreachable, match="address"):
            require_reachable_from(stranger, own)
