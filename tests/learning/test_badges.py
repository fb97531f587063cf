"""Certificates as Open Badges 2.0 (learning.badges and the documents learning.certificate_routes serves):
valid JSON-LD in the Open Badges vocabulary, the properties the specification requires, hosted
verification followed link by link as a verifier would, a recipient never named in clear, and the
badge image."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from pyld import jsonld

from knet.db import db
from learning import certificates
from learning.models import Certificate

CONTEXT_URL = "https://w3id.org/openbadges/v2"
CONTEXT_FILE = Path(__file__).parent / "data" / "openbadges-v2-context.json"
OBI, SCHEMA = "https://w3id.org/openbadges#", "http://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
NODE = "http://127.0.0.1:5000"
EMAIL = "Maria.Papadopoulou@example.gr"


def offline_loader(url: str, options=None) -> dict:
    """Serve the bundled Open Badges v2 context for its address; refuse anything else (no network)."""
    if url != CONTEXT_URL:
        raise ValueError(f"the test refused to load {url}")
    return {"contextUrl": None, "documentUrl": url, "document": json.loads(CONTEXT_FILE.read_text("utf-8"))}


def expand(document: dict) -> dict:
    """The document expanded to full IRIs: a term the context does not define would silently vanish,
    so the tests below compare whole sets of properties."""
    [expanded] = jsonld.expand(document, {"documentLoader": offline_loader})
    return expanded


def value(node: dict, iri: str):
    [found] = node[iri]
    return found.get("@value", found.get("@id"))


@pytest.fixture
def learner(make_user):
    person = make_user("maria", role="reader")
    person.display_name, person.email = "Μαρία Παπαδοπούλου", EMAIL
    db.session.commit()
    return person


@pytest.fixture
def certificate(trainer, learner, make_course, complete_course) -> Certificate:
    return complete_course(learner, make_course(trainer, visibility="public"))


def fetch(client, address: str):
    """GET a document by its full address on this node, as a verifier would."""
    assert address.startswith(NODE + "/"), address
    return client.get(urlsplit(address).path)


def test_the_documents_expand_to_the_open_badges_vocabulary(certificate, client):
    assertion = client.get(f"/learning/certificates/{certificate.id}.json").json
    node = expand(assertion)
    assert node["@id"] == f"{NODE}/learning/certificates/{certificate.id}.json"
    assert node["@type"] == [OBI + "Assertion"]
    assert set(node) == {"@id", "@type", OBI + "recipient", OBI + "badge", OBI + "verify", OBI + "issueDate"}
    assert value(node, OBI + "badge") == f"{NODE}/learning/courses/{certificate.course_id}/badge.json"
    assert node[OBI + "issueDate"][0]["@type"] == XSD + "dateTime"
    [verification] = node[OBI + "verify"]
    assert verification["@type"] == [OBI + "HostedBadge"]
    [recipient] = node[OBI + "recipient"]
    assert recipient["@type"] == [SCHEMA + "email"]
    assert set(recipient) == {"@type", OBI + "hashed", OBI + "salt", OBI + "identityHash"}
    assert recipient[OBI + "hashed"] == [{"@type": XSD + "boolean", "@value": True}]

    badge = expand(fetch(client, assertion["badge"]).json)
    assert badge["@type"] == [OBI + "BadgeClass"] and badge["@id"] == assertion["badge"]
    assert set(badge) == {"@id", "@type", SCHEMA + "name", SCHEMA + "description", SCHEMA + "image",
                          OBI + "criteria", OBI + "issuer"}
    assert value(badge, SCHEMA + "name") == "Δημόσιες συμβάσεις για αρχάριους"
    assert value(badge, SCHEMA + "image") == f"{NODE}/learning/courses/{certificate.course_id}/badge.svg"
    [criteria] = badge[OBI + "criteria"]
    assert criteria["@id"] == f"{NODE}/learning/courses/{certificate.course_id}"
    assert set(criteria) == {"@id", OBI + "narrative"}

    issuer = expand(fetch(client, value(badge, OBI + "issuer")).json)
    assert issuer["@type"] == [OBI + "Profile"] and issuer["@id"] == f"{NODE}/learning/issuer.json"
    assert value(issuer, SCHEMA + "name") == "Δήμος Δοκιμών" and value(issuer, SCHEMA + "url") == NODE
    [policy] = issuer[OBI + "verify"]
    assert policy["@type"] == [OBI + "VerificationObject"]
    assert value(policy, "http://purl.org/dqm-vocabulary/v1/dqm#startsWith") == f"{NODE}/learning/certificates/"


def test_the_loader_refuses_other_contexts():
    with pytest.raises(jsonld.JsonLdError):
        expand({"@context": "https://example.org/context", "name": "x"})


def test_hosted_verification_as_a_verifier_follows_it(certificate, client, app):
    """The Open Badges 2.0 verification steps for a hosted assertion, with the properties each class requires."""
    app.config["KNET"]["mail"]["sender"] = "Δήμος Δοκιμών <knet@dokimes.example.gr>"
    address = f"{NODE}/learning/certificates/{certificate.id}.json"
    assertion = fetch(client, address).json
    assert {"@context", "id", "type", "recipient", "badge", "verification", "issuedOn"} <= set(assertion)
    assert assertion["@context"] == CONTEXT_URL and assertion["type"] == "Assertion"
    assert assertion["id"] == address  # hosted: the assertion lives at its id
    assert assertion["verification"] == {"type": "hosted"}
    assert {"identity", "type", "hashed"} <= set(assertion["recipient"])
    issued = datetime.fromisoformat(assertion["issuedOn"])
    assert issued.tzinfo is not None and issued.utcoffset().total_seconds() == 0
    badge = fetch(client, assertion["badge"]).json
    assert {"@context", "id", "type", "name", "description", "image", "criteria", "issuer"} <= set(badge)
    assert badge["type"] == "BadgeClass" and badge["criteria"]["narrative"]
    assert fetch(client, badge["image"]).status_code == 200
    issuer = fetch(client, badge["issuer"]).json
    # An issuer Profile needs id, type, name, url and email.
    assert {"@context", "id", "type", "name", "url", "email"} <= set(issuer)
    assert issuer["email"] == "knet@dokimes.example.gr"
    # The assertion is within the issuer's scope: same host, and under its startsWith.
    assert urlsplit(assertion["id"]).netloc == urlsplit(issuer["id"]).netloc
    assert assertion["id"].startswith(issuer["verification"]["startsWith"])


def test_a_node_that_sends_no_mail_publishes_no_issuer_address(client):
    assert "email" not in client.get("/learning/issuer.json").json


def test_the_issuer_address_set_for_certificates_comes_before_the_mail_sender(client, app):
    app.config["KNET"]["mail"]["sender"] = "Δήμος Δοκιμών <knet@dokimes.example.gr>"
    app.config["KNET"]["learning"]["issuer_email"] = "ekpaideusi@dokimes.example.gr"
    assert client.get("/learning/issuer.json").json["email"] == "ekpaideusi@dokimes.example.gr"


def test_the_recipient_is_a_salted_hash_never_the_address(trainer, learner, make_course, complete_course, client):
    first = complete_course(learner, make_course(trainer, "Πρώτο μάθημα"))
    second = complete_course(learner, make_course(trainer, "Δεύτερο μάθημα"))
    recipients = []
    for certificate in (first, second):
        response = client.get(f"/learning/certificates/{certificate.id}.json")
        body = response.get_data(as_text=True)
        assert "example.gr" not in body.lower() and "maria" not in body.lower()
        recipient = response.json["recipient"]
        assert recipient["type"] == "email" and recipient["hashed"] is True and recipient["salt"]
        # Whoever knows the address can check it: sha256 of the address in lower case, then the salt.
        expected = hashlib.sha256((EMAIL.lower() + recipient["salt"]).encode()).hexdigest()
        assert recipient["identity"] == f"sha256${expected}"
        recipients.append(recipient)
    # Each certificate has its own salt, so one person's certificates cannot be matched by their hashes.
    assert recipients[0]["salt"] != recipients[1]["salt"] and recipients[0]["identity"] != recipients[1]["identity"]


def test_without_an_email_address_the_recipient_is_the_hashed_profile(trainer, make_user, make_course,
                                                                       complete_course, client):
    person = make_user("nikos", role="reader")
    certificate = complete_course(person, make_course(trainer))
    recipient = client.get(f"/learning/certificates/{certificate.id}.json").json["recipient"]
    expected = hashlib.sha256(f"{NODE}/people/nikos{recipient['salt']}".encode()).hexdigest()
    assert recipient == {"type": "url", "hashed": True, "salt": recipient["salt"], "identity": f"sha256${expected}"}
    assert expand({"@context": CONTEXT_URL, "recipient": recipient})[OBI + "recipient"][0]["@type"] == [SCHEMA + "url"]


@pytest.mark.parametrize("accept, media_type", [
    (None, "application/ld+json"), ("*/*", "application/ld+json"), ("application/ld+json", "application/ld+json"),
    ("application/json", "application/json"), ("application/ld+json, application/json;q=0.9", "application/ld+json"),
])
def test_documents_are_json_ld_unless_plain_json_is_all_that_is_asked_for(certificate, client, accept, media_type):
    headers = {"Accept": accept} if accept else {}
    for address in (f"/learning/certificates/{certificate.id}.json", f"/learning/courses/{certificate.course_id}"
                    "/badge.json", "/learning/issuer.json"):
        response = client.get(address, headers=headers)
        assert response.status_code == 200 and response.mimetype == media_type
        # Any verifier, even one running in a web page elsewhere, may read them.
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["X-Content-Type-Options"] == "nosniff" and "Accept" in response.vary


def test_a_revoked_assertion_answers_410_with_only_its_revocation(certificate, make_user, client):
    certificates.revoke(make_user("ada", role="admin"), certificate, "Απονεμήθηκε κατά λάθος.")
    db.session.commit()
    response = client.get(f"/learning/certificates/{certificate.id}.json")
    assert response.status_code == 410 and response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json == {"@context": CONTEXT_URL, "type": "Assertion",
                             "id": f"{NODE}/learning/certificates/{certificate.id}.json", "revoked": True,
                             "revocationReason": "Απονεμήθηκε κατά λάθος."}
    node = expand(response.json)
    assert node[OBI + "revoked"] == [{"@type": XSD + "boolean", "@value": True}]
    assert value(node, OBI + "revocationReason") == "Απονεμήθηκε κατά λάθος."


def test_the_badge_image_is_an_svg_that_runs_nothing(trainer, learner, make_course, complete_course, client):
    title = 'Συμβάσεις <script>alert("x")</script> & ΚΗΜΔΗΣ για όλους τους υπαλλήλους του δήμου'
    certificate = complete_course(learner, make_course(trainer, title))
    response = client.get(f"/learning/courses/{certificate.course_id}/badge.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    svg = ElementTree.fromstring(response.get_data())
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert not [element for element in svg.iter() if element.tag.endswith(("script", "foreignObject"))]
    assert not [name for element in svg.iter() for name in element.attrib if name.lower().startswith("on")]
    texts = [element.text for element in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0].startswith("Συμβάσεις") and texts[-1] == "Δήμος Δοκιμών" and len(texts) == 4
    assert svg.find("{http://www.w3.org/2000/svg}title").text == f"{title} · Δήμος Δοκιμών"


def test_a_badge_is_public_only_for_public_courses_and_courses_someone_holds_a_certificate_of(
        trainer, learner, make_course, complete_course, client):
    client.set_cookie("knet_lang", "en")
    internal, public = make_course(trainer, "Εσωτερικό μάθημα"), make_course(trainer, "Ανοιχτό", visibility="public")
    draft = make_course(trainer, "Πρόχειρο", visibility="public", publish=False)
    for course in (internal, draft):
        for address in (f"/learning/courses/{course.id}/badge.json", f"/learning/courses/{course.id}/badge.svg"):
            assert client.get(address).status_code == 404
    refused = client.get(f"/learning/courses/{internal.id}/badge.json")
    assert refused.mimetype == "application/problem+json" and "nobody has a certificate" in refused.json["detail"]
    assert client.get("/learning/courses/99999999999/badge.json").status_code == 404
    assert client.get(f"/learning/courses/{public.id}/badge.json").json["description"] == "Τα βασικά των προμηθειών."
    complete_course(learner, internal)
    badge = client.get(f"/learning/courses/{internal.id}/badge.json").json
    # The title is on every certificate anyway; the summary of a course only staff may read is not given.
    assert badge["name"] == "Εσωτερικό μάθημα" and "προμηθειών" not in badge["description"]
    assert "Εσωτερικό μάθημα" in badge["description"]
