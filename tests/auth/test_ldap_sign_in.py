"""Signing in with a municipality's directory account, against real slapd servers."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from auth.ldap import normal_dn
from auth.models import AuditEvent, GroupMembership, User
from knet.jobs import Job
from knet.db import db
from tests.conftest import post_sign_in, running_node, with_directory


def me(client) -> dict | None:
    response = client.get("/api/v1/me")
    return response.get_json() if response.status_code == 200 else None


def audit_actions(username: str) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.username == username)
                                   .order_by(AuditEvent.id)))


@pytest.mark.parametrize("username, roles, department", [
    ("maria", ["reader", "editor"], "Payroll"),
    ("nikos", ["reader", "editor", "trainer"], "GIS"),
    ("eleni", ["reader", "moderator"], "Procurement"),
    ("admin.it", ["reader", "admin"], "Technical"),
    ("kostas", ["reader"], "Payroll"),
    ("o*(b)\\x", ["reader"], "Payroll"),
])
def test_athens_staff_sign_in_with_their_roles_and_department(athens_node, athens_directory, username, roles,
                                                               department):
    client = athens_node.test_client()
    account = athens_directory.accounts[username]
    response = post_sign_in(client, username, account.password)
    assert response.status_code == 302, response.get_data(as_text=True)
    person = me(client)
    assert person["username"] == username
    assert person["name"] == account.display_name
    assert person["email"] == account.email
    assert person["roles"] == roles
    assert person["department"] == department
    user = User.by_username(username)
    assert [unit.name for unit in user.department.path] == list(account.departments)
    assert user.source == "directory" and user.password_hash is None


def test_thessaloniki_staff_sign_in_by_uid_or_mail_with_groups_found_by_member(thessaloniki_node,
                                                                               thessaloniki_directory):
    anna = thessaloniki_directory.accounts["anna"]
    client = thessaloniki_node.test_client()
    assert post_sign_in(client, "anna", anna.password).status_code == 302
    assert me(client)["roles"] == ["reader", "editor"]
    assert me(client)["department"] == "Urban Planning"
    client.post("/sign-out", data={})
    other = thessaloniki_node.test_client()
    assert post_sign_in(other, anna.email, anna.password).status_code == 302
    petros = thessaloniki_directory.accounts["petros"]
    third = thessaloniki_node.test_client()
    assert post_sign_in(third, "petros", petros.password).status_code == 302
    assert me(third)["roles"] == ["reader", "trainer"]


@pytest.mark.parametrize("password", ["wrong-password", "MARIA-PASS-A1", " maria-pass-A1"])
def test_a_wrong_password_is_refused_and_logged(athens_node, password):
    client = athens_node.test_client()
    response = post_sign_in(client, "maria", password)
    assert response.status_code == 401
    assert "Λανθασμένο όνομα χρήστη ή κωδικός πρόσβασης." in response.get_data(as_text=True)
    assert me(client) is None
    assert audit_actions("maria") == ["sign_in_failed"]


def test_an_empty_password_never_reaches_the_directory(athens_node, athens_directory):
    client = athens_node.test_client()
    assert post_sign_in(client, "maria", "").status_code == 400
    assert me(client) is None
    # Straight at the service too: the form is not the only caller.
    directory = athens_node.extensions["knet.directory"]
    from auth.ldap import BadCredentials
    with pytest.raises(BadCredentials, match="empty password"):
        directory.authenticate("maria", "")


def test_unknown_and_disabled_users_are_refused(athens_node, athens_directory):
    client = athens_node.test_client()
    assert post_sign_in(client, "nobody", "whatever-password").status_code == 401
    former = athens_directory.accounts["former"]
    assert former.disabled
    assert post_sign_in(client, "former", former.password).status_code == 401
    assert me(client) is None
    detail = db.session.scalar(select(AuditEvent.detail).where(AuditEvent.username == "former"))
    assert "disabled" in detail


def test_a_role_follows_group_membership_at_the_next_sign_in(athens_node, athens_directory):
    kostas = athens_directory.accounts["kostas"]
    client = athens_node.test_client()
    assert post_sign_in(client, "kostas", kostas.password).status_code == 302
    assert me(client)["roles"] == ["reader"]
    athens_directory.add_member(athens_directory.groups["editors"], kostas.dn)
    again = athens_node.test_client()
    assert post_sign_in(again, "kostas", kostas.password).status_code == 302
    assert me(again)["roles"] == ["reader", "editor"]
    athens_directory.remove_member(athens_directory.groups["editors"], kostas.dn)
    third = athens_node.test_client()
    assert post_sign_in(third, "kostas", kostas.password).status_code == 302
    assert me(third)["roles"] == ["reader"]
    assert "roles_changed" in audit_actions("kostas")


def test_directory_down_says_so_and_keeps_sessions_and_local_admins(athens_node, athens_directory, make_user):
    maria = athens_directory.accounts["maria"]
    signed_in = athens_node.test_client()
    assert post_sign_in(signed_in, "maria", maria.password).status_code == 302
    make_user("root", role="admin")
    with athens_directory.offline():
        client = athens_node.test_client()
        response = post_sign_in(client, "nikos", athens_directory.accounts["nikos"].password)
        assert response.status_code == 503
        text = response.get_data(as_text=True)
        assert "Λανθασμένο" not in text
        assert "cannot be reached" in text or "δεν είναι διαθέσιμος" in text
        assert me(signed_in)["username"] == "maria"  # an existing session continues
        admin = athens_node.test_client()
        from tests.conftest import PASSWORD
        assert post_sign_in(admin, "root", PASSWORD).status_code == 302
        assert me(admin)["roles"] == ["reader", "admin"]
    assert audit_actions("nikos") == ["sign_in_unavailable"]


def test_failover_to_the_next_server(instance, athens_directory):
    settings = athens_directory.knet_settings()
    settings["url"] = ["ldap://127.0.0.1:9", settings["url"]]  # nothing listens on the discard port
    with_directory(instance, settings)
    with running_node(instance) as app:
        client = app.test_client()
        assert post_sign_in(client, "maria", athens_directory.accounts["maria"].password).status_code == 302


def test_direct_bind_through_a_dn_template(instance, thessaloniki_directory):
    settings = thessaloniki_directory.knet_settings()
    settings["user_dn_template"] = "uid={username},ou=Social Services,ou=Staff,dc=thessaloniki,dc=gr"
    with_directory(instance, settings)
    petros = thessaloniki_directory.accounts["petros"]
    with running_node(instance) as app:
        client = app.test_client()
        assert post_sign_in(client, "petros", petros.password).status_code == 302
        assert me(client)["name"] == petros.display_name
        assert post_sign_in(app.test_client(), "petros", "wrong-password").status_code == 401
        # A name that would change the DN if it were not escaped.
        assert post_sign_in(app.test_client(), "petros,ou=Staff", petros.password).status_code == 401


def test_the_same_uid_in_two_municipalities_is_two_people(athens_node, athens_directory, thessaloniki_directory):
    client = athens_node.test_client()
    assert post_sign_in(client, "maria", thessaloniki_directory.accounts["maria"].password).status_code == 401
    assert post_sign_in(client, "maria", athens_directory.accounts["maria"].password).status_code == 302
    assert me(client)["name"] == athens_directory.accounts["maria"].display_name


def test_many_sign_ins_at_once_share_the_service_connection_safely(athens_node, athens_directory):
    directory = athens_node.extensions["knet.directory"]
    names = ["maria", "nikos", "eleni", "kostas", "admin.it"] * 6
    results: dict[int, str] = {}

    def sign_in(number: int, username: str) -> None:
        try:
            person = directory.authenticate(username, athens_directory.accounts[username].password)
            results[number] = person.username
        except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
            results[number] = repr(exc)

    threads = [threading.Thread(target=sign_in, args=(number, name)) for number, name in enumerate(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [results[number] for number in range(len(names))] == names


def test_the_directory_spelling_of_a_name_is_the_account(athens_node, athens_directory, thessaloniki_directory):
    client = athens_node.test_client()
    assert post_sign_in(client, "MARIA", athens_directory.accounts["maria"].password).status_code == 302
    assert me(client)["username"] == "maria"
    assert post_sign_in(athens_node.test_client(), "maria", athens_directory.accounts["maria"].password).status_code == 302
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_signing_in_by_mail_is_the_same_account(thessaloniki_node, thessaloniki_directory):
    anna = thessaloniki_directory.accounts["anna"]
    client = thessaloniki_node.test_client()
    assert post_sign_in(client, anna.email, anna.password).status_code == 302
    assert me(client)["username"] == "anna"


def test_signing_in_again_unchanged_queues_no_index_update(athens_node, athens_directory):
    def index_jobs() -> int:
        return db.session.scalar(select(db.func.count()).select_from(Job).where(Job.kind == "search.index"))

    password = athens_directory.accounts["maria"].password
    assert post_sign_in(athens_node.test_client(), "maria", password).status_code == 302
    first = index_jobs()
    assert first >= 1  # a new person is indexed
    for _ in range(3):
        assert post_sign_in(athens_node.test_client(), "maria", password).status_code == 302
    assert index_jobs() == first
    athens_directory.add_member(athens_directory.groups["trainers"], athens_directory.accounts["maria"].dn)
    assert post_sign_in(athens_node.test_client(), "maria", password).status_code == 302
    assert index_jobs() == first + 1  # her roles changed, so her profile did


@pytest.mark.parametrize("username", ["maria\x00", "\x00", "ma\x00ria*"])
def test_a_nul_in_the_name_is_refused_and_logged(athens_node, athens_directory, username):
    client = athens_node.test_client()
    assert post_sign_in(client, username, athens_directory.accounts["maria"].password).status_code == 401
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "sign_in_failed")) == 1


def test_every_directory_group_of_a_person_is_kept_and_follows_the_directory(athens_node, athens_directory):
    """Courses are assigned to groups: the node knows each person's groups as of their last sign-in."""
    kostas = athens_directory.accounts["kostas"]

    def groups_held() -> set[str]:
        db.session.expire_all()
        user = User.by_username("kostas")
        return set(db.session.scalars(select(GroupMembership.dn).where(GroupMembership.user_id == user.id)))

    assert post_sign_in(athens_node.test_client(), "kostas", kostas.password).status_code == 302
    first = groups_held()
    assert first == {normal_dn(group) for group in kostas.groups} and first
    athens_directory.add_member(athens_directory.groups["editors"], kostas.dn)
    assert post_sign_in(athens_node.test_client(), "kostas", kostas.password).status_code == 302
    assert groups_held() == first | {normal_dn(athens_directory.groups["editors"])}
    athens_directory.remove_member(athens_directory.groups["editors"], kostas.dn)
    assert post_sign_in(athens_node.test_client(), "kostas", kostas.password).status_code == 302
    assert groups_held() == first
