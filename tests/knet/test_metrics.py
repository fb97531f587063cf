"""/metrics as Prometheus reads it: requests counted under their URL rule, searches timed, the job queue and
federation's lag per peer read from the database, only for this machine or a token, and right when several
gunicorn workers serve the node."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import tomli_w
import tomllib
from prometheus_client.parser import text_string_to_metric_families

from federation.models import Change, DeadLetter, LogHead, Peer
from knet import jobs
from knet.app import create_app
from knet.db import db, utcnow
from tests.conftest import IsolatedClient
from tests.federation.conftest import free_port

TOKEN = "a-long-enough-metrics-token-for-tests"
GUNICORN = Path(sys.executable).parent / "gunicorn"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition, by name and labels (parsing it as Prometheus would)."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return samples(response.get_data(as_text=True))


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_under_their_url_rule_with_their_status(app, client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/wiki/no-such-page-zq").status_code == 404
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/address/zq-1").status_code == 404
    assert client.get("/no/such/address/zq-2").status_code == 404
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("knet_http_requests_total", route="/wiki/<slug>", method="GET", status="404") == 3
    assert moved("knet_http_requests_total", route="/healthz", method="GET", status="200") == 1
    # Addresses no rule matches share one series: a scanner cannot make their number grow.
    assert moved("knet_http_requests_total", route="unmatched", method="GET", status="404") == 2
    assert not any("zq" in dict(labels).get("route", "") for _name, labels in after)
    assert moved("knet_http_request_duration_seconds_count", route="/wiki/<slug>", method="GET") == 3
    assert moved("knet_http_request_duration_seconds_bucket", route="/wiki/<slug>", method="GET", le="+Inf") == 3
    assert moved("knet_http_request_duration_seconds_sum", route="/wiki/<slug>", method="GET") > 0


def test_searches_are_timed_by_scope(app, client):
    before = scrape(client)
    assert client.get("/search?q=water").status_code == 200
    assert client.get("/api/v1/search?q=water").status_code == 200
    after = scrape(client)
    assert value(after, "knet_search_duration_seconds_count", scope="local") - \
        value(before, "knet_search_duration_seconds_count", scope="local") == 2
    text = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE knet_search_duration_seconds histogram" in text


def test_the_job_queue_is_read_from_the_database(app, client):
    jobs.register(app, "test.metrics", lambda **_: None)
    for _ in range(2):
        jobs.enqueue("test.metrics").run_after = utcnow() - timedelta(seconds=30)
    jobs.enqueue("test.metrics").run_after = utcnow() + timedelta(hours=1)  # a retry that is not due yet
    db.session.add(jobs.Job(kind="test.metrics", state=jobs.DEAD, payload={}))
    db.session.commit()
    found = scrape(client)
    assert value(found, "knet_jobs_pending", kind="test.metrics") == 3
    assert 30 <= value(found, "knet_jobs_oldest_pending_age_seconds", kind="test.metrics") < 300
    assert value(found, "knet_jobs_dead", kind="test.metrics") == 1
    # A kind with nothing waiting is shown with zeros, so an alert has a series to look at.
    assert ("knet_jobs_pending", frozenset({("kind", "federation.push")})) in found

    jobs.run_pending()
    found = scrape(client)
    assert value(found, "knet_jobs_pending", kind="test.metrics") == 1  # the one due in an hour
    assert value(found, "knet_jobs_oldest_pending_age_seconds", kind="test.metrics") == 0


def test_federation_lag_is_shown_per_active_peer(app, client):
    now = utcnow()
    athens = Peer(url="http://127.0.0.1:1", name="Αθήνα", added_us=True, pushed_seq=2,
                  last_contact_at=now - timedelta(minutes=10), push_failures=3)
    pending = Peer(url="http://127.0.0.1:2", name="Πάτρα", added_us=False)
    db.session.add_all([athens, pending])
    for seq in range(1, 6):
        db.session.add(Change(seq=seq, uri=f"http://node/objects/{seq}", content_type="page", object_id=seq,
                              activity="Create", document={}, digest=str(seq)))
    db.session.merge(LogHead(id=1, last_seq=5))
    db.session.flush()
    db.session.add(DeadLetter(peer_id=athens.id, seq=1, uri="http://node/objects/1", status=422, reason="no"))
    db.session.commit()

    found = scrape(client)
    assert value(found, "knet_federation_lag_activities", peer="http://127.0.0.1:1") == 3
    assert 600 <= value(found, "knet_federation_last_contact_age_seconds", peer="http://127.0.0.1:1") < 900
    assert value(found, "knet_federation_push_failures", peer="http://127.0.0.1:1") == 3
    assert value(found, "knet_federation_dead_letters", peer="http://127.0.0.1:1") == 1
    assert not any(dict(labels).get("peer") == "http://127.0.0.1:2" for _name, labels in found)

    athens.pushed_seq = 5
    db.session.commit()
    assert value(scrape(client), "knet_federation_lag_activities", peer="http://127.0.0.1:1") == 0


def test_only_this_machine_reads_the_metrics_by_default(app, client):
    stranger = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert stranger.status_code == 403
    assert "token" in stranger.get_data(as_text=True)
    # A proxy on this machine passes everyone's requests from 127.0.0.1: a forwarded request is a stranger's.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                      environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 403


def _with_settings(instance: Path, **tables) -> None:
    config = tomllib.loads((instance / "knet.toml").read_text(encoding="utf-8"))
    config.update(tables)
    (instance / "knet.toml").write_text(tomli_w.dumps(config), encoding="utf-8")


def test_a_prometheus_elsewhere_reads_them_with_the_token(instance):
    _with_settings(instance, metrics={"token": TOKEN, "allow_loopback": False})
    app = create_app(instance, overrides={"TESTING": True})
    app.test_client_class = IsolatedClient
    client = app.test_client()
    elsewhere = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                      environ_base=elsewhere).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"},
                      environ_base=elsewhere).status_code == 403
    assert client.get("/metrics", headers={"Authorization": TOKEN}, environ_base=elsewhere).status_code == 403
    # With allow_loopback = false, this machine needs the token too (a proxy here cannot open it to all).
    assert client.get("/metrics").status_code == 403
    with app.app_context():
        db.engine.dispose()


def test_requests_served_by_several_gunicorn_workers_are_added_up(instance):
    """Two worker processes count into their own files; every scrape, whichever worker answers it, shows
    the sum. Log lines are JSON here, and carry the id of their request."""
    port = free_port()
    environment = {name: text for name, text in os.environ.items()
                   if not name.startswith("KNET_") and "PROMETHEUS" not in name and "_KNET_" not in name}
    environment.update(KNET_INSTANCE=str(instance), KNET_LOG_FORMAT="json")
    log = instance / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen([str(GUNICORN), "-w", "2", "-b", f"127.0.0.1:{port}", "knet.app:create_app()"],
                                  env=environment, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(server, url, log)
        # Many at once, each on its own connection, so that both workers take some (on a busy machine the
        # second may still be loading the app when the first answers: more rounds until both have counted).
        def writers() -> set[str]:
            return {path.name.split("_")[1] for path in (instance / "metrics").glob("counter_*.db")}

        sent, deadline = 0, time.monotonic() + 30
        with ThreadPoolExecutor(8) as pool:
            while sent == 0 or (len(writers()) < 2 and time.monotonic() < deadline):
                statuses = list(pool.map(lambda n: requests.get(f"{url}/wiki/no-page-{n}", timeout=10).status_code,
                                         range(sent, sent + 60)))
                assert statuses == [404] * 60
                sent += 60
        assert len(writers()) == 2, f"both workers should have counted requests: {writers()}"
        for _ in range(6):  # several scrapes, answered by either worker
            found = samples(requests.get(f"{url}/metrics", timeout=10).text)
            assert value(found, "knet_http_requests_total", route="/wiki/<slug>", method="GET", status="404") == sent

        answer = requests.get(f"{url}/healthz", headers={"X-Request-Id": "proxy-id-1234"}, timeout=10)
        assert answer.headers["X-Request-Id"] == "proxy-id-1234"
    finally:
        server.terminate()
        server.wait(timeout=20)
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    access = [record for record in records if record["logger"] == "knet.requests"]
    assert len(access) >= sent + 1
    mine = [record for record in access if record["request_id"] == "proxy-id-1234"]
    assert len(mine) == 1 and mine[0]["path"] == "/healthz" and mine[0]["status"] == 200
    assert mine[0]["level"] == "INFO" and mine[0]["time"].endswith("+00:00")


def _wait_for(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn stopped at start:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within 30 s:\n{log.read_text(errors='replace')[-3000:]}")
