"""`trusted_proxies`: which reverse proxies' X-Forwarded-For and X-Forwarded-Proto the node believes. The same
through a real nginx is in tests/deploy/test_proxy.py."""
from __future__ import annotations

import pytest
import tomli_w
from flask import Flask, request

from knet import config
from knet.config import ConfigError, Instance
from knet.proxies import TrustedProxies

BASE = {"name": "Δήμος Δοκιμών", "url": "https://knet.example.gr", "secret_key": "s" * 32}
FORWARDED = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9", "X-Forwarded-Proto": "https"}


def load(tmp_path, environ: dict | None = None, **settings) -> dict:
    (tmp_path / "knet.toml").write_text(tomli_w.dumps({**BASE, **settings}), encoding="utf-8")
    return config.load(Instance(tmp_path), environ or {})


def test_nobody_is_believed_unless_named(tmp_path):
    assert load(tmp_path)["trusted_proxies"] == []
    assert load(tmp_path, trusted_proxies=["127.0.0.1", "10.1.2.0/24"])["trusted_proxies"] == ["127.0.0.1",
                                                                                               "10.1.2.0/24"]
    # The environment's form is gunicorn's --forwarded-allow-ips: separated by commas (or spaces).
    assert load(tmp_path, {"KNET_TRUSTED_PROXIES": "127.0.0.1,::1"})["trusted_proxies"] == ["127.0.0.1", "::1"]
    assert load(tmp_path, {"KNET_TRUSTED_PROXIES": ""}, trusted_proxies=["127.0.0.1"])["trusted_proxies"] == []


@pytest.mark.parametrize("value, says", [
    (["nginx.local"], "not 'nginx.local'"),
    (["10.1.2.3/24"], "not '10.1.2.3/24'"),
    ([1], "must be a list of addresses"),
    ("127.0.0.1", None),  # one address as a string is accepted
])
def test_a_wrong_proxy_address_is_named(tmp_path, value, says):
    if says is None:
        assert load(tmp_path, trusted_proxies=value)["trusted_proxies"] == ["127.0.0.1"]
        return
    with pytest.raises(ConfigError, match=says):
        load(tmp_path, trusted_proxies=value)


def seen() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def address():
        return {"address": request.remote_addr, "scheme": request.scheme}

    return app


@pytest.mark.parametrize("peer, trusted, expected", [
    ("127.0.0.1", ["127.0.0.1"], {"address": "203.0.113.9", "scheme": "https"}),  # the hop nginx added
    ("10.1.2.9", ["10.1.2.0/24"], {"address": "203.0.113.9", "scheme": "https"}),
    ("192.0.2.50", ["127.0.0.1"], {"address": "192.0.2.50", "scheme": "http"}),  # a stranger's claims
    ("127.0.0.1", [], {"address": "127.0.0.1", "scheme": "http"}),
])
def test_forwarded_headers_count_only_from_a_trusted_proxy(peer, trusted, expected):
    app = seen()
    app.wsgi_app = TrustedProxies(app.wsgi_app, trusted)
    answer = app.test_client().get("/", headers=FORWARDED, environ_base={"REMOTE_ADDR": peer})
    assert answer.get_json() == expected
