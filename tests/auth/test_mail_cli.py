"""`knet mail test ADDRESS` against a real SMTP server, run the way an IT officer runs it."""
from __future__ import annotations

import shutil

import pytest

from tests.auth.test_digest import with_mail
from tests.mailserver import Authority, MailServer
from tests.test_cli import assert_one_sentence_failure, knet_all

#: Run on SQLite only: what the mail server answers does not depend on the database.
pytestmark = pytest.mark.sqlite_only

NODE = "Δήμος Δοκιμών"


@pytest.fixture(scope="module")
def authority():
    made = Authority()
    yield made
    made.remove()


def node_with(instance, name: str, mail: dict | None):
    """A copy of the node with its own [mail] table (so several commands can run at once)."""
    copy = instance.parent / name
    shutil.copytree(instance, copy)
    if mail is not None:
        with_mail(copy, mail)
    return copy


def test_a_test_message_arrives(instance):
    server = MailServer().start()
    try:
        node = node_with(instance, "plain", server.knet_settings())
        [result] = knet_all([["mail", "test", "maria@example.gr", "--instance", str(node)]])
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Sent a test message to maria@example.gr through 127.0.0.1:{server.port}.\n"
    [received] = server.received
    assert NODE in received["Subject"] and received["To"].addresses[0].addr_spec == "maria@example.gr"
    assert NODE in received.get_body(("plain",)).get_content()


def test_every_failure_is_one_sentence_with_its_status(instance, authority):
    server = MailServer(security="starttls", authority=authority, username="knet", password="correct-horse").start()
    try:
        nodes = {
            "good": node_with(instance, "good", server.knet_settings()),
            "wrong password": node_with(instance, "wrong", server.knet_settings(password="wrong-horse")),
            "down": node_with(instance, "down", MailServer().knet_settings()),  # nothing listens there
            "no mail": node_with(instance, "none", None),
            "no sender": node_with(instance, "nosender", {"host": "smtp.example.gr"}),
        }
        commands = [["mail", "test", "maria@example.gr", "--instance", str(path)] for path in nodes.values()]
        commands.append(["mail", "test", "maria", "--instance", str(nodes["good"])])
        results = dict(zip([*nodes, "bad address"],
                           knet_all(commands, env={"SSL_CERT_FILE": str(authority.ca_file)})))
    finally:
        server.stop()

    assert results["good"].returncode == 0, results["good"].stderr
    assert len(server.received) == 1

    wrong = results["wrong password"]
    assert wrong.returncode == 1
    assert assert_one_sentence_failure(wrong) == (
        f"The mail server 127.0.0.1:{server.port} refused the login of knet (535 5.7.8 Authentication credentials "
        "invalid): check 'username' and 'password' in [mail].")

    down = results["down"]
    assert down.returncode == 1 and "could not be reached: Connection refused." in assert_one_sentence_failure(down)

    missing = results["no mail"]
    assert missing.returncode == 2
    assert "sends no e-mail: add a [mail] table with a host" in assert_one_sentence_failure(missing)

    bad = results["bad address"]
    assert bad.returncode == 2 and assert_one_sentence_failure(bad) == "'maria' is not an e-mail address."

    config = results["no sender"]
    assert config.returncode == 1 and "[mail] in" in assert_one_sentence_failure(config)
    assert "set 'sender', the address the node's e-mails come from" in config.stderr
