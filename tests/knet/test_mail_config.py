"""The [mail] table of knet.toml, its KNET_MAIL_* overrides, and whether settings that pass reach
a real SMTP server (plain, STARTTLS, TLS, with a login) or say in one sentence why not."""
from __future__ import annotations

import socket

import pytest
import tomli_w
from markupsafe import Markup

from knet import config, mail
from knet.config import ConfigError, Instance
from tests.mailserver import SENDER, Authority, MailServer

BASE = {"name": "Δήμος Δοκιμών", "url": "http://127.0.0.1:5000", "secret_key": "s" * 32}
GOOD = {"host": "smtp.example.gr", "sender": "knet@example.gr"}


def load(tmp_path, table: dict | None = None, environ: dict | None = None) -> dict:
    settings = dict(BASE)
    if table is not None:
        settings["mail"] = table
    (tmp_path / "knet.toml").write_text(tomli_w.dumps(settings), encoding="utf-8")
    return config.load(Instance(tmp_path), environ or {})["mail"]


def test_without_a_mail_table_the_node_sends_no_email(tmp_path):
    settings = load(tmp_path)
    assert settings["host"] == "" and settings["port"] == 25 and settings["security"] == "starttls"
    assert settings["timeout"] == 10 and settings["digest_minutes"] == 60


def test_a_mail_server_from_the_file(tmp_path):
    settings = load(tmp_path, {"host": "smtp.example.gr", "port": 465, "security": "tls", "username": "knet",
                               "password": "secret", "sender": "Δήμος Παραδείγματος <knet@example.gr>",
                               "digest_minutes": 0})
    assert (settings["host"], settings["port"], settings["security"]) == ("smtp.example.gr", 465, "tls")
    assert settings["sender"] == "Δήμος Παραδείγματος <knet@example.gr>" and settings["digest_minutes"] == 0


def test_every_key_can_come_from_the_environment(tmp_path):
    settings = load(tmp_path, {"host": "old.example.gr", "sender": "old@example.gr"}, {
        "KNET_MAIL_HOST": "smtp.example.gr", "KNET_MAIL_PORT": "587", "KNET_MAIL_USERNAME": "knet",
        "KNET_MAIL_PASSWORD": "pw", "KNET_MAIL_SENDER": "new@example.gr", "KNET_MAIL_TIMEOUT": "3",
        "KNET_MAIL_SECURITY": "tls", "KNET_MAIL_DIGEST_MINUTES": "15"})
    assert settings == {"host": "smtp.example.gr", "port": 587, "security": "tls", "username": "knet",
                        "password": "pw", "sender": "new@example.gr", "timeout": 3, "digest_minutes": 15}


@pytest.mark.parametrize("table, environ, says", [
    ({"host": "smtp.example.gr"}, {}, "set 'sender'"),
    ({**GOOD, "sender": "knet"}, {}, "'sender' must be one e-mail address"),
    ({**GOOD, "sender": "a@example.gr, b@example.gr"}, {}, "'sender' must be one e-mail address"),
    ({**GOOD, "sender": "Δήμος knet@example.gr"}, {}, "'sender' must be one e-mail address"),
    ({**GOOD, "host": "smtp.example.gr:587"}, {}, "the port goes in 'port'"),
    ({**GOOD, "host": "smtp://smtp.example.gr"}, {}, "the port goes in 'port'"),
    ({**GOOD, "port": 0}, {}, "between 1 and 65535"),
    ({**GOOD, "port": "587"}, {}, "'port' must be a whole number"),
    ({**GOOD, "security": "ssl"}, {}, "'security' must be one of none, starttls, tls"),
    ({**GOOD, "username": "knet"}, {}, "both 'username' and 'password'"),
    ({**GOOD, "password": "pw"}, {}, "both 'username' and 'password'"),
    ({**GOOD, "security": "none", "username": "knet", "password": "pw"}, {}, "unencrypted"),
    ({**GOOD, "username": "knet", "password": "μυστικό"}, {}, "only ASCII"),
    ({**GOOD, "timeout": 0}, {}, "at least 1 second"),
    ({**GOOD, "digest_minutes": -5}, {}, "'digest_minutes' must be a whole number"),
    ({**GOOD, "digest_minutes": True}, {}, "'digest_minutes' must be a whole number"),
    ({**GOOD, "host": 25}, {}, "'host' must be text in quotes"),
    ({**GOOD, "from": "knet@example.gr"}, {}, "unknown keys: from"),
    (GOOD, {"KNET_MAIL_PORT": "submission"}, "KNET_MAIL_PORT must be a whole number"),
    (GOOD, {"KNET_MAIL_SENDER": ""}, "set 'sender'"),
])
def test_a_wrong_setting_is_named_with_what_to_do(tmp_path, table, environ, says):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, table, environ)
    sentence = str(caught.value)
    assert says in sentence
    assert "[mail]" in sentence or "KNET_MAIL_" in sentence
    assert sentence.endswith(".") and "\n" not in sentence


def test_the_mail_table_must_be_a_table(tmp_path):
    (tmp_path / "knet.toml").write_text(tomli_w.dumps(BASE) + 'mail = "smtp.example.gr"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[mail\] in .* must be a table"):
        config.load(Instance(tmp_path), {})


def test_without_a_host_the_other_keys_wait_unchecked(tmp_path):
    # An IT officer may prepare the table and add the host later.
    assert load(tmp_path, {"username": "knet", "security": "none"})["host"] == ""


# The settings against a real server ------------------------------------------------------------

@pytest.fixture(scope="module")
def authority():
    made = Authority()
    yield made
    made.remove()


@pytest.fixture
def trusted(authority, monkeypatch):
    """This process trusts the test authority, as a node trusts the municipality's once installed."""
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.ca_file))
    return authority


def settings_for(server: MailServer, **changes) -> dict:
    return {**config.MAIL_DEFAULTS, **server.knet_settings(**changes)}


def letter(settings: dict, to: str = "maria@example.gr"):
    return mail.compose(settings, mail.mailbox(to, "Μαρία Παπαδάκη"), "Δοκιμή: «ένα» & <δύο>",
                        "Ένα κείμενο.\n", Markup("<p>{}</p>").format("Ένα <κείμενο>."), "el")


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_login_over_tls_sends_the_message(trusted, security):
    server = MailServer(security=security, authority=trusted, username="knet", password="correct-horse").start()
    try:
        settings = settings_for(server)
        mail.send(settings, [letter(settings), letter(settings, "nikos@example.gr")])
    finally:
        server.stop()
    assert [message["To"].addresses[0].addr_spec for message in server.received] == ["maria@example.gr",
                                                                                     "nikos@example.gr"]
    received = server.received[0]
    assert received["Subject"] == "Δοκιμή: «ένα» & <δύο>" and received["From"] == SENDER
    assert received["To"].addresses[0].display_name == "Μαρία Παπαδάκη"
    assert received["Auto-Submitted"] == "auto-generated" and received["Content-Language"] == "el"
    assert received.get_body(("plain",)).get_content().splitlines() == ["Ένα κείμενο."]
    page = received.get_body(("html",)).get_content()
    assert '<html lang="el">' in page and "<title>Δοκιμή: «ένα» &amp; &lt;δύο&gt;</title>" in page
    assert "<p>Ένα &lt;κείμενο&gt;.</p>" in page


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_wrong_password_is_refused_in_a_sentence(trusted, security):
    server = MailServer(security=security, authority=trusted, username="knet", password="correct-horse").start()
    try:
        settings = settings_for(server, password="wrong-horse")
        with pytest.raises(mail.MailError) as caught:
            mail.send(settings, [letter(settings)])
    finally:
        server.stop()
    assert str(caught.value) == (f"The mail server 127.0.0.1:{server.port} refused the login of knet "
                                 "(535 5.7.8 Authentication credentials invalid): check 'username' and 'password' "
                                 "in [mail].")
    assert server.received == []


def test_a_server_wanting_a_login_says_so_when_none_is_given(trusted):
    server = MailServer(security="starttls", authority=trusted, username="knet", password="correct-horse").start()
    try:
        settings = settings_for(server, username="", password="")
        with pytest.raises(mail.MailError, match="refused the sender knet@dimos.example.gr: 530 .*'username' and "
                                                 "'password' if the server wants a login"):
            mail.send(settings, [letter(settings)])
    finally:
        server.stop()


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_this_system_does_not_trust_is_refused(authority, monkeypatch, security):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    server = MailServer(security=security, authority=authority).start()
    try:
        settings = settings_for(server)
        with pytest.raises(mail.MailError, match=r"did not prove who it is \(unable to get local issuer certificate\)"
                                                 ": its certificate must be issued for 127.0.0.1 by an authority"):
            mail.send(settings, [letter(settings)])
    finally:
        server.stop()
    assert server.received == []


def test_starttls_required_but_not_offered(trusted):
    server = MailServer(security="none").start()
    try:
        settings = settings_for(server, security="starttls")
        with pytest.raises(mail.MailError, match="does not offer STARTTLS: set security"):
            mail.send(settings, [letter(settings)])
    finally:
        server.stop()


def test_tls_from_the_start_against_a_plain_server(trusted):
    server = MailServer(security="none").start()
    try:
        settings = settings_for(server, security="tls")
        with pytest.raises(mail.MailError, match=r"TLS with the mail server .* failed .*check 'security'"):
            mail.send(settings, [letter(settings)])
    finally:
        server.stop()


def test_an_unreachable_server_is_named():
    server = MailServer()  # never started: nothing listens on its port
    settings = settings_for(server)
    with pytest.raises(mail.MailError) as caught:
        mail.send(settings, [letter(settings)])
    assert str(caught.value) == f"The mail server 127.0.0.1:{server.port} could not be reached: Connection refused."


def test_a_server_that_never_answers_is_given_up_after_the_timeout():
    with socket.socket() as silent:  # accepts connections (its backlog does) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        settings = {**config.MAIL_DEFAULTS, "host": "127.0.0.1", "port": silent.getsockname()[1],
                    "security": "none", "sender": SENDER, "timeout": 1}
        with pytest.raises(mail.MailError) as caught:
            mail.send(settings, [letter(settings)])
    assert str(caught.value) == (f"The mail server 127.0.0.1:{settings['port']} did not answer in time "
                                 "(timeout = 1 in [mail]); if it expects TLS from the start, set security = \"tls\".")


def test_a_refused_recipient_is_refused_alone():
    server = MailServer(refuse=("nobody@example.gr",)).start()
    try:
        settings = settings_for(server)
        with mail.Outbox(settings) as outbox:
            with pytest.raises(mail.Refused, match="refused the recipient nobody@example.gr: 550 5.1.1 No such"):
                outbox.send(letter(settings, "nobody@example.gr"))
            outbox.send(letter(settings))
    finally:
        server.stop()
    assert [message["To"].addresses[0].addr_spec for message in server.received] == ["maria@example.gr"]


@pytest.mark.parametrize("text, expected", [
    ("maria@example.gr", ("", "maria@example.gr")),
    ("Μαρία Παπαδάκη <maria@example.gr>", ("Μαρία Παπαδάκη", "maria@example.gr")),
    ("maria", None), ("maria@", None), ("<>", None), ("a@example.gr, b@example.gr", None),
    ("maria@example.gr\r\nBcc: everyone@example.gr", None),
])
def test_mailbox_takes_exactly_one_address(text, expected):
    found = mail.mailbox(text)
    assert (found.display_name, found.addr_spec) == expected if expected else found is None
