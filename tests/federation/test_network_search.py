"""Network search between real nodes: one search at a node asks its peers live (GET /federation/search,
signed), merges their answers with its own objects and the copies it keeps, and names the peers that did
not answer in time; a peer that hangs costs one deadline, not every search."""
from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlencode

import pytest
import requests

from auth import services as auth_services
from knet.db import db
from tests.federation.conftest import node_maker
from tests.federation.network import FAST, at, eventually, peer_all, replicas, signed_get, write_page

#: Run on SQLite only: merging answers over HTTP does not depend on the database.
pytestmark = pytest.mark.sqlite_only

DEADLINE_MS = 800


@pytest.fixture(scope="module")
def towns(tmp_path_factory, node_template, postgres):
    """Athens and Thessaloniki run their workers; Heraklion does not, so it applies no pushes and keeps no
    copies: what it finds of the others, it found by asking them. Started once for the module: each test
    searches words of its own, and a test that stops a node starts it again."""
    settings = {"federation": {**FAST["federation"], "search_deadline_ms": DEADLINE_MS}}
    with node_maker(tmp_path_factory.mktemp("network-search"), node_template, postgres) as make:
        athens = make("Δήμος Αθηναίων", worker=True, **settings)
        thessaloniki = make("Δήμος Θεσσαλονίκης", worker=True, **settings)
        heraklion = make("Δήμος Ηρακλείου", **settings)
        peer_all(athens, thessaloniki, heraklion)
        yield athens, thessaloniki, heraklion


def token_at(node, username: str = "eleni") -> dict[str, str]:
    """An API token of a member of the node's staff (who may read `network` objects)."""
    with at(node):
        user = auth_services.create_local_user(username, "a long test password", role="editor")
        token = auth_services.issue_token(user)
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def search(node, words: str, headers: dict | None = None, **args) -> dict:
    answer = requests.get(f"{node.url}/api/v1/search", params={"q": words, "scope": "network", **args},
                          headers=headers or {}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def copy_indexed(node, words: str, uri: str) -> bool:
    """Whether the node's index has its copy of a peer's object (the search box's network suggestions
    come from the index alone, without asking peers)."""
    answer = requests.get(f"{node.url}/api/v1/search/suggestions", params={"q": words, "scope": "network"},
                          timeout=10).json()
    return uri in [result["uri"] for result in answer["results"]]


def test_a_network_search_asks_every_peer_and_merges_what_they_answer(towns):
    athens, thessaloniki, heraklion = towns
    with at(athens):
        _, athens_public = write_page("Ανακύκλωση στις γειτονιές", "Κάδοι ανακύκλωσης σε κάθε γειτονιά.", "public")
        _, athens_network = write_page("Ανακύκλωση: οδηγίες για συναδέλφους", "Για υπαλλήλους άλλων δήμων.", "network")
        write_page("Ανακύκλωση: εσωτερικό σημείωμα", "Μόνο για το προσωπικό μας.", "internal")
    with at(thessaloniki):
        _, thessaloniki_public = write_page("Ανακύκλωση γυαλιού", "Οι μπλε κάδοι για το γυαλί.", "public")
    # Anonymous at Heraklion: the public pages of both peers, each with its home, nothing else.
    found = eventually(lambda: (lambda body: body if body["total"] == 2 else None)(search(heraklion, "ανακύκλωση")),
                       "Heraklion's network search finds both peers' public pages")
    assert {(hit["uri"], hit["home"]) for hit in found["results"]} == {(athens_public, athens.url),
                                                                       (thessaloniki_public, thessaloniki.url)}
    assert found["silent"] == []
    assert {c["value"]: c["count"] for c in found["facets"]["home"]} == {athens.url: 1, thessaloniki.url: 1}
    with at(heraklion):
        assert replicas(heraklion, athens) == {}  # no copies: the answers were live

    # Staff of Heraklion also find Athens's network page, never its internal one.
    staff_token = token_at(heraklion)
    staff = eventually(lambda: (lambda body: body if body["total"] == 3 else None)(
        search(heraklion, "ανακύκλωση", staff_token)), "Heraklion's staff also find Athens's network page")
    assert {hit["uri"] for hit in staff["results"]} == {athens_public, athens_network, thessaloniki_public}
    assert "εσωτερικό" not in repr(staff)

    # Narrowed to one municipality, only that one is asked and counted.
    only_athens = search(heraklion, "ανακύκλωση", token_at(heraklion, "nikos"), home=athens.url)
    assert {hit["home"] for hit in only_athens["results"]} == {athens.url} and only_athens["total"] == 2


def test_a_copy_and_its_homes_live_answer_are_one_result(towns):
    athens, thessaloniki, _ = towns
    with at(athens):
        _, uri = write_page("Ψηφιακές υπογραφές", "Πώς υπογράφουμε ψηφιακά τα έγγραφα.", "public")
    eventually(lambda: copy_indexed(thessaloniki, "υπογραφ", uri), "Thessaloniki indexes its copy of Athens's page")
    found = search(thessaloniki, "υπογραφές")
    assert [(hit["uri"], hit["home"]) for hit in found["results"]] == [(uri, athens.url)]
    assert found["total"] == 1 and found["silent"] == []
    assert found["facets"]["home"] == [{"value": athens.url, "count": 1}]
    # With Athens down, the copy stands in, and the search says Athens did not answer.
    athens.stop()
    try:
        fallback = search(thessaloniki, "υπογραφές")
        assert [(hit["uri"], hit["home"]) for hit in fallback["results"]] == [(uri, athens.url)]
        assert fallback["silent"] == ["Δήμος Αθηναίων"] and fallback["total"] == 1
    finally:
        athens.start()


class BlackHole:
    """A listener that accepts connections and never answers, counting the searches asked of it (peers'
    pushes and pulls reach it too)."""

    def __init__(self, port: int):
        self.searches = 0
        self._held: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            self._held.append(connection)
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        connection.settimeout(5)
        try:
            first = connection.recv(4096)
        except OSError:
            return
        if first.startswith(b"GET /federation/search?"):
            with self._lock:
                self.searches += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self._held:
            connection.close()
        self._server.close()


def test_a_peer_that_hangs_is_named_and_then_left_out_until_it_is_probed(towns):
    athens, thessaloniki, heraklion = towns
    with at(athens):
        write_page("Κοινωνικό παντοπωλείο", "Το κοινωνικό παντοπωλείο του δήμου.", "public")
    eventually(lambda: search(heraklion, "παντοπωλείο")["total"] == 1, "Heraklion finds Athens's page live")
    thessaloniki.stop()
    hole = BlackHole(int(thessaloniki.url.rsplit(":", 1)[1]))
    try:
        started = time.monotonic()
        found = search(heraklion, "παντοπωλείο")
        waited = time.monotonic() - started
        assert found["silent"] == ["Δήμος Θεσσαλονίκης"] and found["total"] == 1
        # The answer came by the deadline, not by the hung request (which would wait for ever).
        assert waited < DEADLINE_MS / 1000 + 2.0
        assert hole.searches == 1
        # The next searches leave Thessaloniki out (its circuit is open) and still name it.
        for _ in range(3):
            again = search(heraklion, "παντοπωλείο")
            assert again["silent"] == ["Δήμος Θεσσαλονίκης"] and again["total"] == 1
        assert hole.searches == 1
        # The page shows the note too, naming the municipality.
        page = requests.get(f"{heraklion.url}/search", params={"q": "παντοπωλείο", "scope": "network"}, timeout=10)
        assert page.status_code == 200 and "Δήμος Θεσσαλονίκης" in page.text and "silent-peers" in page.text
        assert hole.searches == 1
        # After the breaker's wait (5 s), one search probes it again.
        eventually(lambda: search(heraklion, "παντοπωλείο") and hole.searches == 2,
                   "Heraklion probes Thessaloniki again after its wait", seconds=15)
    finally:
        hole.close()
        thessaloniki.start()


def test_only_active_peers_may_ask_and_bad_questions_get_reasons(towns, make_node):
    athens, thessaloniki, _ = towns
    stranger = make_node("Δήμος Ξένος")
    with at(stranger):
        answer = signed_get(stranger, f"{athens.url}/federation/search?q=test")
    assert answer.status == 401
    assert requests.get(f"{athens.url}/federation/search?q=test", timeout=10).status_code == 401
    for args, field in (({"q": " "}, "q"), ({"q": "λ" * 501}, "q"), ({"q": "a\x01b"}, "q"),
                        ({"q": "a", "limit": "0"}, "limit"), ({"q": "a", "limit": "abc"}, "limit"),
                        ({"q": "a", "type": "poll"}, "type"), ({"q": "a", "audience": "everyone"}, "audience"),
                        ({"q": "a", "since": "yesterday"}, "since"), ({"q": "a", "lang": "fr"}, "lang")):
        with at(thessaloniki):
            answer = signed_get(thessaloniki, f"{athens.url}/federation/search?{urlencode(args)}")
        assert answer.status == 400, args
        assert answer.document["field"] == field, args


def test_a_peer_answers_for_its_own_objects_and_only_those_its_audience_may_read(towns):
    athens, thessaloniki, _ = towns
    with at(athens):
        write_page("Δημοτικές κατασκηνώσεις", "Οι κατασκηνώσεις του δήμου.", "public")
        write_page("Κατασκηνώσεις: προσωπικό", "Το προσωπικό των κατασκηνώσεων.", "network")
        write_page("Κατασκηνώσεις: προϋπολογισμός", "Εσωτερικό.", "internal")
    with at(thessaloniki):
        _, theirs = write_page("Κατασκηνώσεις Θεσσαλονίκης", "Οι δικές μας κατασκηνώσεις.", "public")
    eventually(lambda: replicas(athens, thessaloniki).get(theirs, (0, None))[1] is not None,
               "Athens keeps a copy of Thessaloniki's page")

    def ask(audience: str) -> dict:
        with at(thessaloniki):
            answer = signed_get(thessaloniki, f"{athens.url}/federation/search?"
                                              + urlencode({"q": "κατασκηνώσεις", "audience": audience}))
        assert answer.status == 200
        return answer.document

    public, network = eventually(lambda: (lambda p, n: (p, n) if n["total"] == 2 else None)(ask("public"),
                                                                                             ask("network")),
                                 "Athens answers with its two shareable pages")
    assert [hit["title"] for hit in public["results"]] == ["Δημοτικές κατασκηνώσεις"]
    assert sorted(hit["title"] for hit in network["results"]) == ["Δημοτικές κατασκηνώσεις", "Κατασκηνώσεις: προσωπικό"]
    # Never the internal page, never the copy of Thessaloniki's page that Athens keeps.
    for answer in (public, network):
        assert all(hit["home"] == athens.url and hit["uri"].startswith(athens.url) for hit in answer["results"])
        assert "προϋπολογισμός" not in repr(answer) and theirs not in repr(answer)
    assert [hit["rank"] for hit in network["results"]] == [1, 2]
