"""Discovery, as a peer or any fediverse server reads it: NodeInfo 2.1 (checked against the schema in the
shared corpus) and WebFinger, which finds the node and people who chose to be seen by the network, and
no one else."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from federation import keys
from knet.db import db, utcnow

NODE = "http://127.0.0.1:5000"
HOST = "127.0.0.1:5000"


@pytest.fixture
def staff(make_user):
    seen = {name: make_user(name, role="reader") for name in ("maria", "kostas", "eleni", "former")}
    seen["maria"].profile_visibility = "network"
    seen["eleni"].profile_visibility = "public"
    seen["maria"].last_sign_in_at = utcnow() - timedelta(days=3)
    seen["kostas"].last_sign_in_at = utcnow() - timedelta(days=100)
    seen["former"].profile_visibility, seen["former"].active = "network", False
    db.session.commit()
    return seen


def test_nodeinfo_is_found_from_the_well_known_address_and_follows_the_schema(client, corpus, staff):
    links = client.get("/.well-known/nodeinfo")
    assert links.status_code == 200 and links.headers["Access-Control-Allow-Origin"] == "*"
    [link] = links.json["links"]
    assert link == {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": f"{NODE}/nodeinfo/2.1"}
    response = client.get("/nodeinfo/2.1")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json; profile=")
    document = response.json
    schema = json.loads((corpus / "nodeinfo" / "nodeinfo_2.1_schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    assert document["software"]["name"] == "knet" and document["protocols"] == ["activitypub"]
    assert document["openRegistrations"] is False
    # Active accounts only: the deactivated one is not counted.
    assert document["usage"]["users"] == {"total": 3, "activeMonth": 1, "activeHalfyear": 2}
    assert document["metadata"]["municipality"] == "Δήμος Δοκιμών"
    assert document["metadata"]["knetProtocolVersion"] == 1
    assert document["metadata"]["actor"] == f"{NODE}/federation/actor"


@pytest.mark.parametrize("resource", [f"acct:{HOST}@{HOST}", NODE, NODE + "/", f"{NODE}/federation/actor",
                                      f"acct:{HOST}@{HOST.upper()}"])
def test_webfinger_finds_the_node_itself(client, resource):
    response = client.get("/.well-known/webfinger", query_string={"resource": resource})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/jrd+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    jrd = response.json
    assert jrd["subject"] == f"acct:{HOST}@{HOST}"
    assert {"rel": "self", "type": "application/activity+json", "href": f"{NODE}/federation/actor"} in jrd["links"]


def test_webfinger_finds_people_who_chose_the_network_and_no_one_else(client, staff):
    for name in ("maria", "eleni"):
        response = client.get("/.well-known/webfinger", query_string={"resource": f"acct:{name}@{HOST}"})
        assert response.status_code == 200
        assert response.json == {
            "subject": f"acct:{name}@{HOST}", "aliases": [f"{NODE}/people/{name}"],
            "links": [{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                       "href": f"{NODE}/people/{name}"}]}
    # An internal profile, a deactivated account and nobody at all answer the very same way.
    answers = [client.get("/.well-known/webfinger", query_string={"resource": f"acct:{name}@{HOST}"})
               for name in ("kostas", "former", "nobody")]
    assert {answer.status_code for answer in answers} == {404}
    assert len({answer.get_data() for answer in answers}) == 1
    assert all(answer.mimetype == "application/problem+json" for answer in answers)
    assert "kostas" not in answers[0].get_data(as_text=True)


def test_webfinger_keeps_only_the_relations_asked_for(client, staff):
    response = client.get("/.well-known/webfinger", query_string=[("resource", f"acct:{HOST}@{HOST}"),
                                                                  ("rel", "self")])
    assert [link["rel"] for link in response.json["links"]] == ["self"]


@pytest.mark.parametrize("resource, status", [
    (None, 400), ("", 400), ("acct:maria@elsewhere.example", 404), ("acct:maria", 404), ("acct:@" + HOST, 404),
    ("mailto:maria@" + HOST, 404), ("acct:m\x00aria@" + HOST, 400), ("acct:" + "x" * 5000 + "@" + HOST, 400),
    ("acct:o*(b)\\x@" + HOST, 404), ("acct:' OR 1=1 --@" + HOST, 404), ("https://elsewhere.example/", 404),
])
def test_odd_webfinger_questions_get_a_clear_answer(client, staff, resource, status):
    response = client.get("/.well-known/webfinger", query_string={} if resource is None else {"resource": resource})
    assert response.status_code == status
    assert response.mimetype == "application/problem+json" and response.json["detail"]


def test_the_node_document_publishes_the_current_key_and_every_key_still_accepted(app, client):
    instance = Path(app.instance_path)
    response = client.get("/federation/actor")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/activity+json"
    document = response.json
    assert (document["id"], document["type"], document["name"]) == (f"{NODE}/federation/actor", "Organization",
                                                                    "Δήμος Δοκιμών")
    assert document["inbox"] == f"{NODE}/federation/inbox"
    first = keys.load(instance).current
    assert document["knet:keys"] == [{
        "id": f"{NODE}/federation/actor#key-{first.id}", "owner": f"{NODE}/federation/actor",
        "publicKeyPem": keys.public_pem(first.public_key), "knet:fingerprint": keys.fingerprint(first.public_key),
        "knet:expires": None}]
    # publicKey is what the rest of the fediverse reads: the node's RSA key, as Mastodon publishes one.
    assert document["publicKey"] == {
        "id": f"{NODE}/federation/actor#main-key", "owner": f"{NODE}/federation/actor",
        "publicKeyPem": keys.public_pem(keys.fediverse_key(instance).public_key())}
    assert "PRIVATE" not in response.get_data(as_text=True)

    keys.rotate(instance, timedelta(days=2))
    document = client.get("/federation/actor").json
    second = keys.load(instance).current
    assert document["knet:keys"][-1]["id"].endswith(second.id) and second.id != first.id
    assert [key["id"].rsplit("-", 1)[1] for key in document["knet:keys"]] == [first.id, second.id]
    assert document["knet:keys"][0]["knet:expires"] is not None


def test_every_node_has_a_key_of_its_own(app, node_template):
    """Test nodes are copies of one made by `knet init`, which gave it a key: a copy makes its own."""
    template, _url = node_template
    assert keys.load(template).current.id != keys.load(Path(app.instance_path)).current.id
