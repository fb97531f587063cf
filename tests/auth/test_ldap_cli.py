"""`knet ldap test` and `knet ldap sync` against real directories, as an IT officer runs them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from datetime import timedelta

from sqlalchemy import select

from auth.models import Department, User
from knet.app import create_app
from knet import jobs
from knet.db import as_utc, db, utcnow
from knet.jobs import Job
from tests.conftest import with_directory
from tests.directories import ldif_entry, ssha

KNET = str(Path(sys.executable).parent / "knet")


def knet(instance, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([KNET, *args, "--instance", str(instance)], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_ldap_test_walks_every_step_for_a_good_account(instance, athens_directory):
    with_directory(instance, athens_directory.knet_settings())
    maria = athens_directory.accounts["maria"]
    result = knet(instance, "ldap", "test", "--username", "maria", "--password-stdin", stdin=maria.password + "\n")
    assert result.returncode == 0, result.stderr
    steps = [line.split(":")[0].split(maxsplit=1)[1] for line in result.stdout.splitlines() if line.startswith("ok")]
    assert steps == ["connect", "tls", "service bind", "user search", "user bind", "groups", "roles"]
    assert "found 1 entry" in result.stdout and "Roles: reader, editor." in result.stdout


def test_ldap_test_names_the_failing_step(instance, athens_directory):
    settings = athens_directory.knet_settings()
    with_directory(instance, {**settings, "bind_password": "not-the-secret"})
    result = knet(instance, "ldap", "test")
    assert result.returncode == 1
    assert "The service bind step failed" in result.stderr and "bind_password" in result.stderr

    with_directory(instance, {**settings, "url": "ldap://127.0.0.1:9"})
    result = knet(instance, "ldap", "test")
    assert result.returncode == 1 and "The connect step failed" in result.stderr

    with_directory(instance, settings)
    result = knet(instance, "ldap", "test", "--username", "nobody", "--no-password")
    assert result.returncode == 1 and "The user search step failed" in result.stderr and "no entry" in result.stderr

    result = knet(instance, "ldap", "test", "--username", "maria", "--password-stdin", stdin="wrong\n")
    assert result.returncode == 1 and "The user bind step failed" in result.stderr

    result = knet(instance, "ldap", "test", "--username", "former", "--no-password")
    assert result.returncode == 1 and "disabled_filter" in result.stderr


def test_ldap_test_without_a_directory_says_how_to_add_one(instance):
    result = knet(instance, "ldap", "test")
    assert result.returncode == 1 and "[ldap]" in result.stderr and "Traceback" not in result.stderr


def test_ldap_sync_creates_updates_and_deactivates(instance, athens_directory):
    with_directory(instance, athens_directory.knet_settings())
    result = knet(instance, "ldap", "sync")
    assert result.returncode == 0, result.stderr
    active = [a for a in athens_directory.accounts.values() if not a.disabled]
    assert f"{len(athens_directory.accounts)} people in the directory: {len(active)} new" in result.stdout

    app = create_app(instance)
    with app.app_context():
        maria = User.by_username("maria")
        assert maria.active and maria.granted_roles == "editor"
        assert [d.name for d in maria.department.path] == ["Departments", "Finance", "Payroll"]
        assert User.by_username("former") is None  # disabled: never created
        names = set(db.session.scalars(select(Department.name)))
        assert {"Finance", "Payroll", "Procurement", "Technical", "GIS"} <= names
        db.session.remove()
        db.engine.dispose()

    kostas = athens_directory.accounts["kostas"]
    athens_directory.ldapmodify(f"dn: {kostas.dn}\nchangetype: delete\n")
    try:
        result = knet(instance, "ldap", "sync")
        assert result.returncode == 0, result.stderr
        assert "1 deactivated" in result.stdout
        with app.app_context():
            gone = User.by_username("kostas")
            assert not gone.active and gone.deactivated_reason == "no longer in the directory"
            db.session.remove()
            db.engine.dispose()
    finally:
        athens_directory.ldapmodify(_entry_ldif(athens_directory, kostas), add=True)
        athens_directory.rejoin(kostas)


def test_ldap_sync_with_the_directory_down_changes_nothing(instance, athens_directory):
    with_directory(instance, athens_directory.knet_settings())
    assert knet(instance, "ldap", "sync").returncode == 0
    with athens_directory.offline():
        result = knet(instance, "ldap", "sync")
    assert result.returncode == 1
    assert "Nothing was changed" in result.stderr and "Traceback" not in result.stderr
    app = create_app(instance)
    with app.app_context():
        assert User.by_username("maria").active
        db.session.remove()
        db.engine.dispose()


def _entry_ldif(directory, account) -> str:
    surname = account.display_name.split()[-1]
    return ldif_entry(account.dn, objectClass=["inetOrgPerson"], uid=account.username, cn=account.display_name,
                      sn=surname, displayName=account.display_name, mail=account.email,
                      userPassword=ssha(account.password))


def test_the_sync_also_runs_on_its_schedule_in_the_worker(athens_node, athens_directory):
    assert jobs.schedule_recurring() >= 1
    jobs.run_pending()
    assert User.by_username("nikos").granted_roles == "editor trainer"
    following = db.session.scalars(select(Job).where(Job.kind == "auth.ldap_sync", Job.state == "pending")).one()
    assert as_utc(following.run_after) > utcnow() + timedelta(minutes=59)


def test_ldap_test_names_a_certificate_it_cannot_trust_as_the_tls_step(instance, athens_directory, tmp_path):
    stranger = tmp_path / "other-ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(stranger), "-days", "1", "-subj", "/CN=Some other CA"], check=True,
                   capture_output=True)
    with_directory(instance, {**athens_directory.knet_settings(), "ca_file": str(stranger)})
    result = knet(instance, "ldap", "test")
    assert result.returncode == 1
    assert "The tls step failed" in result.stderr, result.stdout + result.stderr


def test_ldap_test_names_starttls_a_server_does_not_offer(instance, thessaloniki_directory):
    with_directory(instance, {**thessaloniki_directory.knet_settings(), "start_tls": True})
    result = knet(instance, "ldap", "test")
    assert result.returncode == 1
    assert "The tls step failed" in result.stderr and "StartTLS refused" in result.stderr
