"""The federation admin page: every peer with its state, health, last day and dead letters; adding a peer
after comparing its fingerprint, suspending, resuming and removing one; only for administrators."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from html import unescape

import pytest
import requests
from flask_babel import force_locale, format_datetime

from auth import services as auth_services
from federation import keys, stats
from federation.models import Change, DeadLetter, HourlyStats, Peer, Replica
from knet.db import db, utcnow
from tests.conftest import PASSWORD
from tests.federation.fake_peer import FakePeer
from tests.federation.network import at
from tests.forms import csrf_token

#: Run on SQLite only: the page's handshake with other nodes does not depend on the database.
pytestmark = pytest.mark.sqlite_only

PAGE = "/admin/federation"
#: The address of the test node itself (tests/conftest.py's template node).
OWN_URL = "http://127.0.0.1:5000"


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def make_peer(name: str = "Δήμος Πατρέων", url: str = "http://127.0.0.1:9", **fields) -> Peer:
    peer = Peer(name=name, url=url, keys=[], **fields)
    db.session.add(peer)
    db.session.commit()
    return peer


def this_hour() -> datetime:
    """The current hour's start, not a moment before the next one (so a page asked for now sees the same hours)."""
    now = utcnow()
    if now.minute == 59 and now.second >= 55:
        time.sleep(6)
        now = utcnow()
    return now.replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def admin(make_user):
    return make_user("root", role="admin")


@pytest.fixture
def as_admin(browse, admin):
    return browse(admin)


def hours_table(html: str, peer: Peer) -> list[list[str]]:
    """The rows of the peer's hour-by-hour table: the hour, then its figures."""
    table = re.search(rf'<caption id="peer-{peer.id}-hours">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert table, "the page has no table of the peer's hours"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]


def post(client, path: str, data: dict, page: str = PAGE, with_csrf: bool = True):
    if with_csrf:
        data = {**data, "csrf_token": csrf_token(client.get(page).get_data(as_text=True))}
    return client.post(path, data=data)


# Who may see it ------------------------------------------------------------------------------------------

def test_only_administrators_reach_the_page_and_its_actions(app, client, make_user, browse):
    peer = make_peer(added_us=True)
    anonymous = client.get(PAGE)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    token = csrf_token(client.get("/login").get_data(as_text=True))
    anonymous = client.post(f"{PAGE}/suspend", data={"url": peer.url, "csrf_token": token})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    reader = browse(make_user("nikos", role="reader"))
    refused = reader.get(PAGE)
    assert refused.status_code == 403 and "Administrator" in text(refused)
    assert reader.get(f"{PAGE}/remove?url={peer.url}").status_code == 403
    token = csrf_token(reader.get("/").get_data(as_text=True))
    for action in ("suspend", "resume", "remove", "add", "add/confirm"):
        response = reader.post(f"{PAGE}/{action}", data={"url": peer.url, "csrf_token": token})
        assert response.status_code == 403, action
    db.session.expire_all()
    assert db.session.get(Peer, peer.id).state == "active"
    assert "Federation" not in text(reader.get("/"))  # the menu link is for administrators


def test_administrators_find_the_page_in_the_menu(app, as_admin):
    assert f'href="{PAGE}"' in as_admin.get("/").get_data(as_text=True)
    page = as_admin.get(PAGE)
    assert page.status_code == 200 and f'href="{PAGE}" aria-current="page"' in page.get_data(as_text=True)


# What it shows -------------------------------------------------------------------------------------------

def test_with_no_peers_it_says_how_to_add_one(app, as_admin):
    page = text(as_admin.get(PAGE))
    assert "This node has no peers yet" in page and "knet peer add" in page
    assert f"this node's address, {OWN_URL}" in page
    assert 'name="url"' in page and 'action="/admin/federation/add"' in page


def test_each_peer_shows_its_state_health_and_failures(app, as_admin):
    now = utcnow()
    failing = make_peer("Δήμος Πατρέων", "http://127.0.0.1:9", added_us=True, pushed_seq=2, last_contact_at=now,
                        failing_since=now - timedelta(hours=2), push_failures=7,
                        next_push_at=now + timedelta(minutes=5),
                        last_error="http://127.0.0.1:9/federation/inbox answered 503: Down for maintenance")
    pending = make_peer("Δήμος Λάρισας", "http://127.0.0.1:8")
    suspended = make_peer("Δήμος Βόλου", "http://127.0.0.1:7", added_us=True, suspended=True)
    for seq in range(1, 6):
        db.session.add(Change(seq=seq, uri=f"{OWN_URL}/wiki/{seq}", content_type="page", object_id=seq,
                              activity="Create", document={"name": f"Σελίδα {seq}"}))
    for number in range(4):
        db.session.add(Replica(uri=f"{failing.url}/wiki/{number}", peer_id=failing.id, kind="page", version=1,
                               document={"name": f"Αντίγραφο {number}"}))
    db.session.commit()
    page = text(as_admin.get(PAGE))

    def section(peer: Peer) -> str:
        found = re.search(rf'<section id="peer-{peer.id}".*?</section>', page, re.S)
        assert found, peer.name
        return re.sub(r"\s+", " ", found.group(0))

    shown = section(failing)
    assert "Δήμος Πατρέων" in shown and f'href="{failing.url}"' in shown
    assert "<dd>active: both nodes have added each other</dd>" in shown
    assert "<dt>Changes waiting to be sent</dt><dd>3</dd>" in shown  # 5 in the log, 2 accepted
    assert "<dt>Replicas kept</dt><dd>4</dd>" in shown
    assert "<dt>Last contact</dt><dd>never</dd>" not in shown
    assert "7 tries in a row" in shown and "next try" in shown
    assert ("<dt>Last failure</dt><dd>http://127.0.0.1:9/federation/inbox answered 503: Down for maintenance</dd>"
            in shown)
    assert 'action="/admin/federation/suspend"' in shown and 'action="/admin/federation/resume"' not in shown
    waiting = section(pending)
    assert "pending: waiting for its administrator to add this node" in waiting and OWN_URL in waiting
    assert "<dt>Last contact</dt><dd>never</dd>" in waiting and "Deliveries failing since" not in waiting
    assert "<dt>Changes waiting to be sent</dt><dd>5</dd>" in waiting
    paused = section(suspended)
    assert "suspended: nothing is sent to it or accepted from it" in paused
    assert 'action="/admin/federation/resume"' in paused and 'action="/admin/federation/suspend"' not in paused
    assert "/admin/federation/remove?url=http://127.0.0.1:7" in paused


def test_the_most_recent_dead_letters_are_listed_and_all_counted(app, as_admin):
    peer = make_peer(added_us=True)
    start = utcnow() - timedelta(hours=1)
    for seq in range(1, 8):
        db.session.add(DeadLetter(peer_id=peer.id, seq=seq, uri=f"{OWN_URL}/wiki/{seq}", status=410 if seq % 2 else 422,
                                  reason=f"The peer refused change {seq}", created_at=start + timedelta(minutes=seq)))
    db.session.commit()
    assert [letter.seq for letter in stats.recent_dead_letters(peer)] == [7, 6, 5, 4, 3]
    page = text(as_admin.get(PAGE))
    assert "7 changes in all" in page
    table = re.search(rf'<caption id="peer-{peer.id}-dead">.*?</table>', page, re.S).group(0)
    assert re.findall(r"The peer refused change (\d)", table) == ["7", "6", "5", "4", "3"]
    assert "<td>410</td>" in table and "<td>422</td>" in table and f"<code>{OWN_URL}/wiki/7</code>" in table


def test_a_peer_without_dead_letters_says_none(app, as_admin):
    make_peer(added_us=True)
    page = text(as_admin.get(PAGE))
    assert re.search(r"Changes it refused for good</h4>\s*<p>None.</p>", page)


def test_the_last_day_fills_hours_without_deliveries_with_zeros(app):
    peer, other = make_peer(), make_peer("Δήμος Χανίων", "http://127.0.0.1:8")
    now = datetime(2024, 3, 5, 14, 25, tzinfo=utcnow().tzinfo)
    hour = datetime(2024, 3, 5, 14, tzinfo=now.tzinfo)
    for start, figures in ((hour, (12, 1, 0, 40)), (hour - timedelta(hours=3), (5, 0, 2, 9)),
                           (hour - timedelta(hours=23), (1, 0, 0, 1)), (hour - timedelta(hours=24), (99, 9, 9, 99)),
                           (hour + timedelta(hours=1), (98, 9, 9, 98))):
        delivered, failed, dead, waiting = figures
        db.session.add(HourlyStats(peer_id=peer.id, hour=start, delivered=delivered, failed=failed, dead=dead,
                                   most_waiting=waiting))
    db.session.add(HourlyStats(peer_id=other.id, hour=hour, delivered=50, failed=0, dead=0, most_waiting=50))
    db.session.commit()
    hours = stats.last_day(peer, now)
    assert len(hours) == 24 and hours[0].start == hour - timedelta(hours=23) and hours[-1].start == hour
    assert [h.start for h in hours] == [hour - timedelta(hours=23 - number) for number in range(24)]
    assert [h.delivered for h in hours] == [1] + [0] * 19 + [5, 0, 0, 12]
    assert [h.most_waiting for h in hours] == [1] + [0] * 19 + [9, 0, 0, 40]
    assert (hours[-4].failed, hours[-4].dead, hours[-1].failed) == (0, 2, 1)
    assert stats.last_day(other, now)[-1].delivered == 50 and sum(h.delivered for h in stats.last_day(other, now)) == 50


def test_the_charts_and_their_table_show_the_hourly_figures(app, as_admin):
    peer = make_peer(added_us=True)
    hour = this_hour()
    figures = {hour: (12, 1, 0, 40), hour - timedelta(hours=3): (5, 0, 2, 9),
               hour - timedelta(hours=30): (77, 7, 7, 77)}
    for start, (delivered, failed, dead, waiting) in figures.items():
        db.session.add(HourlyStats(peer_id=peer.id, hour=start, delivered=delivered, failed=failed, dead=dead,
                                   most_waiting=waiting))
    db.session.commit()
    html = text(as_admin.get(PAGE))
    rows = hours_table(html, peer)
    with app.test_request_context(), force_locale("en"):
        labels = [format_datetime(hour - timedelta(hours=23 - number), "short") for number in range(24)]
    assert [row[0] for row in rows] == labels
    expected = [["0", "0", "0", "0"]] * 20 + [["5", "0", "2", "9"], ["0", "0", "0", "0"], ["0", "0", "0", "0"],
                                              ["12", "1", "0", "40"]]
    assert [row[1:] for row in rows] == expected
    # Two charts, images named by their title and described with the same totals; one bar for each busy hour.
    for chart, title, says, bars in (("deliveries", "Changes delivered per hour", "17 in all.", 2),
                                     ("waiting", "Changes waiting per hour", "at most 40.", 2)):
        name = f"peer-{peer.id}-{chart}"
        svg = re.search(rf'<svg class="chart" id="{name}" role="img" '
                        rf'aria-labelledby="{name}-title {name}-desc".*?</svg>', html, re.S)
        assert svg, chart
        assert f'<title id="{name}-title">{title}</title>' in svg.group(0)
        desc = re.search(r"<desc [^>]*>(.*?)</desc>", svg.group(0)).group(1)
        assert says in desc and peer.name in desc
        assert svg.group(0).count('class="chart-bar"') == bars
    # The tallest bar is the busiest hour's, the 24th column; the other is three hours before, in proportion.
    deliveries = re.search(rf'id="peer-{peer.id}-deliveries".*?</svg>', html, re.S).group(0)
    bars = re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', deliveries)
    assert [(float(x), float(height)) for x, height in bars] == [(20 * 15 + 1, 25.0), (23 * 15 + 1, 60.0)]


# Suspending, resuming, removing --------------------------------------------------------------------------

@pytest.mark.parametrize("with_csrf", [True, False])
def test_suspending_and_resuming(app, as_admin, with_csrf):
    peer = make_peer(added_us=True)
    suspended = post(as_admin, f"{PAGE}/suspend", {"url": peer.url}, with_csrf=with_csrf)
    db.session.expire_all()
    if not with_csrf:
        assert suspended.status_code == 400 and "The form had expired" in text(suspended)
        assert db.session.get(Peer, peer.id).state == "active"
        return
    assert suspended.status_code == 302 and suspended.headers["Location"].endswith(f"{PAGE}#peer-{peer.id}")
    assert db.session.get(Peer, peer.id).state == "suspended"
    assert "Δήμος Πατρέων is suspended: nothing is sent to it" in text(as_admin.get(PAGE))
    resumed = post(as_admin, f"{PAGE}/resume", {"url": peer.url})
    assert resumed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Peer, peer.id).state == "active"
    assert "Δήμος Πατρέων is resumed: the agreement is active again." in text(as_admin.get(PAGE))


@pytest.mark.parametrize("with_csrf", [True, False])
def test_removing_asks_first_and_purges_the_replicas(app, as_admin, with_csrf):
    peer = make_peer(added_us=True)
    for number in range(3):
        db.session.add(Replica(uri=f"{peer.url}/wiki/{number}", peer_id=peer.id, kind="page", version=1,
                               document={"name": f"Αντίγραφο {number}"}))
    db.session.commit()
    peer_id = peer.id
    confirm = as_admin.get(f"{PAGE}/remove?url={peer.url}")
    page = re.sub(r"\s+", " ", text(confirm))
    assert confirm.status_code == 200 and "Remove Δήμος Πατρέων?" in page
    assert "The 3 replicas of its objects kept here will be purged" in page
    assert db.session.get(Peer, peer_id) is not None  # asking changes nothing
    removed = post(as_admin, f"{PAGE}/remove", {"url": peer.url}, page=f"{PAGE}/remove?url={peer.url}",
                   with_csrf=with_csrf)
    db.session.expire_all()
    if not with_csrf:
        assert removed.status_code == 400 and db.session.get(Peer, peer_id) is not None
        assert db.session.query(Replica).count() == 3
        return
    assert removed.status_code == 302 and db.session.get(Peer, peer_id) is None
    assert db.session.query(Replica).count() == 0
    after = text(as_admin.get(PAGE))
    assert "Δήμος Πατρέων is no longer a peer of this node; its 3 replicas were removed." in after
    assert "This node has no peers yet" in after


def test_actions_on_an_address_that_is_no_peer_are_not_found(app, as_admin):
    for response in (as_admin.get(f"{PAGE}/remove?url=http://127.0.0.1:9"), as_admin.get(f"{PAGE}/remove"),
                     post(as_admin, f"{PAGE}/suspend", {"url": "http://127.0.0.1:9"}),
                     post(as_admin, f"{PAGE}/remove", {"url": "not an address"}),
                     post(as_admin, f"{PAGE}/resume", {"url": "http://[::1"})):
        assert response.status_code == 404 and "This node has no peer at that address" in text(response)


# Adding --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("with_csrf", [True, False])
def test_adding_a_peer_shows_its_fingerprint_then_adds_it(app, admin, as_admin, tmp_path, with_csrf):
    with FakePeer(tmp_path / "fake", "Δήμος Ρόδου") as fake:
        fingerprint = keys.fingerprint(fake.ring.current.public_key)
        looked_up = post(as_admin, f"{PAGE}/add", {"url": fake.url}, with_csrf=with_csrf)
        if not with_csrf:
            assert looked_up.status_code == 400 and "The form had expired" in text(looked_up)
            assert db.session.query(Peer).count() == 0
            return
        confirm = text(looked_up)
        assert looked_up.status_code == 200 and "Add Δήμος Ρόδου as a peer?" in confirm
        assert f'<code class="fingerprint">{fingerprint}</code>' in confirm and "Compare the fingerprint" in confirm
        assert db.session.query(Peer).count() == 0  # looking it up adds nothing
        fields = dict(re.findall(r'<input id="(url|fingerprints)" name="\1" type="hidden" value="([^"]*)"', confirm))
        assert fields == {"url": fake.url, "fingerprints": fingerprint}
        refused = as_admin.post(f"{PAGE}/add/confirm", data=fields)
        assert refused.status_code == 400 and db.session.query(Peer).count() == 0
        added = as_admin.post(f"{PAGE}/add/confirm", data={**fields, "csrf_token": csrf_token(confirm)})
    assert added.status_code == 302
    peer = db.session.query(Peer).one()
    assert (peer.name, peer.url, peer.state, peer.added_by_id) == ("Δήμος Ρόδου", fake.url, "active", admin.id)
    page = text(as_admin.get(PAGE))
    assert "Δήμος Ρόδου is a peer: both nodes have added each other, so the agreement is active." in page


def test_keys_that_changed_since_they_were_shown_are_not_added(app, as_admin, tmp_path):
    with FakePeer(tmp_path / "fake", "Δήμος Ρόδου") as fake:
        confirm = text(post(as_admin, f"{PAGE}/add", {"url": fake.url}))
        shown = keys.fingerprint(fake.ring.current.public_key)
        fake.ring = keys.ensure_key(tmp_path / "someone-else")
        answer = as_admin.post(f"{PAGE}/add/confirm", data={"url": fake.url, "fingerprints": shown,
                                                            "csrf_token": csrf_token(confirm)})
        page = text(answer)
    assert answer.status_code == 409 and "The keys this node publishes changed" in page
    assert keys.fingerprint(fake.ring.current.public_key) in page and shown not in page
    assert db.session.query(Peer).count() == 0


@pytest.mark.parametrize("address, says", [
    ("", "Give the node's address."),
    ("ftp://127.0.0.1:21", "'ftp://127.0.0.1:21' is not a node's address, such as https://knet.example.gr."),
    ("http://127.0.0.1:9", "Could not reach http://127.0.0.1:9/federation/actor"),
    ("http://127.0.0.1:9/some/path", "Give the node's address alone, such as http://127.0.0.1:9"),
    ("http://[::1", "'http://[::1' is not a node's address"),
    ("http://127.0.0.1:99999", "'http://127.0.0.1:99999' is not a node's address"),
    (OWN_URL, "That is this node's own address: a node does not peer with itself."),
])
def test_bad_addresses_are_refused_by_the_field_with_a_sentence(app, as_admin, address, says):
    response = post(as_admin, f"{PAGE}/add", {"url": address})
    page = text(response)
    assert response.status_code == 400
    error = re.search(r'<p class="error" id="url-error">(.*?)</p>', page, re.S)
    assert error and says in error.group(1), page
    assert 'aria-invalid="true"' in page and 'aria-describedby="url-hint url-error"' in page
    assert db.session.query(Peer).count() == 0


def test_a_peer_that_vanished_before_the_confirmation_is_refused_by_the_field(app, as_admin, tmp_path):
    with FakePeer(tmp_path / "fake") as fake:
        confirm = text(post(as_admin, f"{PAGE}/add", {"url": fake.url}))
        fields = dict(re.findall(r'<input id="(url|fingerprints)" name="\1" type="hidden" value="([^"]*)"', confirm))
    answer = as_admin.post(f"{PAGE}/add/confirm", data={**fields, "csrf_token": csrf_token(confirm)})
    assert answer.status_code == 400 and f"Could not reach {fake.url}" in text(answer)
    assert db.session.query(Peer).count() == 0


# Two real nodes ------------------------------------------------------------------------------------------

def test_an_administrator_adds_a_node_through_the_page_and_it_becomes_active_once_added_back(make_node):
    athens, thessaloniki = make_node("Δήμος Αθηναίων"), make_node("Δήμος Θεσσαλονίκης")
    with at(athens):
        auth_services.create_local_user("root", PASSWORD, role="admin")
        db.session.commit()
    browser = requests.Session()
    browser.cookies.set("knet_lang", "en")
    login = browser.get(f"{athens.url}/login", timeout=10)
    signed_in = browser.post(f"{athens.url}/login", data={"username": "root", "password": PASSWORD,
                                                          "csrf_token": csrf_token(login.text)}, timeout=10)
    assert signed_in.ok and "Signed in as" in signed_in.text
    page = browser.get(athens.url + PAGE, timeout=10)
    confirm = browser.post(f"{athens.url}{PAGE}/add", timeout=10,
                           data={"url": thessaloniki.url, "csrf_token": csrf_token(page.text)})
    assert confirm.status_code == 200 and "Δήμος Θεσσαλονίκης" in confirm.text
    shown = re.findall(r'<code class="fingerprint">([^<]+)</code>', confirm.text)
    listed = thessaloniki.knet("keys", "show")
    assert listed.returncode == 0 and shown and shown[0] in listed.stdout.split()

    fields = dict(re.findall(r'<input id="(url|fingerprints)" name="\1" type="hidden" value="([^"]*)"', confirm.text))
    added = browser.post(f"{athens.url}{PAGE}/add/confirm", data={**fields, "csrf_token": csrf_token(confirm.text)},
                         timeout=20)
    said = unescape(added.text)
    assert added.status_code == 200 and added.url.startswith(athens.url + PAGE)
    assert (f"Δήμος Θεσσαλονίκης is added. The agreement is pending until its administrator adds this node, at "
            f"{athens.url}.") in said
    assert "pending: waiting for its administrator to add this node" in said

    back = thessaloniki.knet("peer", "add", athens.url, "--yes")
    assert back.returncode == 0, back.stderr
    later = unescape(browser.get(athens.url + PAGE, timeout=10).text)
    section = re.search(r'<section id="peer-\d+".*?</section>', later, re.S).group(0)
    assert "Δήμος Θεσσαλονίκης" in section and "pending" not in section
    assert "<dd>active: both nodes have added each other</dd>" in section
