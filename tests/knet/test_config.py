"""The [ldap] table of knet.toml and its KNET_LDAP_* overrides: read once, checked once, explained."""
from __future__ import annotations

import pytest
import tomli_w

from knet import config
from knet.config import ConfigError, Instance

BASE = {"name": "Δήμος Δοκιμών", "url": "http://127.0.0.1:5000", "secret_key": "s" * 32}


def load(tmp_path, ldap: dict | None = None, environ: dict | None = None) -> dict:
    settings = dict(BASE)
    if ldap is not None:
        settings["ldap"] = ldap
    (tmp_path / "knet.toml").write_text(tomli_w.dumps(settings), encoding="utf-8")
    return config.load(Instance(tmp_path), environ or {})


def test_without_a_directory_the_node_has_local_accounts_only(tmp_path):
    ldap = load(tmp_path)["ldap"]
    assert ldap["url"] == [] and ldap["user_filter"] == "(uid={username})" and ldap["timeout"] == 5


def test_a_directory_from_the_file(tmp_path):
    ldap = load(tmp_path, {"url": "ldaps://dc1.example.gr ldaps://dc2.example.gr", "base_dn": "dc=example,dc=gr",
                           "user_filter": "(sAMAccountName={username})",
                           "roles": {"editor": "cn=Editors,dc=example,dc=gr", "admin": ["cn=A,dc=x", "cn=B,dc=x"]}})["ldap"]
    assert ldap["url"] == ["ldaps://dc1.example.gr", "ldaps://dc2.example.gr"]
    assert ldap["roles"] == {"editor": ["cn=Editors,dc=example,dc=gr"], "admin": ["cn=A,dc=x", "cn=B,dc=x"]}


def test_every_key_can_come_from_the_environment(tmp_path):
    ldap = load(tmp_path, {"url": "ldap://old.example.gr", "base_dn": "dc=example,dc=gr"}, {
        "KNET_LDAP_URL": "ldap://a.example.gr ldap://b.example.gr", "KNET_LDAP_START_TLS": "true",
        "KNET_LDAP_TIMEOUT": "9", "KNET_LDAP_BIND_DN": "cn=svc,dc=example,dc=gr", "KNET_LDAP_BIND_PASSWORD": "pw",
        "KNET_LDAP_ROLES": '{"trainer": ["cn=T,dc=example,dc=gr"]}'})["ldap"]
    assert ldap["url"] == ["ldap://a.example.gr", "ldap://b.example.gr"]
    assert ldap["start_tls"] is True and ldap["timeout"] == 9 and ldap["bind_dn"] == "cn=svc,dc=example,dc=gr"
    assert ldap["roles"] == {"trainer": ["cn=T,dc=example,dc=gr"]}


@pytest.mark.parametrize("ldap, environ, says", [
    ({"url": "http://dc.example.gr", "base_dn": "dc=x"}, {}, "ldap:// or ldaps://"),
    ({"url": "ldap://dc.example.gr"}, {}, "base_dn"),
    ({"url": "ldap://dc", "base_dn": "dc=x", "user_filter": "(uid=*)"}, {}, "{username}"),
    ({"url": "ldap://dc", "base_dn": "dc=x", "bind_dn": "cn=svc"}, {}, "bind_password"),
    ({"url": "ldap://dc", "base_dn": "dc=x", "ca_file": "/nowhere/ca.pem"}, {}, "does not exist"),
    ({"url": "ldap://dc", "base_dn": "dc=x", "roles": {"boss": "cn=b"}}, {}, "'roles'"),
    ({"url": "ldap://dc", "base_dn": "dc=x", "timeout": 0}, {}, "at least 1 second"),
    ({"url": "ldap://dc", "base_dn": "dc=x", "colour": "blue"}, {}, "unknown keys: colour"),
    ({"url": "ldap://dc", "base_dn": "dc=x"}, {"KNET_LDAP_TIMEOUT": "soon"}, "whole number"),
    ({"url": "ldap://dc", "base_dn": "dc=x"}, {"KNET_LDAP_ROLES": "editor=cn=e"}, "must be JSON"),
])
def test_a_wrong_setting_is_named_with_what_to_do(tmp_path, ldap, environ, says):
    with pytest.raises(ConfigError, match=None) as caught:
        load(tmp_path, ldap, environ)
    assert says in str(caught.value)
    assert "[ldap]" in str(caught.value) or "KNET_LDAP_" in str(caught.value)



def test_the_largest_lesson_file_is_set_in_learning(tmp_path):
    def learning(table: dict, environ: dict | None = None) -> dict:
        (tmp_path / "knet.toml").write_text(tomli_w.dumps({**BASE, "learning": table}), encoding="utf-8")
        return config.load(Instance(tmp_path), environ or {})["learning"]

    assert learning({})["max_upload_bytes"] == 20 * 1024 * 1024
    assert learning({"max_upload_bytes": 1048576})["max_upload_bytes"] == 1048576
    assert learning({}, {"KNET_LEARNING_MAX_UPLOAD_BYTES": "2048"})["max_upload_bytes"] == 2048
    for wrong in ({"max_upload_bytes": 0}, {"max_upload_bytes": "big"}, {"largest": 5}):
        with pytest.raises(ConfigError, match=r"\[learning\]"):
            learning(wrong)


def test_the_certificates_contact_address_is_one_address(tmp_path):
    def learning(table: dict) -> dict:
        (tmp_path / "knet.toml").write_text(tomli_w.dumps({**BASE, "learning": table}), encoding="utf-8")
        return config.load(Instance(tmp_path), {})["learning"]

    assert learning({})["issuer_email"] == ""
    assert learning({"issuer_email": "ekpaideusi@dokimes.gr"})["issuer_email"] == "ekpaideusi@dokimes.gr"
    for wrong in ("two@a.gr, three@b.gr", "Εκπαίδευση <ekpaideusi@dokimes.gr>", "not an address", 5):
        with pytest.raises(ConfigError, match=r"\[learning\]"):
            learning({"issuer_email": wrong})
