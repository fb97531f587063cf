"""Erasing a person at their home reaches its peers (two `knet run` nodes with their workers, over real HTTP):
the replica of their profile becomes a tombstone, and the replicas of what they wrote name former staff, in
each reader's language."""
from __future__ import annotations

import requests
from sqlalchemy import select

from auth import people, services as auth_services
from auth.content import person_uri
from auth.people import ProfileInput
from federation.models import Replica
from knet.db import db
from tests.federation.network import FAST, at, eventually, peer_all, replicas
from wiki import services as wiki
from wiki.content import page_uri


def test_an_erased_author_is_former_staff_at_every_peer(make_node):
    athens, thessaloniki = (make_node(name, worker=True, **FAST) for name in ("Δήμος Αθηναίων", "Δήμος Θεσσαλονίκης"))
    peer_all(athens, thessaloniki)
    with at(athens):
        maria = auth_services.create_local_user("maria", "a long test password", role="editor",
                                                display_name="Μαρία Παπαδοπούλου")
        people.update_profile(maria, maria, ProfileInput(about="ΕΣΠΑ", visibility="network"))
        page = wiki.create_page(maria, wiki.PageInput("Οδηγός ΕΣΠΑ", "Πώς γράφουμε πρόταση."), 100_000)
        page.visibility = "public"
        db.session.commit()
        profile, written = person_uri(maria), page_uri(page.id)

    def names() -> dict:
        return {uri: name for uri, (_version, name) in replicas(thessaloniki, athens).items()}

    eventually(lambda: names().get(profile) == "Μαρία Παπαδοπούλου" and names().get(written) == "Οδηγός ΕΣΠΑ",
               "Thessaloniki has Maria's profile and page")
    result = athens.knet("user", "erase", "--username", "maria", "--yes")
    assert result.returncode == 0, result.stderr

    def author_of_copy() -> dict:
        with at(thessaloniki):
            copy = db.session.scalar(select(Replica).where(Replica.uri == written))
            return copy.document.get("attributedTo") or {}

    eventually(lambda: names().get(profile, "") is None, "the profile's replica at Thessaloniki is a tombstone")
    eventually(lambda: author_of_copy().get("knet:formerStaff") is True, "the page's copy names former staff")
    assert "Μαρία" not in repr(author_of_copy())
    shown = requests.get(f"{thessaloniki.url}/network/object", params={"uri": written},
                         cookies={"knet_lang": "en"}, timeout=10)
    assert shown.status_code == 200 and "former staff" in shown.text and "Παπαδοπούλου" not in shown.text
    gone = requests.get(f"{thessaloniki.url}/network/object", params={"uri": profile}, timeout=10)
    assert gone.status_code == 410
