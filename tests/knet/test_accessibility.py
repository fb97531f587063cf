"""The accessibility statement (knet.accessibility) and its [accessibility] settings."""
from __future__ import annotations

import tomllib

import pytest
import tomli_w

from knet import config
from knet.app import create_app
from knet.config import ConfigError, Instance
from knet.db import db

BASE = {"name": "Δήμος Δοκιμών", "url": "http://127.0.0.1:5000", "secret_key": "s" * 32}


def load(tmp_path, table: dict | None = None, environ: dict | None = None) -> dict:
    settings = dict(BASE, **({"accessibility": table} if table is not None else {}))
    (tmp_path / "knet.toml").write_text(tomli_w.dumps(settings), encoding="utf-8")
    return config.load(Instance(tmp_path), environ or {})["accessibility"]


def test_without_the_table_the_statement_has_its_defaults(tmp_path):
    settings = load(tmp_path)
    assert settings["conformance"] == "partial" and settings["email"] == "" and settings["reviewed"] == ""


def test_the_table_comes_from_the_file_and_the_environment(tmp_path):
    settings = load(tmp_path, {"email": "prosvasimotita@example.gr", "prepared": "2026-01-15"},
                    {"KNET_ACCESSIBILITY_REVIEWED": "2026-03-31", "KNET_ACCESSIBILITY_PHONE": "210 1234567"})
    assert settings["email"] == "prosvasimotita@example.gr" and settings["reviewed"] == "2026-03-31"
    assert settings["phone"] == "210 1234567" and settings["prepared"] == "2026-01-15"


@pytest.mark.parametrize(("table", "named"), [
    ({"email": "Δήμος <a@example.gr>"}, "'email'"), ({"email": "not an address"}, "'email'"),
    ({"reviewed": "31/03/2026"}, "'reviewed'"), ({"prepared": "2026-02-30"}, "'prepared'"),
    ({"prepared": "2026-03-31", "reviewed": "2026-01-01"}, "'reviewed'"), ({"conformance": "mostly"}, "'conformance'"),
    ({"enforcement_url": "synigoros.gr"}, "'enforcement_url'"), ({"fax": "1"}, "fax"), ({"phone": 210}, "'phone'")])
def test_a_wrong_setting_is_named(tmp_path, table, named):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, table)
    assert named in str(raised.value) and "[accessibility]" in str(raised.value)


def with_settings(instance, table: dict):
    path = instance / "knet.toml"
    settings = tomllib.loads(path.read_text(encoding="utf-8"))
    settings["accessibility"] = table
    path.write_text(tomli_w.dumps(settings), encoding="utf-8")
    app = create_app(instance, overrides={"TESTING": True})
    return app


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_statement_names_its_contact_dates_and_the_enforcement_body(instance, language):
    app = with_settings(instance, {"email": "prosvasimotita@example.gr", "phone": "210 123 4567",
                                   "prepared": "2026-01-15", "reviewed": "2026-03-31", "conformance": "full"})
    with app.app_context():
        client = app.test_client()
        client.set_cookie("knet_lang", language)
        response = client.get("/accessibility")
        html = response.get_data(as_text=True)
        db.engine.dispose()
    assert response.status_code == 200 and f'<html lang="{language}">' in html
    assert 'href="mailto:prosvasimotita@example.gr"' in html and 'href="tel:2101234567"' in html
    assert "2026" in html and ("31" in html and "15" in html)
    assert 'href="https://www.synigoros.gr/"' in html
    assert "WCAG" in html and html.count("<h2") >= 5


def test_without_its_own_address_the_statement_names_the_nodes_sender(instance):
    path = instance / "knet.toml"
    settings = tomllib.loads(path.read_text(encoding="utf-8"))
    settings["mail"] = {"host": "smtp.example.gr", "sender": "Δήμος Δοκιμών <knet@example.gr>"}
    path.write_text(tomli_w.dumps(settings), encoding="utf-8")
    app = create_app(instance, overrides={"TESTING": True})
    with app.app_context():
        html = app.test_client().get("/accessibility").get_data(as_text=True)
        db.engine.dispose()
    assert 'href="mailto:knet@example.gr"' in html


def test_a_node_that_set_nothing_says_so_rather_than_inventing_dates(app, client):
    html = client.get("/accessibility").get_data(as_text=True)
    assert "mailto:" not in html and 'href="https://www.synigoros.gr/"' in html
