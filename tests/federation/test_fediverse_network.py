"""A running node (`knet run`, with its worker) followed from a fake Mastodon server over real HTTP: the fake
server fetches the node's actor for its key and checks every signature with it, as Mastodon would."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from federation.models import Follower
from knet.db import db
from knet.jobs import DONE, Job
from tests.federation.fake_mastodon import FakeMastodon
from tests.federation.network import at, eventually, write_page
from wiki.models import Page

#: Run on SQLite only: a follower's HTTP does not depend on the database.
pytestmark = pytest.mark.sqlite_only


def settled(node) -> bool:
    """Whether the node's worker has done every publishing and delivery job queued so far."""
    with at(node):
        return not db.session.scalar(select(func.count()).select_from(Job).where(
            Job.kind.in_(("fediverse.publish", "fediverse.deliver")), Job.state != DONE))


def test_a_mastodon_user_follows_a_running_node_and_gets_its_public_pages_until_they_undo(make_node):
    athens = make_node("Δήμος Αθηναίων", worker=True)
    inbox = f"{athens.url}/federation/inbox"
    with FakeMastodon() as mastodon:
        follow = mastodon.follow_activity(athens.url)
        assert mastodon.post(inbox, follow).status_code == 202
        [accept] = mastodon.wait_for("Accept")
        assert accept.verified, accept.reason
        assert accept.key_id == f"{athens.url}/federation/actor#main-key"
        assert accept.activity["object"]["id"] == follow["id"]

        with at(athens):
            write_page("Εγκύκλιος δικτύου", visibility="network")
            write_page("Εσωτερικό σημείωμα", visibility="internal")
            _, uri = write_page("Ωράριο κοινού")
        [create] = mastodon.wait_for("Create")
        assert create.verified and create.path == "/inbox"
        assert (create.activity["object"]["id"], create.activity["object"]["name"]) == (uri, "Ωράριο κοινού")
        eventually(lambda: settled(athens), "the node finished its deliveries")
        assert [arrival.activity["type"] for arrival in mastodon.arrivals] == ["Accept", "Create"]

        # Nothing from outside the network is ever written: not a Create, not a Delete of the node's own page.
        note = {"id": f"{mastodon.url}/notes/1", "type": "Note", "attributedTo": mastodon.actor, "content": "x"}
        for activity in ({"type": "Create", "object": note}, {"type": "Delete", "object": uri},
                         {"type": "Update", "object": {**create.activity["object"], "name": "Αλλαγμένο"}}):
            activity = {"id": f"{mastodon.url}/activities/{activity['type']}", "actor": mastodon.actor, **activity}
            response = mastodon.post(inbox, activity)
            assert response.status_code == 403 and response.json()["reason"] == "read-only"
        with at(athens):
            assert sorted(db.session.scalars(select(Page.title).where(Page.deleted_at.is_(None)))) == [
                "Εγκύκλιος δικτύου", "Εσωτερικό σημείωμα", "Ωράριο κοινού"]

        assert mastodon.post(inbox, mastodon.undo_activity(follow)).status_code == 202
        with at(athens):
            assert db.session.scalar(select(func.count()).select_from(Follower)) == 0
            write_page("Ανακοίνωση μετά το Undo")
        eventually(lambda: settled(athens), "the node looked at the new page")
        assert [arrival.activity["type"] for arrival in mastodon.arrivals] == ["Accept", "Create"]
        assert all(arrival.verified for arrival in mastodon.arrivals)
