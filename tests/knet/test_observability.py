"""Log lines an IT officer can follow: every request has an id (its proxy's, when sane), sent back in
X-Request-Id and written in each line logged for it, as plain text or as one JSON object per line."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import tomli_w
import tomllib

from knet import config
from knet.app import create_app
from knet.config import ConfigError
from knet.db import db
from knet.observability import request_id
from tests.conftest import IsolatedClient


def _node(instance: Path, **settings):
    path = instance / "knet.toml"
    path.write_text(tomli_w.dumps(tomllib.loads(path.read_text(encoding="utf-8")) | settings), encoding="utf-8")
    app = create_app(instance, overrides={"TESTING": True})
    app.test_client_class = IsolatedClient

    @app.get("/test-failure")
    def failure():
        logging.getLogger("knet.tests").warning("about to fail")
        raise RuntimeError("the disk is full")

    return app


@pytest.fixture
def json_node(instance):
    app = _node(instance, log_format="json")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_every_answer_carries_a_request_id(client):
    fresh = client.get("/healthz").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", fresh)
    assert client.get("/healthz").headers["X-Request-Id"] != fresh


def test_a_sane_id_from_the_proxy_is_kept(client):
    for given in ("7f3a9c0e1b2d4f6a8c0e2b4d6f8a0c1e", "req-2026.11.26_01", "x" * 64):
        assert client.get("/healthz", headers={"X-Request-Id": given}).headers["X-Request-Id"] == given


@pytest.mark.parametrize("given", ["a\nforged log line", "x" * 500, "x" * 65, "", "id with spaces", "ιδ-1",
                                   '{"level": "ERROR"}', "a\rb"])
def test_an_id_that_could_break_a_log_line_is_replaced(client, given):
    # Set in the WSGI environment directly: the test client (like a well-behaved proxy) refuses newlines.
    answer = client.get("/healthz", environ_base={"HTTP_X_REQUEST_ID": given})
    assert answer.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-Id"])


def test_json_lines_carry_the_request_id_and_the_traceback(json_node, capsys):
    client = json_node.test_client()
    assert client.get("/wiki/no-such-page", headers={"X-Request-Id": "trace-42"}).status_code == 404
    assert client.get("/test-failure", headers={"X-Request-Id": "trace-43"}).status_code == 500
    with json_node.app_context():
        logging.getLogger("knet.worker_test").info("outside any request")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"time", "level", "logger", "message", "request_id"} <= set(record)
        assert record["time"].endswith("+00:00")

    access = next(r for r in records if r["logger"] == "knet.requests" and r["request_id"] == "trace-42")
    assert access["message"].startswith("GET /wiki/no-such-page 404 ")
    assert access["method"] == "GET" and access["path"] == "/wiki/no-such-page" and access["status"] == 404
    assert access["duration_ms"] >= 0 and access["level"] == "INFO"

    failing = [r for r in records if r["request_id"] == "trace-43"]
    assert [r["logger"] for r in failing] == ["knet.tests", "knet.errors", "knet.requests"]
    assert failing[0]["level"] == "WARNING" and failing[0]["message"] == "about to fail"
    assert failing[1]["level"] == "ERROR" and "RuntimeError: the disk is full" in failing[1]["exception"]
    assert failing[2]["status"] == 500

    outside = next(r for r in records if r["logger"] == "knet.worker_test")
    assert outside["request_id"] == "-" and outside["message"] == "outside any request"


def test_text_lines_carry_the_request_id_too(client, capsys):
    client.get("/healthz", headers={"X-Request-Id": "plain-7"})
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "plain-7" in line)
    assert re.fullmatch(r"\[.+\] INFO in observability \[plain-7\]: GET /healthz 200 \d+\.\d ms", line)


def test_the_id_is_a_dash_outside_requests(app):
    assert request_id() == "-"


def test_log_level_leaves_out_the_access_lines(instance, capsys):
    app = _node(instance, log_level="warning")
    app.test_client().get("/healthz")
    assert "GET /healthz" not in capsys.readouterr().err
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("settings, environ, message", [
    ({"log_format": "xml"}, {}, "'log_format' must be \"text\" or \"json\", not 'xml'."),
    ({}, {"KNET_LOG_FORMAT": "JSON"}, "'log_format' must be \"text\" or \"json\", not 'JSON'."),
    ({"log_level": "loud"}, {}, "'log_level' must be one of debug, info, warning, error, not 'loud'."),
    ({"metrics": {"token": "short"}}, {}, "'token' must have at least 16 characters"),
    ({"metrics": {"allow_loopback": "no"}}, {}, "'allow_loopback' must be true or false, not 'no'."),
    ({"metrics": {"tokens": "x"}}, {}, "has unknown keys: tokens."),
])
def test_wrong_settings_are_named(instance, settings, environ, message):
    path = instance / "knet.toml"
    path.write_text(tomli_w.dumps(tomllib.loads(path.read_text(encoding="utf-8")) | settings), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        config.load(config.resolve_instance(instance), environ)
    assert message in str(raised.value)


def test_the_environment_chooses_json(instance):
    settings = config.load(config.resolve_instance(instance), {"KNET_LOG_FORMAT": "json", "KNET_LOG_LEVEL": "DEBUG",
                                                               "KNET_METRICS_TOKEN": "t" * 20})
    assert (settings["log_format"], settings["log_level"], settings["metrics"]["token"]) == ("json", "debug", "t" * 20)
