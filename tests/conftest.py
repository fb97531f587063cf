"""Fixtures shared by the whole suite: a real node per test, on SQLite or a real PostgreSQL."""
from __future__ import annotations

import itertools
import os
import secrets
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest
import tomli_w
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from auth import services as auth_services
from knet.app import create_app
from knet.cli import cli
from knet.db import db
from knet.search.indexing import close_index
from tests.directories import SlapdServer, athens, missing_tools, thessaloniki
from tests.forms import csrf_token
from tests.services import PostgresServer
from wiki import services as wiki_services
from wiki.services import PageInput

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
_database_numbers = itertools.count(1)


def pytest_addoption(parser):
    parser.addoption("--database", choices=("sqlite", "postgresql"),
                     default=os.environ.get("KNET_TEST_DATABASE", "sqlite"),
                     help="Database every test node uses (default: $KNET_TEST_DATABASE or sqlite).")
    parser.addoption("--files-share", metavar="K/N", default=None,
                     help="Run only the K-th of N shares of the selected test files (alternate files), so that "
                          "scripts/test.sh can split the browser tests between its two lines of work.")


def pytest_collection_modifyitems(config, items):
    share = config.getoption("--files-share")
    if not share:
        return
    try:
        k, n = (int(part) for part in share.split("/"))
        assert 1 <= k <= n
    except (ValueError, AssertionError):
        raise pytest.UsageError(f"--files-share takes K/N with 1 <= K <= N, such as 1/2, not {share!r}") from None
    files = sorted({item.path for item in items})
    mine = set(files[k - 1::n])
    kept = [item for item in items if item.path in mine]
    config.hook.pytest_deselected(items=[item for item in items if item.path not in mine])
    items[:] = kept


@pytest.fixture(scope="session")
def database_kind(request) -> str:
    return request.config.getoption("--database")


@pytest.fixture(scope="session")
def postgres(database_kind):
    """A throwaway PostgreSQL server for the session, when the suite runs on PostgreSQL."""
    if database_kind != "postgresql":
        yield None
        return
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def database_url(postgres, tmp_path) -> str | None:
    """A fresh, empty database for one test (None: SQLite inside the instance directory)."""
    if postgres is None:
        return None
    return postgres.create_database(f"knet_test_{os.getpid()}_{next(_database_numbers)}")


TEMPLATE_DATABASE = "knet_test_template"


@pytest.fixture(scope="session")
def node_template(tmp_path_factory, postgres) -> tuple[Path, str | None]:
    """One node created by `knet init`, exactly as an IT officer would, for each test's node to be a copy
    of: running init and its migrations again for every test took a third of the suite's time (tests
    of `knet init` itself run it for real)."""
    path = tmp_path_factory.mktemp("template") / "instance"
    argv = ["init", "--instance", str(path), "--name", "Δήμος Δοκιμών", "--url", "http://127.0.0.1:5000"]
    url = postgres.create_database(TEMPLATE_DATABASE) if postgres is not None else None
    if url:
        argv += ["--database", url]
    cli(argv, standalone=False)
    if postgres is not None:
        postgres.disconnect(TEMPLATE_DATABASE)
    return path, url


def copy_node(node_template, postgres, path: Path, **settings: str) -> str | None:
    """Make a node at `path` as `knet init` would: a copy of the session's template node, with a secret and a
    federation key of its own (made at its first start), `settings` (name, url…) in its knet.toml and, on
    PostgreSQL, a database of its own copied from the template's. Returns that database's name."""
    template, template_url = node_template
    # Not its metrics either: the test process counts its requests there (knet.metrics).
    shutil.copytree(template, path, ignore=shutil.ignore_patterns("federation-keys", "metrics"))
    config = tomllib.loads((path / "knet.toml").read_text(encoding="utf-8"))
    config.update(settings, secret_key=secrets.token_urlsafe(48))
    name = None
    if template_url:
        name = f"knet_test_{os.getpid()}_{next(_database_numbers)}"
        config["database"] = postgres.create_database(name, template=TEMPLATE_DATABASE)
    (path / "knet.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    return name


@pytest.fixture
def instance(tmp_path, node_template, postgres) -> Iterator[Path]:
    """A node as `knet init` creates it (see copy_node); its PostgreSQL database is dropped afterwards."""
    path = tmp_path / "instance"
    database = copy_node(node_template, postgres, path)
    yield path
    if database:
        postgres.drop_database(database)


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in a fresh app context, as under a real server.

    Without this, requests would reuse the test's app context, sharing `g` (the locale, the CSRF
    token, the database session) from one request to the next, which hides bugs."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(instance):
    app = create_app(instance, overrides={"TESTING": True})
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        close_index(app)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch):
    """Accounts made in tests hash with a cheap work factor: scrypt's costs a third of a second each,
    and no test is about the work factor (sign-in still checks the hash for real)."""
    monkeypatch.setattr(auth_services, "generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1000"))


@pytest.fixture
def make_user(app):
    """Create a local account: make_user("maria") is an editor (most tests write pages); pass role="reader" for someone who only reads."""

    def make(username: str | None = None, role: str = "editor", password: str = PASSWORD):
        user = auth_services.create_local_user(username or f"user{secrets.token_hex(3)}", password, role=role)
        db.session.commit()
        return user

    return make



@pytest.fixture
def browse(app):
    """browse(user) is a client signed in as that person through the real form (pages in English, or in
    `language`); browse(None) an anonymous one."""

    def make(user, language: str = "en"):
        client = app.test_client()
        client.set_cookie("knet_lang", language)
        if user is not None:
            page = client.get("/login").get_data(as_text=True)
            response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                                   "csrf_token": csrf_token(page)})
            assert response.status_code == 302
        return client

    return make


@pytest.fixture
def make_token(app):
    """A bearer token header for a person: make_token(user, 'write')."""

    def make(user, scope: str = "write") -> dict[str, str]:
        raw = auth_services.issue_token(user, scope)
        db.session.commit()
        return {"Authorization": f"Bearer {raw}"}

    return make


@pytest.fixture
def make_page(app):
    """Create a page through the service: make_page(author, 'Title', 'body', visibility='public')."""

    def make(author, title: str, body: str = "Κείμενο.", **fields):
        page = wiki_services.create_page(author, PageInput(title=title, body=body, **fields),
                                         app.config["KNET"]["max_body_bytes"])
        db.session.commit()
        return page

    return make


@pytest.fixture
def sign_in(client):
    """Sign a person in through the real sign-in form (CSRF included)."""

    def do(user, password: str = PASSWORD):
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"username": user.username, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared test corpus (../shared/corpus or $KNET_CORPUS)."""
    path = Path(os.environ.get("KNET_CORPUS", ROOT.parent / "shared" / "corpus"))
    if not path.is_dir():
        message = f"The test corpus is missing at {path}; set KNET_CORPUS."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues() -> None:
    """The Greek and English catalogues, compiled when missing or older than their .po files (as
    scripts/install.sh does), so that every test sees the interface people see."""
    translations = ROOT / "knet" / "translations"
    stale = [po for po in translations.glob("*/LC_MESSAGES/messages.po")
             if not po.with_suffix(".mo").is_file() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime]
    if stale:
        environment = {**os.environ, "PYTHON": sys.executable}
        environment.pop("PYBABEL", None)
        result = subprocess.run(["bash", str(ROOT / "scripts" / "i18n.sh"), "compile"], cwd=ROOT, env=environment,
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"bash scripts/i18n.sh compile failed:\n{result.stdout}\n{result.stderr}"
    for locale in ("el", "en"):
        mo = translations / locale / "LC_MESSAGES" / "messages.mo"
        assert mo.is_file(), f"{mo} was not built"


# Directories ------------------------------------------------------------------------------------

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
