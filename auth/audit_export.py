"""The audit log as a file for the IT officer or an auditor: CSV (for a spreadsheet) or JSON (for a program),
oldest entry first, optionally between two days. Written piece by piece, so a long log is never held
in memory whole."""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auth.models import AuditEvent
from knet.db import as_utc, db
from knet.errors import Invalid

FORMATS = ("csv", "json")
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json"}
COLUMNS = ("id", "at", "action", "username", "address", "detail")
#: Entries read from the database at a time.
BATCH = 500
#: A spreadsheet takes a cell that starts with one of these as a formula (CSV injection): such a cell
#: is written with a leading apostrophe, which shows it as the text it is.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def day(text: str | None, name: str) -> date | None:
    """A day written YYYY-MM-DD (None when not given); a clear Invalid otherwise."""
    if not text:
        return None
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise Invalid(_l("“%(name)s” must be a day written YYYY-MM-DD, such as 2026-03-31, not “%(value)s”.",
                     name=name, value=text[:40]), field=name)


def check_range(since: date | None, until: date | None) -> None:
    if since and until and until < since:
        raise Invalid(_l("“until” (%(until)s) is earlier than “since” (%(since)s).", until=until.isoformat(),
                         since=since.isoformat()), field="until")


def events(since: date | None = None, until: date | None = None) -> Iterator[AuditEvent]:
    """The entries from the start of `since` to the end of `until` (both UTC days, both optional), oldest
    first, read a batch at a time. Refuses a range that ends before it starts."""
    check_range(since, until)
    query = select(AuditEvent).order_by(AuditEvent.id).limit(BATCH)
    if since:
        query = query.where(AuditEvent.at >= datetime.combine(since, time(), timezone.utc))
    if until:
        query = query.where(AuditEvent.at < datetime.combine(until + timedelta(days=1), time(), timezone.utc))
    return _in_batches(query)


def _in_batches(query) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = list(db.session.scalars(query.where(AuditEvent.id > last)))
        yield from batch
        if len(batch) < BATCH:
            return
        # The session holds entries weakly: those written out are let go with the batch.
        last = batch[-1].id


def _fields(event: AuditEvent) -> dict[str, object]:
    return {"id": event.id, "at": as_utc(event.at).isoformat(), "action": event.action, "username": event.username,
            "address": event.address, "detail": event.detail}


def safe_cell(value: object) -> object:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def as_csv(entries: Iterator[AuditEvent]) -> Iterator[str]:
    """A header line, then one line per entry."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def taken() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff"  # the byte order mark by which spreadsheets know the file is UTF-8 (Greek names)
    writer.writerow(COLUMNS)
    yield taken()
    for event in entries:
        writer.writerow([safe_cell(value) for value in _fields(event).values()])
        yield taken()


def as_json(entries: Iterator[AuditEvent]) -> Iterator[str]:
    """One JSON array of objects, an entry per line."""
    yield "["
    separator = "\n"
    for event in entries:
        yield separator + json.dumps(_fields(event), ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


def export(fmt: str, entries: Iterator[AuditEvent]) -> Iterator[str]:
    """The entries in the chosen format, piece by piece."""
    return as_csv(entries) if fmt == "csv" else as_json(entries)


def file_name(fmt: str, since: date | None, until: date | None) -> str:
    span = "".join(f"-{part}" for part in ((since and f"from-{since}"), (until and f"to-{until}")) if part)
    return f"audit-log{span}.{fmt}"
