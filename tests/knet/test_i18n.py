"""Translations: the catalogues are complete, match the source, and the compiled ones are used.

When a test here fails after you added or changed a user-facing string, run
`bash scripts/i18n.sh extract`, translate the new entries in knet/translations/el/LC_MESSAGES/messages.po
(and copy the English into the en catalogue), then `bash scripts/i18n.sh compile`.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po


ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "knet" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
SCRIPT = ROOT / "scripts" / "i18n.sh"
LOCALES = ("el", "en")

#: A Python %-placeholder: %(name)s, %(num)d, %s, %5.2f ... but not a literal %%.
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<type>[diouxXeEfFgGcrsa%])")


def _po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _mo_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _forms(value: str | tuple | list | None) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,)


def _key(message: Message) -> tuple:
    """What identifies a message: its context, singular and (if any) plural text."""
    return (message.context, *_forms(message.id))


def _describe(key: tuple) -> str:
    context, *ids = key
    text = " | ".join(repr(part) for part in ids)
    return f"{text} (context {context!r})" if context else text


def _where(message: Message) -> str:
    return ", ".join(f"{path}:{line}" for path, line in message.locations[:3]) or "no location"


def _placeholders(text: str) -> set[tuple[str | None, str]]:
    return {(match["name"], match["type"]) for match in _PLACEHOLDER.finditer(text) if match["type"] != "%"}


def _messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _extract_keywords() -> list[str]:
    """The -k options of scripts/i18n.sh, so the test extracts exactly as developers do."""
    match = re.search(r"^KEYWORDS=\((.*)\)\s*$", SCRIPT.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{SCRIPT} no longer defines KEYWORDS=(...)"
    return shlex.split(match.group(1))


@pytest.fixture(scope="module", params=LOCALES)
def catalogue(request) -> Catalog:
    path = _po_path(request.param)
    assert path.is_file(), f"{path} is missing; run: bash scripts/i18n.sh extract"
    return _read(path, request.param)


def test_every_message_is_translated(catalogue):
    assert not catalogue.fuzzy, f"the header of the {catalogue.locale} catalogue is marked fuzzy"
    expected_forms = catalogue.num_plurals
    problems = []
    for message in _messages(catalogue):
        strings = _forms(message.string)
        if message.pluralizable and len(strings) != expected_forms:
            problems.append(f"{_describe(_key(message))} has {len(strings)} plural forms, "
                            f"not {expected_forms} [{_where(message)}]")
        elif not all(strings):
            problems.append(f"{_describe(_key(message))} is not translated [{_where(message)}]")
    assert not problems, f"{catalogue.locale}: " + "\n".join(problems)


def test_no_fuzzy_message(catalogue):
    fuzzy = [f"{_describe(_key(message))} [{_where(message)}]"
             for message in _messages(catalogue) if message.fuzzy]
    assert not fuzzy, (f"{catalogue.locale}: review these translations and remove their 'fuzzy' flag:\n"
                       + "\n".join(fuzzy))


def test_placeholders_are_kept(catalogue):
    problems = []
    for message in _messages(catalogue):
        expected = set().union(*(_placeholders(text) for text in _forms(message.id)))
        for form, text in enumerate(_forms(message.string)):
            if text and _placeholders(text) != expected:
                problems.append(f"{_describe(_key(message))}, form {form}: "
                                f"{sorted(expected, key=str)} in the source, "
                                f"{sorted(_placeholders(text), key=str)} in {text!r} [{_where(message)}]")
    assert not problems, f"{catalogue.locale}: " + "\n".join(problems)


def test_babel_finds_no_errors(catalogue):
    errors = [f"{_describe(_key(message))}: {error}"
              for message, message_errors in catalogue.check() for error in message_errors]
    assert not errors, f"{catalogue.locale}: " + "\n".join(errors)


def test_template_is_up_to_date_with_the_source(tmp_path):
    fresh = tmp_path / "messages.pot"
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", *_extract_keywords(),
         "-o", str(fresh), "."],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, f"pybabel extract failed:\n{result.stdout}\n{result.stderr}"
    in_source = {_key(message): message for message in _messages(_read(fresh))}
    committed = {_key(message): message for message in _messages(_read(TEMPLATE))}
    new = [f"{_describe(key)} [{_where(in_source[key])}]" for key in in_source if key not in committed]
    gone = [_describe(key) for key in committed if key not in in_source]
    report = []
    if new:
        report.append("Strings in the source but not in knet/translations/messages.pot:\n  " + "\n  ".join(new))
    if gone:
        report.append("Strings in knet/translations/messages.pot no longer in the source:\n  " + "\n  ".join(gone))
    assert not report, "\n".join(report) + "\nRun: bash scripts/i18n.sh extract, then translate the new entries."


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_matches_template(locale):
    template = {_key(message) for message in _messages(_read(TEMPLATE))}
    catalogue = {_key(message) for message in _messages(_read(_po_path(locale), locale))}
    missing = [_describe(key) for key in template - catalogue]
    extra = [_describe(key) for key in catalogue - template]
    assert not missing and not extra, (
        f"{locale} catalogue is out of step with messages.pot (run: bash scripts/i18n.sh extract)\n"
        f"missing: {missing}\nnot in the template: {extra}")


def test_greek_by_default_and_english_on_request(compiled_catalogues, client):
    greek = client.get("/").get_data(as_text=True)
    assert '<html lang="el">' in greek
    assert "Μετάβαση στο κύριο περιεχόμενο" in greek
    assert "Πρόσφατες αλλαγές" in greek  # a lazy string from Python (the navigation)
    assert "Skip to main content" not in greek

    response = client.get("/language/en?next=/")
    assert response.status_code == 302 and response.headers["Location"] == "/"

    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Skip to main content" in english
    assert "Recent changes" in english
    assert "Μετάβαση στο κύριο περιεχόμενο" not in english
