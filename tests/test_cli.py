"""The real `knet` console script, run the way an IT officer runs it."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import click
from click.testing import CliRunner
import pytest
from sqlalchemy import create_engine, inspect

from auth.services import authenticate_local
from knet.app import create_app
from knet.cli import main
from knet.db import db

KNET = Path(sys.executable).parent / "knet"
PASSWORD = "a long admin password"
TOKEN = re.compile(r"knet_[A-Za-z0-9_-]{20,}")


def knet(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return knet_all([list(args)], stdin=stdin, env=env)[0]


def knet_all(commands: list[list[str]], stdin: str | list[str] | None = None,
             env: dict[str, str] | None = None) -> list[subprocess.CompletedProcess]:
    """Run several independent `knet` commands at once (each start costs a second of imports);
    `stdin` is one text for all of them, or one per command."""
    inputs = stdin if isinstance(stdin, list) else [stdin] * len(commands)
    environ = {key: value for key, value in os.environ.items() if not key.startswith("KNET_")}
    environ.update(env or {})
    processes = [subprocess.Popen([str(KNET), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=environ) for args in commands]
    results = []
    for args, process, text_in in zip(commands, processes, inputs):
        stdout, stderr = process.communicate(text_in, timeout=60)
        results.append(subprocess.CompletedProcess([str(KNET), *args], process.returncode, stdout, stderr))
    return results


def assert_one_sentence_failure(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].rstrip().endswith("."), lines[0]
    return lines[0]


def init_args(path: Path, database_url: str | None) -> list[str]:
    args = ["init", "--instance", str(path), "--name", "Δήμος Κλι", "--url", "http://127.0.0.1:5001/"]
    return args + (["--database", database_url] if database_url else [])


def database_of(instance: Path) -> str:
    settings = tomllib.loads((instance / "knet.toml").read_text(encoding="utf-8"))
    return settings.get("database") or f"sqlite:///{instance / 'knet.db'}"


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


class Node:
    """The node as its web server sees it after the commands ran: a fresh app for each look."""

    def __init__(self, instance: Path) -> None:
        self.instance = instance

    def request(self, method: str, path: str, **kwargs):
        app = create_app(self.instance, overrides={"TESTING": True})
        with app.app_context():
            try:
                return app.test_client().open(path, method=method, **kwargs)
            finally:
                db.session.remove()
                db.engine.dispose()

    def check_password(self, username: str, password: str):
        app = create_app(self.instance)
        with app.app_context():
            try:
                user = authenticate_local(username, password)
                return (user.username, user.roles[-1]) if user else None
            finally:
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def admin(instance):
    result = knet("user", "create-admin", "--instance", str(instance), "--username", "admin",
                  "--email", "it@example.gr", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    return "admin"


def issue(instance: Path, username: str, scope: str) -> str:
    result = knet("user", "token", "--instance", str(instance), "--username", username, "--scope", scope)
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert TOKEN.fullmatch(last), f"the last line of stdout is not the token alone: {last!r}"
    return last


def test_the_console_script_is_installed():
    assert KNET.is_file() and os.access(KNET, os.X_OK)


def test_init_creates_config_with_secret_and_schema(tmp_path, database_url):
    path = tmp_path / "node"
    result = knet(*init_args(path, database_url))
    assert result.returncode == 0, result.stderr
    config_file = path / "knet.toml"
    settings = tomllib.loads(config_file.read_text(encoding="utf-8"))
    assert settings["name"] == "Δήμος Κλι"
    assert settings["url"] == "http://127.0.0.1:5001"
    assert len(settings["secret_key"]) >= 32
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert {"users", "api_tokens", "wiki_pages", "wiki_revisions", "alembic_version"} <= tables(database_of(path))
    assert Node(path).request("GET", "/healthz").status_code == 200


def test_init_refuses_to_overwrite_and_each_node_gets_its_own_secret(tmp_path, database_url, postgres):
    first, second = tmp_path / "first", tmp_path / "second"
    other_url = postgres.create_database(f"knet_cli_second_{os.getpid()}") if postgres else None
    results = knet_all([init_args(first, database_url), init_args(second, other_url)])
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    before = (first / "knet.toml").read_bytes()
    secrets = [tomllib.loads(path.joinpath("knet.toml").read_text())["secret_key"] for path in (first, second)]
    assert secrets[0] != secrets[1]

    result = knet(*init_args(first, database_url))
    assert result.returncode == 1
    message = assert_one_sentence_failure(result)
    assert "knet.toml" in message
    assert (first / "knet.toml").read_bytes() == before


def test_init_with_unreachable_database_leaves_no_config(tmp_path):
    path = tmp_path / "node"
    result = knet(*init_args(path, "postgresql+psycopg://nobody:s3cret@127.0.0.1:1/none"))
    assert result.returncode == 1
    sentence = assert_one_sentence_failure(result)
    assert "Could not create the database" in sentence and "s3cret" not in sentence
    assert not path.exists(), "a failed init must leave nothing behind, so it can simply be run again"


def test_create_admin_reads_password_from_stdin(instance, admin):
    node = Node(instance)
    assert node.check_password("admin", PASSWORD) == ("admin", "admin")
    assert node.check_password("admin", "wrong password") is None


def test_create_admin_refuses_a_short_password_and_a_taken_name(instance, admin):
    short, taken = knet_all([
        ["user", "create-admin", "--instance", str(instance), "--username", "other", "--password-stdin"],
        ["user", "create", "--instance", str(instance), "--username", "admin", "--password-stdin"],
    ], stdin=["short\n", "another long password\n"])
    assert "10" in assert_one_sentence_failure(short)
    assert "'admin'" in assert_one_sentence_failure(taken)
    assert Node(instance).check_password("admin", PASSWORD) == ("admin", "admin")
    assert Node(instance).check_password("other", "short") is None


def test_write_token_works_against_the_node_and_revoking_it_stops_it(instance, admin):
    token = issue(instance, "admin", "write")
    headers = {"Authorization": f"Bearer {token}"}
    node = Node(instance)
    created = node.request("POST", "/api/v1/pages", json={"title": "Από το τερματικό", "body": "…"},
                           headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["author"] == "admin"

    result = knet("user", "revoke-token", "--instance", str(instance), "--username", "admin", "--token", token[:12])
    assert result.returncode == 0, result.stderr
    assert re.search(r"\b1 token", result.stdout), result.stdout
    refused = node.request("POST", "/api/v1/pages", json={"title": "Μετά", "body": "…"}, headers=headers)
    assert refused.status_code == 401


def test_read_token_cannot_write_and_revoking_all_stops_every_token(instance, admin):
    read, write = [issue(instance, "admin", scope) for scope in ("read", "write")]
    node = Node(instance)
    as_reader = {"Authorization": f"Bearer {read}"}
    assert node.request("GET", "/api/v1/pages", headers=as_reader).status_code == 200
    assert node.request("POST", "/api/v1/pages", json={"title": "Όχι", "body": "…"},
                        headers=as_reader).status_code == 403

    result = knet("user", "revoke-token", "--instance", str(instance), "--username", "admin")
    assert result.returncode == 0 and re.search(r"\b2 token", result.stdout), result.stdout
    for token in (read, write):
        assert node.request("GET", "/api/v1/pages", headers={"Authorization": f"Bearer {token}"}) \
            .status_code == 401


def test_token_for_unknown_person_fails_with_a_sentence(instance):
    result = knet("user", "token", "--instance", str(instance), "--username", "nobody", "--scope", "write")
    assert "nobody" in assert_one_sentence_failure(result)
    assert not TOKEN.search(result.stdout)


def test_knet_instance_variable_instead_of_option(tmp_path, database_url):
    path = tmp_path / "from-env"
    args = [arg for arg in init_args(path, database_url) if arg not in ("--instance", str(path))]
    env = {"KNET_INSTANCE": str(path)}
    assert knet(*args, env=env).returncode == 0
    assert (path / "knet.toml").is_file()
    result = knet("user", "create-admin", "--username", "envadmin", "--password-stdin", stdin=PASSWORD + "\n",
                  env=env)
    assert result.returncode == 0, result.stderr
    token = issue_env(env)
    assert Node(path).request("GET", "/api/v1/pages", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def issue_env(env: dict[str, str]) -> str:
    result = knet("user", "token", "--username", "envadmin", "--scope", "read", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


NEEDS_INSTANCE = [["user", "token", "--username", "admin"],
                  ["user", "create-admin", "--username", "admin", "--password-stdin"],
                  ["user", "revoke-token", "--username", "admin"],
                  ["db", "upgrade"]]


def test_missing_instance_is_one_sentence_not_a_traceback(tmp_path):
    results = knet_all([*NEEDS_INSTANCE, *([*args, "--instance", str(tmp_path / "nowhere")] for args in NEEDS_INSTANCE)],
                       stdin=PASSWORD + "\n")
    for result in results[:len(NEEDS_INSTANCE)]:
        assert "--instance" in assert_one_sentence_failure(result), result.args
    for result in results[len(NEEDS_INSTANCE):]:
        assert "knet init" in assert_one_sentence_failure(result), result.args
    assert not (tmp_path / "nowhere").exists()


def test_broken_config_is_one_sentence(tmp_path):
    path = tmp_path / "broken"
    path.mkdir()
    (path / "knet.toml").write_text('name = "x"\nurl = "ftp://x"\nsecret_key = "s"\n', encoding="utf-8")
    result = knet("user", "token", "--instance", str(path), "--username", "admin")
    assert "url" in assert_one_sentence_failure(result)


def commands(group: click.Group, prefix: tuple[str, ...] = ()):
    yield prefix
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_help_on_every_command_and_group():
    """The console script answers --help; so does every command and group under it (asked in this process:
    forty interpreters starting at once cost more than the rest of this file)."""
    paths = list(commands(main))
    assert ("user", "token") in paths and ("init",) in paths
    script = knet("--help")
    assert script.returncode == 0 and script.stderr == "", script.stderr
    runner = CliRunner()
    results = [runner.invoke(main, [*path, "--help"], prog_name="knet") for path in paths]
    assert script.stdout.splitlines()[0] == results[0].output.splitlines()[0] == "Usage: knet [OPTIONS] COMMAND [ARGS]..."
    for path, result in zip(paths, results):
        assert result.exit_code == 0, (path, result.output)
        assert result.output.splitlines()[0].startswith(" ".join(("Usage: knet", *path))), (path, result.output)
        assert len(result.output.splitlines()) > 3, path
    listed = dict(zip(paths, (r.output for r in results)))
    for group, names in (((), ("init", "run", "user", "db")), (("user",), ("create-admin", "create", "token",
                                                                            "revoke-token"))):
        for name in names:
            assert re.search(rf"^\s+{name}\s", listed[group], re.MULTILINE), listed[group]
