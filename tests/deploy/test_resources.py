"""A deployed node (gunicorn and a `knet worker`, as docs/deploy.md runs them) whose PostgreSQL server restarts,
or whose database turns read-only, while staff are writing: people and programs get a 503 with a sentence (never
a 500), reads go on where they can, and the node carries on by itself once the database is back, without a
restart; nothing it acknowledged is lost.

The PostgreSQL server is this module's own throwaway one (restarting the suite's would disturb other tests)."""
from __future__ import annotations

import threading
import time

import psycopg
import pytest
import requests

from tests.deploy.staff import Tally, Writer, deploy, read_back
from tests.production import Production, free_port
from tests.services import PostgresServer, _pg_bin

#: How long the node may take to write again once PostgreSQL is back.
RECOVERY_SECONDS = 15


class RestartablePostgres(PostgresServer):
    """The suite's throwaway server, which can also be stopped and started again on the same port and data."""

    def stop_server(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def start_server(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"),
                  "-w", "start")

    def admin(self, sql: str, *params) -> None:
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(sql, params or None)


@pytest.fixture(scope="module")
def private_postgres(database_kind):
    """Only in the PostgreSQL run (--database postgresql), as the other deployment tests: production is
    PostgreSQL, and the run that has the server packages."""
    if database_kind != "postgresql":
        pytest.skip("a deployment runs on PostgreSQL: this test runs in the PostgreSQL run (--database postgresql)")
    server = RestartablePostgres().start()
    yield server
    server.stop()


@pytest.fixture
def node(tmp_path, private_postgres):
    """A node on its own database of the private server, with gunicorn (2 workers) and one `knet worker`."""
    name = f"knet_resources_{free_port()}"
    private_postgres.create_database(name)
    port = free_port()
    deployed = deploy(tmp_path / "srv-knet", f"http://127.0.0.1:{port}", private_postgres.url(name), people=4)
    with Production(deployed.instance, tmp_path / "logs", web_workers=2, workers=1, port=port) as production:
        yield deployed, production, name
    private_postgres.drop_database(name)


def _writers(deployed, tally: Tally, stop: threading.Event) -> list[Writer]:
    staff = [Writer(deployed, token, number, tally, stop, seed=1) for number, token in enumerate(deployed.tokens)]
    for writer in staff:
        writer.start()
    return staff


def _until_written(deployed, seconds: float) -> float:
    """Seconds until a write is acknowledged again."""
    started = time.monotonic()
    while True:
        try:
            answer = requests.post(deployed.url + "/api/v1/pages", json={"title": "Ξανά", "body": "Ξανά εδώ."},
                                   headers={"Authorization": f"Bearer {deployed.tokens[0]}"}, timeout=10)
            if answer.status_code == 201:
                return time.monotonic() - started
            assert answer.status_code == 503, answer.text[:2000]
        except requests.ConnectionError:
            pass
        assert time.monotonic() - started < seconds, f"the node did not write again within {seconds} s"
        time.sleep(0.1)


def test_a_postgresql_restart_gives_503s_and_the_node_recovers_by_itself(node, private_postgres):
    deployed, production, _name = node
    tally, stop = Tally(), threading.Event()
    gunicorn = production.web.pid
    staff = _writers(deployed, tally, stop)
    time.sleep(2)  # the pools are full of connections the restart will break

    private_postgres.stop_server()
    down = time.monotonic()
    time.sleep(1.5)
    page = requests.get(deployed.url + "/", timeout=10)
    api = requests.get(deployed.url + "/api/v1/pages", timeout=10,
                       headers={"Authorization": f"Bearer {deployed.tokens[0]}"})
    private_postgres.start_server()
    outage = time.monotonic() - down
    recovered = _until_written(deployed, RECOVERY_SECONDS)
    time.sleep(1)
    stop.set()
    for writer in staff:
        writer.join(30)

    # While the server was down: a page saying so (in the node's language), and a problem for programs.
    assert page.status_code == 503, page.text[:2000]
    assert "database" in page.text or "βάση δεδομένων" in page.text
    assert "<html" in page.text and page.headers["Retry-After"]
    assert api.status_code == 503 and api.headers["Content-Type"].startswith("application/problem+json")
    assert tally.failures == [], tally.failures[:5]
    assert tally.unavailable, "no write was refused while PostgreSQL was down"
    assert 500 not in tally.statuses
    # The same gunicorn, not restarted, writes again, and every acknowledged write is there as it was sent.
    assert production.web.running() and production.web.pid == gunicorn
    assert all(process.running() for process in production.processes)
    assert read_back(deployed.url, deployed.tokens[0], tally) == []
    log = production.web.log_text()
    assert "Traceback" not in log, log[-3000:]
    print(f"\nPostgreSQL restart: down {outage:.1f} s; writes acknowledged again {recovered:.2f} s after it was back; "
          f"{len(tally.acknowledged)} writes acknowledged, statuses {dict(tally.statuses)}, "
          f"{tally.connection_errors} connection errors; told: {list(tally.unavailable)}")


def test_a_read_only_database_refuses_writes_with_a_sentence_and_still_serves_reads(node, private_postgres):
    deployed, production, name = node
    token = {"Authorization": f"Bearer {deployed.tokens[0]}"}
    before = requests.post(deployed.url + "/api/v1/pages", json={"title": "Πριν", "body": "Γράφτηκε πριν."},
                           headers=token, timeout=10)
    assert before.status_code == 201

    private_postgres.admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    private_postgres.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", name)
    refused = requests.post(deployed.url + "/api/v1/pages", json={"title": "Κατά", "body": "Όχι τώρα."},
                            headers=token, timeout=10)
    assert refused.status_code == 503, refused.text[:2000]
    assert "η βάση δεδομένων του δεν δέχεται αλλαγές" in refused.json()["detail"]  # in the node's language, Greek
    form = requests.get(deployed.url + "/login", timeout=10)
    assert form.status_code == 200  # reading works
    read = requests.get(deployed.url + before.headers["Location"], headers=token, timeout=10)
    assert read.status_code == 200 and read.json()["body"] == "Γράφτηκε πριν."

    private_postgres.admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    private_postgres.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", name)
    recovered = _until_written(deployed, RECOVERY_SECONDS)
    titles = [item["title"] for item in requests.get(deployed.url + "/api/v1/pages", headers=token,
                                                      timeout=10).json()["items"]]
    assert "Κατά" not in titles and "Πριν" in titles
    assert all(process.running() for process in production.processes)
    assert "Traceback" not in production.web.log_text()
    print(f"\nRead-only database: writes acknowledged again {recovered:.2f} s after it was writable")
