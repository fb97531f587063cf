"""Real OpenLDAP directories for the sign-in tests: athens and thessaloniki, each started once per session."""
from __future__ import annotations

import tomllib
from contextlib import contextmanager
from pathlib import Path

import pytest
import tomli_w

from knet.app import create_app
from knet.db import db
from knet.search.indexing import close_index
from tests.conftest import IsolatedClient
from tests.forms import csrf_token
from tests.directories import SlapdServer, athens, missing_tools, thessaloniki

_running: list[SlapdServer] = []


def _start(build) -> SlapdServer:
    missing = missing_tools()
    if missing:
        # Fail, never skip: a skipped LDAP test would let sign-in break unnoticed.
        pytest.fail(f"The LDAP tests need OpenLDAP ({', '.join(missing)} missing): "
                    "apt-get install slapd ldap-utils (scripts/test.sh does it as root).", pytrace=False)
    server = build().start()
    _running.append(server)
    return server


@pytest.fixture(scope="session")
def athens_directory():
    """dc=athens,dc=gr: service account, memberOf, nested departments, StartTLS (see tests/directories.py)."""
    server = _start(athens)
    yield server
    _running.remove(server)
    server.stop()


@pytest.fixture(scope="session")
def thessaloniki_directory():
    """dc=thessaloniki,dc=gr: anonymous search, no memberOf, sign-in by uid or mail (see tests/directories.py)."""
    server = _start(thessaloniki)
    yield server
    _running.remove(server)
    server.stop()


@pytest.fixture(autouse=True)
def restore_directories():
    """After each test, every directory is up again and add_member/remove_member are undone."""
    yield
    for server in _running:
        server.restore()


def with_directory(instance: Path, settings: dict) -> None:
    """Add an [ldap] table to a node's knet.toml, as its IT officer would."""
    config = tomllib.loads((instance / "knet.toml").read_text(encoding="utf-8"))
    config["ldap"] = settings
    (instance / "knet.toml").write_text(tomli_w.dumps(config), encoding="utf-8")


@contextmanager
def running_node(instance: Path):
    app = create_app(instance, overrides={"TESTING": True})
    app.test_client_class = IsolatedClient
    with app.app_context():
        try:
            yield app
        finally:
            close_index(app)
            directory = app.extensions["knet.directory"]
            if directory is not None:
                directory.close()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def athens_node(instance, athens_directory):
    """A node signing in the staff of dc=athens,dc=gr (service account, StartTLS, memberOf)."""
    with_directory(instance, athens_directory.knet_settings())
    with running_node(instance) as app:
        yield app


@pytest.fixture
def thessaloniki_node(instance, thessaloniki_directory):
    """A node signing in the staff of dc=thessaloniki,dc=gr (anonymous search, groups by member)."""
    with_directory(instance, thessaloniki_directory.knet_settings())
    with running_node(instance) as app:
        yield app


def post_sign_in(client, username: str, password: str, **headers):
    """Sign in through the real form at /login; returns the response."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       headers=headers)
