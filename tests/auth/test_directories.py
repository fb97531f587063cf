"""The test directories themselves behave like the directories they stand for (checked with python-ldap)."""
from __future__ import annotations

import contextlib
from pathlib import Path

import ldap
import ldap.dn
import ldap.filter
import pytest
import tomli_w

from knet.config import load, resolve_instance
from tests.directories import athens

DIRECTORIES = ["athens_directory", "thessaloniki_directory"]


@contextlib.contextmanager
def connection(server, dn: str | None = None, password: str | None = None, *, ca_file: str | None = None):
    """A python-ldap connection, bound as dn (anonymous without one), optionally after StartTLS."""
    conn = ldap.initialize(server.url)
    try:
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 5)
        conn.set_option(ldap.OPT_TIMEOUT, 5)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        if ca_file:
            conn.set_option(ldap.OPT_X_TLS_CACERTFILE, ca_file)
            conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
            conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
            conn.start_tls_s()
        if dn is not None:
            conn.simple_bind_s(dn, password)
        yield conn
    finally:
        conn.unbind_s()


def search(conn, base: str, filterstr: str, attributes: list[str] | None = None) -> dict[str, dict]:
    """dn -> attributes of the entries found (references left out); an unreadable base finds nothing."""
    try:
        results = conn.search_s(base, ldap.SCOPE_SUBTREE, filterstr, attributes)
    except ldap.NO_SUCH_OBJECT:
        return {}
    return {dn: attrs for dn, attrs in results if dn is not None}


def reader(server):
    """Credentials knet searches with: the service account, or anonymous."""
    return (server.service_dn, server.service_password) if server.service_dn else (None, None)


@pytest.mark.parametrize("directory", DIRECTORIES)
def test_every_account_binds_with_its_own_password_only(request, directory):
    server = request.getfixturevalue(directory)
    for account in server.accounts.values():
        with connection(server, account.dn, account.password) as conn:
            assert conn.whoami_s() == f"dn:{account.dn}"
        with pytest.raises(ldap.INVALID_CREDENTIALS), connection(server, account.dn, account.password + "x"):
            pass


@pytest.mark.parametrize("directory", DIRECTORIES)
def test_an_empty_password_is_refused_not_taken_for_an_anonymous_bind(request, directory):
    server = request.getfixturevalue(directory)
    with pytest.raises(ldap.UNWILLING_TO_PERFORM), connection(server, server.accounts["maria"].dn, ""):
        pass


@pytest.mark.parametrize("directory", DIRECTORIES)
def test_the_user_filter_finds_each_account_with_its_attributes(request, directory):
    server = request.getfixturevalue(directory)
    with connection(server, *reader(server)) as conn:
        for account in server.accounts.values():
            username = ldap.filter.escape_filter_chars(account.username)
            found = search(conn, server.base_dn, server.user_filter.format(username=username))
            assert list(found) == [account.dn]
            attributes = found[account.dn]
            assert attributes["displayName"] == [account.display_name.encode()]
            assert attributes["mail"] == [account.email.encode()]
            assert attributes["title"] == [account.title.encode()]
            assert attributes["telephoneNumber"] == [account.phone.encode()]
            assert "userPassword" not in attributes
            departments = [rdn[0][1] for rdn in ldap.dn.str2dn(account.dn)[1:-2]]
            assert tuple(reversed(departments)) == account.departments


def test_the_special_uid_is_escaped_in_its_dn_and_binds(athens_directory):
    account = athens_directory.accounts["o*(b)\\x"]
    assert account.dn.startswith("uid=o*(b)\\5Cx,ou=Payroll,")
    assert ldap.dn.str2dn(account.dn)[0] == [("uid", "o*(b)\\x", 1)]
    with connection(athens_directory, account.dn, account.password) as conn:
        assert conn.whoami_s() == f"dn:{account.dn}"


def test_athens_lists_groups_in_member_of(athens_directory):
    maria = athens_directory.accounts["maria"]
    with connection(athens_directory, *reader(athens_directory)) as conn:
        found = search(conn, maria.dn, "(objectClass=*)", ["memberOf"])
    assert {value.decode() for value in found[maria.dn]["memberOf"]} == set(maria.groups)
    assert athens_directory.groups["editors"] in maria.groups


def test_thessaloniki_has_no_member_of_but_groups_list_members(thessaloniki_directory):
    server = thessaloniki_directory
    anna = server.accounts["anna"]
    with connection(server) as conn:
        assert "memberOf" not in search(conn, anna.dn, "(objectClass=*)", ["*", "+"])[anna.dn]
        groups = search(conn, server.group_base, server.group_filter.format(dn=ldap.filter.escape_filter_chars(anna.dn)))
    assert set(groups) == set(anna.groups) == {"cn=Wiki Editors,ou=Roles,dc=thessaloniki,dc=gr"}


def test_thessaloniki_finds_people_by_mail_too(thessaloniki_directory):
    server = thessaloniki_directory
    with connection(server) as conn:
        found = search(conn, server.base_dn, server.user_filter.format(username="anna@thessaloniki.gr"))
    assert list(found) == [server.accounts["anna"].dn]


def test_anonymous_users_read_nothing_in_athens(athens_directory):
    with connection(athens_directory) as conn:
        assert search(conn, athens_directory.base_dn, "(uid=maria)") == {}
        assert search(conn, athens_directory.base_dn, "(objectClass=*)") == {}


def test_anonymous_users_search_thessaloniki(thessaloniki_directory):
    with connection(thessaloniki_directory) as conn:
        people = search(conn, thessaloniki_directory.base_dn, "(uid=*)")
    assert set(people) == {account.dn for account in thessaloniki_directory.accounts.values()}


@pytest.mark.parametrize("directory", DIRECTORIES)
def test_no_one_reads_another_persons_password(request, directory):
    server = request.getfixturevalue(directory)
    maria = server.accounts["maria"]
    for credentials in [(None, None), reader(server), (maria.dn, maria.password)]:
        with connection(server, *credentials) as conn:
            entries = search(conn, server.base_dn, "(objectClass=*)", ["userPassword"])
        if credentials[0] or server.anonymous_read:
            assert maria.dn in entries  # the search did see the people
        # `by self write` lets a person read their own hash, and no one else's.
        assert {dn for dn, attributes in entries.items() if "userPassword" in attributes} <= {credentials[0]}


def test_the_disabled_filter_matches_only_the_former_employee(athens_directory):
    with connection(athens_directory, *reader(athens_directory)) as conn:
        found = search(conn, athens_directory.base_dn, athens_directory.disabled_filter)
    assert list(found) == [athens_directory.accounts["former"].dn]
    assert [a.username for a in athens_directory.accounts.values() if a.disabled] == ["former"]


def test_start_tls_with_the_ca_file(athens_directory):
    maria = athens_directory.accounts["maria"]
    with connection(athens_directory, maria.dn, maria.password, ca_file=athens_directory.ca_file) as conn:
        assert conn.whoami_s() == f"dn:{maria.dn}"


def test_start_tls_refuses_a_server_it_cannot_verify(athens_directory):
    with pytest.raises(ldap.CONNECT_ERROR), connection(athens_directory, ca_file="/etc/ssl/certs/ca-certificates.crt"):
        pass


def test_thessaloniki_offers_no_tls(thessaloniki_directory):
    assert thessaloniki_directory.ca_file is None
    with pytest.raises(ldap.PROTOCOL_ERROR, match="unsupported extended operation"), \
            connection(thessaloniki_directory, ca_file="/etc/ssl/certs/ca-certificates.crt"):
        pass


def test_both_run_side_by_side(athens_directory, thessaloniki_directory):
    assert athens_directory.port != thessaloniki_directory.port
    for server in (athens_directory, thessaloniki_directory):
        maria = server.accounts["maria"]
        with connection(server, maria.dn, maria.password) as conn:
            assert conn.whoami_s() == f"dn:{maria.dn}"
    assert athens_directory.accounts["maria"].dn != thessaloniki_directory.accounts["maria"].dn


@pytest.mark.parametrize("directory", DIRECTORIES)
def test_they_start_quickly(request, directory):
    assert request.getfixturevalue(directory).started_in < 5


def test_membership_changes_show_in_member_of_and_are_undone(athens_directory):
    server, kostas = athens_directory, athens_directory.accounts["kostas"]
    editors = server.groups["editors"]

    def member_of():
        with connection(server, *reader(server)) as conn:
            return {value.decode() for value in search(conn, kostas.dn, "(objectClass=*)", ["memberOf"])
                    [kostas.dn].get("memberOf", [])}

    server.add_member(editors, kostas.dn)
    assert editors in member_of()
    server.remove_member(server.groups["everyone"], kostas.dn)
    assert member_of() == {editors}
    server.restore()
    assert member_of() == set(kostas.groups)


def test_a_group_can_lose_its_last_person(thessaloniki_directory):
    server, giorgos = thessaloniki_directory, thessaloniki_directory.accounts["giorgos"]
    server.remove_member(server.groups["admins"], giorgos.dn)
    with connection(server) as conn:
        assert search(conn, server.group_base, f"(member={ldap.filter.escape_filter_chars(giorgos.dn)})") == {}


def test_a_directory_can_go_down_and_come_back(thessaloniki_directory):
    server, anna = thessaloniki_directory, thessaloniki_directory.accounts["anna"]
    port = server.port
    with server.offline():
        with pytest.raises(ldap.SERVER_DOWN), connection(server, anna.dn, anna.password):
            pass
    assert server.port == port
    with connection(server, anna.dn, anna.password) as conn:
        assert conn.whoami_s() == f"dn:{anna.dn}"


def test_stop_removes_everything():
    server = athens().start()
    directory, process = server.dir, server._process
    server.stop()
    assert process.poll() is not None
    assert not Path(directory).exists()


@pytest.mark.parametrize("directory", DIRECTORIES)
def test_knet_accepts_the_settings(request, directory, tmp_path):
    server = request.getfixturevalue(directory)
    settings = {"name": "Δήμος", "url": "http://127.0.0.1:5000", "secret_key": "x" * 32,
                "ldap": server.knet_settings()}
    (tmp_path / "knet.toml").write_text(tomli_w.dumps(settings), encoding="utf-8")
    loaded = load(resolve_instance(tmp_path), environ={})["ldap"]
    assert loaded["url"] == [server.url]
    assert loaded["roles"]["editor"] == [server.groups["editors"]]
    assert loaded["start_tls"] is (directory == "athens_directory")
