"""Schemathesis against a live node: generated requests to every operation of /api/v1/openapi.json, with a
write token and without one, never get a 500, and every response matches what the document says
(status code, content type, headers and body schema)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.federation.conftest import node_maker

#: Run on SQLite only: how the API answers does not depend on the database.
pytestmark = pytest.mark.sqlite_only

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "response_schema_conformance")


@pytest.fixture(scope="module")
def node(tmp_path_factory, node_template, postgres):
    with node_maker(tmp_path_factory.mktemp("api"), node_template, postgres) as make:
        node = make("Δήμος Δοκιμών")
        created = node.knet("user", "create-admin", "--username", "admin", "--password-stdin",
                            stdin="a-long-enough-passw0rd\n")
        assert created.returncode == 0, created.stderr
        issued = node.knet("user", "token", "--username", "admin", "--scope", "write")
        assert issued.returncode == 0, issued.stderr
        node.extra["token"] = issued.stdout.split()[0]
        _seed(node)
        yield node


def _seed(node) -> None:
    """Give the generated requests something to find: pages and a question of each visibility."""
    headers = {"Authorization": f"Bearer {node.extra['token']}"}
    for visibility in ("public", "network", "internal", "private"):
        page = requests.post(f"{node.url}/api/v1/pages", headers=headers, timeout=10, json={
            "title": f"Άδεια λειτουργίας {visibility}", "body": "## Βήματα\n\nΑίτηση στο [[ΚΕΠ]].",
            "visibility": visibility, "tags": ["άδειες"]})
        assert page.status_code == 201, page.text
        question = requests.post(f"{node.url}/api/v1/questions", headers=headers, timeout=10, json={
            "title": f"Πώς εκδίδεται άδεια ({visibility});", "body": "Ποια δικαιολογητικά χρειάζονται;",
            "visibility": visibility, "tags": ["άδειες"]})
        assert question.status_code == 201, question.text


def _schemathesis(node, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCHEMATHESIS), "run", f"{node.url}/api/v1/openapi.json", "--checks", CHECKS, "--seed", "1",
         "--workers", "1", "--max-examples", "15", *options],
        capture_output=True, text=True, timeout=600, cwd=node.instance.parent)  # its cache stays out of the project


def _all_passed(report: str) -> int:
    """How many generated test cases the report counts, after checking that all of them passed."""
    counts = re.search(r"(\d+) generated, (\d+) passed", report)
    assert counts and counts[1] == counts[2], report[-3000:]
    return int(counts[1])


def test_every_operation_with_a_write_token_answers_as_described(node):
    run = _schemathesis(node, "-H", f"Authorization: Bearer {node.extra['token']}")
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-3000:]
    assert _all_passed(run.stdout) > 1000, run.stdout[-3000:]


def test_every_operation_without_a_token_answers_as_described(node):
    run = _schemathesis(node, "--phases", "examples,coverage")
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-3000:]
    assert _all_passed(run.stdout) > 100, run.stdout[-3000:]


def test_a_token_never_sees_what_it_may_not(node):
    """What the generated requests could not check: a caller without a token gets public objects only."""
    headers = {"Authorization": f"Bearer {node.extra['token']}"}
    made = {}
    for visibility in ("public", "internal"):
        answer = requests.post(f"{node.url}/api/v1/pages", headers=headers, timeout=10, json={
            "title": f"Zqvisible {visibility} σελίδα", "body": "Κείμενο.", "visibility": visibility})
        assert answer.status_code == 201, answer.text
        made[visibility] = answer.json()["slug"]
    anonymous = requests.get(f"{node.url}/api/v1/pages", params={"per_page": 100}, timeout=10).json()
    assert {page["visibility"] for page in anonymous["items"]} == {"public"}
    assert made["public"] in {page["slug"] for page in anonymous["items"]}
    assert requests.get(f"{node.url}/api/v1/pages/{made['internal']}", timeout=10).status_code == 404


def test_openapi_describes_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            described = {method.upper() for method in spec["paths"].get(path, {}) if method != "parameters"}
            assert rule.methods - {"HEAD", "OPTIONS"} <= described, f"{rule.rule} is not fully described"
