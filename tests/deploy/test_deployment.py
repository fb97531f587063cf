"""The node comes up exactly as docs/deploy.md says: `knet init` on PostgreSQL, `knet user create-admin`, gunicorn
and two `knet worker` processes started from the ExecStart lines of deploy/*.service; staff sign in, write a page
the workers index, use an API token; and SIGTERM stops every process cleanly."""
from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tests.forms import csrf_token
from tests.production import (WEB_UNIT, WORKER_UNIT, Production, environment_file, exec_start, free_port,
                              unit_settings)
from tests.test_cli import PASSWORD, TOKEN, knet

WORD = "Ανακύκλωσηςδοκιμή"  # one made-up word: only the new page has it


def test_the_units_run_what_the_document_says():
    document = (WEB_UNIT.parent.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
    for unit in ("knet-web.service", "knet-worker@.service", "knet.target", "nginx-knet.conf", "knet.env"):
        assert f"deploy/{unit}" in document
    web, worker = unit_settings(WEB_UNIT), unit_settings(WORKER_UNIT)
    for settings in (web, worker):
        assert settings["User"] == "knet" and settings["Restart"] == "always"
        assert settings["EnvironmentFile"] == "/etc/knet/knet.env" and settings["KillSignal"] == "SIGTERM"
        assert settings["ProtectSystem"] == "strict" and settings["ReadWritePaths"] == "/srv/knet"
        assert settings["NoNewPrivileges"] == "yes" and settings["PrivateTmp"] == "yes"
    # A worker's stop waits for its job longer than gunicorn's graceful stop waits for a request.
    assert int(worker["TimeoutStopSec"]) > int(web["TimeoutStopSec"]) > 30
    assert environment_file()["KNET_INSTANCE"] == "/srv/knet"
    command = exec_start(WEB_UNIT, environment_file())
    assert command[0].endswith("/gunicorn") and command[-1] == "knet.app:create_app()"
    assert "--forwarded-allow-ips=" in command and "127.0.0.1:8000" in command
    assert exec_start(WORKER_UNIT, environment_file())[1:] == ["worker"]


def test_a_node_deployed_as_documented_serves_indexes_and_stops_cleanly(tmp_path, production_database):
    instance = tmp_path / "srv-knet"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    created = knet("init", "--instance", str(instance), "--name", "Δήμος Παραγωγής", "--url", url,
                   "--database", production_database)
    assert created.returncode == 0, created.stderr

    node = Production(instance, tmp_path / "logs", web_workers=2, workers=2, port=port)
    # The account and its token are made while the processes start (neither waits for the other): a shorter test.
    with node.start(wait=False):
        admin = knet("user", "create-admin", "--instance", str(instance), "--username", "admin", "--password-stdin",
                     stdin=PASSWORD + "\n")
        assert admin.returncode == 0, admin.stderr
        issued = knet("user", "token", "--instance", str(instance), "--username", "admin", "--scope", "write")
        assert issued.returncode == 0, issued.stderr
        token = TOKEN.search(issued.stdout).group(0)
        node.wait_ready()
        assert requests.get(url + "/healthz", timeout=5).json() == {"status": "ok"}
        assert _gunicorn_workers(node) == 2

        browser = requests.Session()
        form = browser.get(url + "/login", timeout=10).text
        signed_in = browser.post(url + "/login", data={"username": "admin", "password": PASSWORD, "next": "",
                                                       "csrf_token": csrf_token(form)}, timeout=10,
                                 allow_redirects=False)
        assert signed_in.status_code == 302, signed_in.text[:2000]

        new = browser.get(url + "/pages/new", timeout=10)
        assert new.status_code == 200
        saved = browser.post(url + "/pages/new", timeout=10, allow_redirects=False, data={
            "csrf_token": csrf_token(new.text), "title": "Οδηγός ανακύκλωσης", "language": "el",
            "body": f"Τα ανακυκλώσιμα πάνε στον μπλε κάδο. {WORD}.", "tags": "περιβάλλον",
            "visibility": "internal", "licence": "CC-BY-4.0", "summary": "", "save": "Save"})
        assert saved.status_code == 302, saved.text[:2000]
        page_path = urlsplit(saved.headers["Location"]).path
        assert "Οδηγός ανακύκλωσης" in browser.get(url + page_path, timeout=10).text

        # Only the workers write the index: the page is found once one of them has run its job.
        deadline = time.monotonic() + 10
        while "Οδηγός ανακύκλωσης" not in (found := browser.get(url + "/search", params={"q": WORD}, timeout=10)).text:
            assert time.monotonic() < deadline, "the page was not found by search within 10 s:\n" + "\n".join(
                process.log_text()[-1500:] for process in node.workers)
            time.sleep(0.2)
        assert found.status_code == 200

        api = requests.get(url + "/api/v1/search", params={"q": WORD}, timeout=10,
                           headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 200
        assert [hit["title"] for hit in api.json()["results"]] == ["Οδηγός ανακύκλωσης"]
        assert requests.get(url + "/api/v1/search", params={"q": WORD}, timeout=10,
                            headers={"Authorization": "Bearer knet_not-a-token-at-all-0000"}).status_code == 401

        assert all(process.running() for process in node.processes)
        statuses = node.stop()
    assert statuses == {"worker-1": 0, "worker-2": 0, "web": 0}
    for worker in node.workers:
        log = worker.log_text()
        assert "Worker for Δήμος Παραγωγής started" in log and "Worker stopped." in log
        assert "Traceback" not in log
    web_log = node.web.log_text()
    assert "Shutting down: Master" in web_log and "Traceback" not in web_log


def _gunicorn_workers(node: Production) -> int:
    """How many worker processes gunicorn's master has (from /proc)."""
    children = set()
    for task in Path(f"/proc/{node.web.pid}/task").iterdir():
        children.update((task / "children").read_text().split())
    return len([pid for pid in children if re.search("gunicorn", _cmdline(pid))])


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read().decode(errors="replace")
    except OSError:
        return ""
