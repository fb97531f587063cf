"""A person erased at home is erased at the peers where they signed in (real `knet run` nodes over real
HTTP): their home pushes each of those peers a signed "account purged" security event, and tries again
while a peer is down. A peer takes such an event only from the home of the visitor it names."""
from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy import select, update

from auth import services as auth_services
from auth.account_purge import EVENTS_PATH, PURGED, TELL_JOB
from auth.models import AuditEvent, User
from federation import keys
from knet.db import db, utcnow
from knet.jobs import DONE, PENDING, Job
from qa import services as qa
from qa.services import QuestionInput
from tests.federation.fake_peer import FakePeer
from tests.federation.network import at, eventually, peer_all
from tests.conftest import PASSWORD
from tests.federation.test_sign_on import (Browser, consent, form_fields, me, sign_in_at_home,
                                               start)

#: Run on SQLite only: what nodes tell each other does not depend on the database.
pytestmark = pytest.mark.sqlite_only


def tell_jobs(node) -> list[tuple[str, int, str]]:
    with at(node):
        return [(job.state, job.attempts, job.last_error or "")
                for job in db.session.scalars(select(Job).where(Job.kind == TELL_JOB))]


def test_a_person_erased_at_home_is_erased_where_they_signed_in_even_if_that_node_was_down(make_node):
    athens = make_node("Δήμος Αθηναίων", worker=True)
    thessaloniki = make_node("Δήμος Θεσσαλονίκης")
    peer_all(athens, thessaloniki)
    with at(athens):
        auth_services.create_local_user("eleni", PASSWORD, role="editor", display_name="Eleni Π.")
        db.session.commit()
    username = "eleni"
    browser = Browser()
    consent(browser, sign_in_at_home(browser, start(browser, thessaloniki, athens.url), athens, username))
    visiting = f"eleni@{urlsplit(athens.url).netloc}"
    assert me(browser, thessaloniki)["username"] == visiting
    with at(thessaloniki):
        visitor = User.by_username(visiting)
        visitor_id = visitor.id
        question = qa.ask(visitor, QuestionInput(title="Πώς δηλώνουμε βλάβη φωτισμού;", body="Σε ποιο τμήμα;",
                                                 visibility="network"))
        db.session.commit()
        address = qa.question_uri(question.id)

    thessaloniki.stop()
    erased = athens.knet("user", "erase", "--username", "eleni", "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "The 1 peer(s) where they signed in will be told to erase their visitor account too: " \
           "Δήμος Θεσσαλονίκης." in erased.stdout
    failed = eventually(lambda: [job for job in tell_jobs(athens) if job[1] >= 1],
                        "Athens tried to tell Thessaloniki, which is down")
    assert failed[0][0] == PENDING and thessaloniki.url in failed[0][2], "it will try again"

    thessaloniki.start()
    with at(athens):  # as if the wait before the next try had passed
        db.session.execute(update(Job).where(Job.kind == TELL_JOB).values(run_after=utcnow()))
        db.session.commit()
    eventually(lambda: [state for state, *_ in tell_jobs(athens)] == [DONE], "Athens told Thessaloniki")

    with at(thessaloniki):
        account = db.session.get(User, visitor_id)
        assert account.is_erased and not account.active and account.username == f"former-{visitor_id}"
        assert (account.display_name, account.title, account.home_issuer, account.home_subject) == ("", "", None, None)
        [entry] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "erased"))
        assert entry.detail == f"at the request of their home node, {athens.url}"
    assert me(browser, thessaloniki)["status"] == 401, "the visitor's session there ended"
    with at(thessaloniki):
        auth_services.create_local_user("nikos", PASSWORD, role="reader", display_name="Νίκος Κ.")
        db.session.commit()
    reader = Browser()
    fields = form_fields(reader.open("GET", thessaloniki.url + "/login").text, "/login")
    reader.go("POST", thessaloniki.url + "/login", data={**fields, "username": "nikos", "password": PASSWORD})
    page = reader.open("GET", address, cookies={"knet_lang": "en"})
    assert page.status_code == 200 and "former staff" in page.text and "Eleni" not in page.text, \
        "what they asked there stays, by former staff"

    # Signing in again through home is refused at home (the account there is erased); nothing is recreated.
    with at(thessaloniki):
        assert db.session.scalar(select(User).where(User.username == visiting)) is None


def event(issuer: str, audience: str, signer, subject: dict | None = None, **changes) -> str:
    """An account-purged security event as `issuer` would send it, signed by `signer` (a private key)."""
    claims = {"iss": issuer, "aud": audience, "iat": int(time.time()), "jti": secrets.token_urlsafe(8),
              "events": {PURGED: {"subject": subject or {"format": "iss_sub", "iss": issuer, "sub": "5"}}},
              **changes}
    return jwt.encode({"alg": "Ed25519", "kid": keys.key_id(signer.public_key()), "typ": "secevent+jwt"}, claims,
                      OKPKey.import_key(signer), algorithms=["Ed25519"])


def send(node, body, content_type: str = "application/secevent+jwt") -> requests.Response:
    return requests.post(node.url + EVENTS_PATH, data=body, headers={"Content-Type": content_type}, timeout=10)


def test_an_event_is_taken_only_from_the_home_of_the_visitor_it_names(make_node, tmp_path):
    athens, thessaloniki = make_node("Δήμος Αθηναίων"), make_node("Δήμος Θεσσαλονίκης")
    peer_all(athens, thessaloniki)
    host = urlsplit(athens.url).netloc
    with at(thessaloniki):
        db.session.add(User(username=f"maria@{host}", display_name="Μαρία Π.", source="peer",
                            home_issuer=athens.url, home_subject="5"))
        db.session.commit()
    with at(athens):
        athens_key = keys.load(athens.instance).current.private_key

    def still_there() -> bool:
        with at(thessaloniki):
            return db.session.scalar(select(User.home_subject).where(User.username == f"maria@{host}")) == "5"

    with FakePeer(tmp_path / "other") as other:  # another peer of Thessaloniki, with a real key of its own
        added = thessaloniki.knet("peer", "add", other.url, "--yes")
        assert added.returncode == 0 and "active" in added.stdout, added.stdout + added.stderr
        mine = other.ring.current.private_key
        refusals = {
            "not a token": (send(thessaloniki, b"{}", "application/json"), "invalid_request"),
            "not signed": (send(thessaloniki, b"abc.def.ghi"), "invalid_request"),
            "from a stranger": (send(thessaloniki, event("http://127.0.0.1:9", thessaloniki.url, mine)),
                                "invalid_issuer"),
            "in Athens's name, signed by another peer": (
                send(thessaloniki, event(athens.url, thessaloniki.url, mine)), "invalid_key"),
            "for another node": (send(thessaloniki, event(athens.url, other.url, athens_key)), "invalid_audience"),
            "an hour old": (send(thessaloniki, event(athens.url, thessaloniki.url, athens_key,
                                                     iat=int(time.time()) - 3600)), "invalid_request"),
            "naming someone of another home": (
                send(thessaloniki, event(other.url, thessaloniki.url, mine,
                                         subject={"format": "iss_sub", "iss": athens.url, "sub": "5"})),
                "invalid_request"),
            "not an erasure": (send(thessaloniki, event(athens.url, thessaloniki.url, athens_key,
                                                        events={"urn:example:other": {}})), "invalid_request"),
            "far too long": (send(thessaloniki, b"x" * 20_000), "invalid_request"),
        }
        for what, (answer, err) in refusals.items():
            assert answer.status_code == 400, (what, answer.status_code, answer.text)
            assert answer.json()["err"] == err and answer.json()["description"], (what, answer.json())
        assert still_there()

        # The other peer's own person with the same subject number: taken (202), and Maria is untouched.
        assert send(thessaloniki, event(other.url, thessaloniki.url, mine)).status_code == 202
        assert still_there()

    # Her home's own event erases her; the same event again erases nothing more.
    purge = event(athens.url, thessaloniki.url, athens_key)
    assert send(thessaloniki, purge).status_code == 202
    assert not still_there()
    assert send(thessaloniki, purge).status_code == 202
    with at(thessaloniki):
        assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "erased")).all()) == 1
