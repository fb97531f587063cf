"""What each feature keeps about a person, for the right of access (export) and the right to erasure.

knet does not know what features store, and features must not know each other, so each feature
registers its part here: `export(person)` gives what it holds about the person as plain JSON data
(and, optionally, `files(person)` gives files such as a photo), and `erase(person)` removes or
anonymises it in the caller's transaction, recording content events for whatever peers must hear
again. The person is the account object of `auth`; knet passes it through without looking inside.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app

EXTENSION = "knet.personal_data"


@dataclass(frozen=True)
class Part:
    """One feature's share of what the node keeps about a person."""

    name: str
    #: What the feature holds about the person, as JSON-able data (dicts, lists, strings, numbers).
    export: Callable[[Any], Any]
    #: Remove or anonymise it (flushing, never committing); None when the feature keeps nothing to erase.
    erase: Callable[[Any], None] | None = None
    #: Files about the person, by name inside the export ("photo.jpg": bytes).
    files: Callable[[Any], dict[str, bytes]] | None = None


def register(app: Flask, name: str, *, export: Callable[[Any], Any], erase: Callable[[Any], None] | None = None,
             files: Callable[[Any], dict[str, bytes]] | None = None) -> None:
    """Add a feature's part; parts are exported and erased in the order they were registered."""
    app.extensions.setdefault(EXTENSION, {})[name] = Part(name, export, erase, files)


def parts() -> list[Part]:
    return list(current_app.extensions.get(EXTENSION, {}).values())


def collect(person: Any) -> dict[str, Any]:
    """Every feature's data about the person, by feature name."""
    return {part.name: part.export(person) for part in parts()}


def export_zip(person: Any, *, subject: str) -> bytes:
    """A ZIP file with everything the node keeps about the person: ``data.json`` (every feature's part)
    and the files features keep (a photo), each under its feature's folder."""
    document = {"subject": subject, "node": current_app.config["KNET"]["url"],
                "exported_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                "data": collect(person)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(document, ensure_ascii=False, indent=2, default=str))
        for part in parts():
            for filename, data in (part.files(person) if part.files else {}).items():
                archive.writestr(f"{part.name}/{filename}", data)
    return buffer.getvalue()


def erase_everywhere(person: Any) -> None:
    """Have every feature remove or anonymise its part, in the caller's transaction."""
    for part in parts():
        if part.erase is not None:
            part.erase(person)
