"""The audit log leaves the node as a file (CSV a spreadsheet opens safely, or JSON), from the admin page or
`knet audit export`; accounts, tokens and peering agreements changed by administrators are in it."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from auth import audit, services
from auth.models import AuditEvent
from federation import peers
from federation.models import Peer
from knet.db import db
from tests.forms import csrf_token
from tests.test_cli import knet_all


def _entry(action: str, username: str, at: datetime | None = None, detail: str = "", address: str = "") -> None:
    audit.record(action, username, address=address, detail=detail)
    if at is not None:
        db.session.flush()
        db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first().at = at


def _csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_an_administrator_downloads_the_log_as_csv_a_spreadsheet_cannot_run(app, make_user, sign_in):
    client = sign_in(make_user("root", role="admin"))
    _entry("sign_in_failed", "=HYPERLINK(\"http://evil.example\",\"x\")", detail="+cmd|' /C calc'!A0",
           address="203.0.113.9")
    _entry("sign_in_failed", "-2+3", detail="@SUM(A1)")
    _entry("sign_in", "μαρία", detail="a plain detail, with a comma")
    db.session.commit()

    response = client.get("/admin/audit.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    assert response.get_data().startswith(b"\xef\xbb\xbf")  # spreadsheets then read Greek names right
    rows = _csv_rows(response)
    assert list(rows[0]) == ["id", "at", "action", "username", "address", "detail"]
    evil, numbers, plain = (row for row in rows if row["username"] not in ("root", "'root"))
    assert evil["username"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert evil["detail"] == "'+cmd|' /C calc'!A0" and evil["address"] == "203.0.113.9"
    assert numbers["username"] == "'-2+3" and numbers["detail"] == "'@SUM(A1)"
    assert plain["username"] == "μαρία" and plain["detail"] == "a plain detail, with a comma"
    assert [int(row["id"]) for row in rows] == sorted(int(row["id"]) for row in rows)  # oldest first
    assert datetime.fromisoformat(plain["at"]).tzinfo is not None


def test_json_between_two_days(app, make_user, sign_in):
    client = sign_in(make_user("root", role="admin"))
    for day in (1, 2, 3, 4):
        _entry("sign_in", f"day{day}", at=datetime(2026, 3, day, 23, 59, tzinfo=timezone.utc))
    db.session.commit()

    response = client.get("/admin/audit.json?since=2026-03-02&until=2026-03-03")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="audit-log-from-2026-03-02-to-2026-03-03.json"'
    entries = json.loads(response.get_data(as_text=True))
    assert [entry["username"] for entry in entries] == ["day2", "day3"]
    assert set(entries[0]) == {"id", "at", "action", "username", "address", "detail"}
    assert entries[0]["at"] == "2026-03-02T23:59:00+00:00"
    assert json.loads(client.get("/admin/audit.json?since=2030-01-01").get_data(as_text=True)) == []


def test_the_download_is_itself_recorded(app, make_user, sign_in):
    client = sign_in(make_user("root", role="admin"))
    client.get("/admin/audit.json?until=2026-12-31").close()
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit_exported")).one()
    assert (exported.username, exported.address) == ("root", "127.0.0.1")
    assert exported.detail == "audit-log-to-2026-12-31.json"


def test_wrong_days_are_refused_with_a_reason(app, make_user, sign_in):
    client = sign_in(make_user("root", role="admin"))
    client.set_cookie("knet_lang", "en")  # pages speak the language chosen in the cookie (Greek without one)
    for query, reason in (("since=yesterday", "“since” must be a day written YYYY-MM-DD"),
                          ("until=2026-02-30", "“until” must be a day written YYYY-MM-DD"),
                          ("since=20260301", "“since” must be a day written YYYY-MM-DD"),
                          ("since=2026-03-05&until=2026-03-01", "“until” (2026-03-01) is earlier than “since”")):
        response = client.get(f"/admin/audit.csv?{query}")
        assert response.status_code == 400, query
        assert reason in response.get_data(as_text=True), query
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit_exported")) is None


def test_only_administrators_download_it(app, make_user, sign_in, client):
    assert client.get("/admin/audit.csv").status_code in (302, 401)
    moderator = sign_in(make_user("maria", role="moderator"))
    assert moderator.get("/admin/audit.csv").status_code == 403
    assert moderator.get("/admin/audit.json").status_code == 403


def test_the_audit_page_offers_both_files(app, make_user, sign_in):
    client = sign_in(make_user("root", role="admin"))
    page = client.get("/admin/audit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'action="/admin/audit.csv"' in page and 'formaction="/admin/audit.json"' in page
    assert 'name="since"' in page and 'name="until"' in page


def _node_document(url: str) -> peers.NodeDocument:
    pem = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return peers.NodeDocument(url, "Δήμος Πατρέων", f"{url}/actor", f"{url}/federation/inbox",
                              [{"id": f"{url}/actor#key", "pem": pem.decode(), "expires": None}])


def test_peering_changes_are_recorded_with_who_and_from_where(app, make_user, sign_in):
    root = make_user("root", role="admin")
    found = _node_document("http://127.0.0.1:9")
    peers.add(root, found, "192.0.2.4")
    db.session.commit()
    client = sign_in(root)
    index = client.get("/admin/federation").get_data(as_text=True)
    for action in ("suspend", "resume", "remove"):
        assert client.post(f"/admin/federation/{action}", data={"url": "http://127.0.0.1:9",
                                                                "csrf_token": csrf_token(index)}).status_code == 302
    assert db.session.scalar(select(Peer)) is None
    entries = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("peer_"))
                                      .order_by(AuditEvent.id)))
    assert [entry.action for entry in entries] == ["peer_added", "peer_suspended", "peer_resumed", "peer_removed"]
    assert {entry.username for entry in entries} == {"root"}
    assert [entry.address for entry in entries] == ["192.0.2.4", "127.0.0.1", "127.0.0.1", "127.0.0.1"]
    assert entries[0].detail == f"http://127.0.0.1:9 (Δήμος Πατρέων) with the keys {found.fingerprints[0]}"
    assert entries[3].detail == "http://127.0.0.1:9 (Δήμος Πατρέων), with its 0 replica(s)"


def test_the_command_line_exports_the_log(app, instance):
    nikos = services.create_local_user("nikos", "a long enough password", role="editor")
    raw = services.issue_token(nikos, "read")
    services.revoke_tokens(nikos)
    db.session.commit()
    out, taken = instance.parent / "audit.json", instance.parent / "taken.csv"
    taken.write_text("keep me", encoding="utf-8")
    where = ["--instance", str(instance)]
    exported, again, wrong, as_csv = knet_all([
        ["audit", "export", *where, "--format", "json", "--since", "2020-01-01", str(out)],
        ["audit", "export", *where, str(taken)],
        ["audit", "export", *where, "--until", "31/12/2026"],
        ["audit", "export", *where]])

    assert exported.returncode == 0, exported.stderr
    assert exported.stderr.strip() == f"Wrote 3 entries of the audit log to {out}."
    entries = json.loads(out.read_text(encoding="utf-8"))
    assert [(entry["action"], entry["username"]) for entry in entries] == [
        ("account_created", "nikos"), ("token_issued", "nikos"), ("tokens_revoked", "nikos")]
    assert entries[0]["detail"] == "local account, role editor"
    assert entries[1]["detail"] == f"read token {raw[:12]}…" and entries[2]["detail"] == f"{raw[:12]}…"

    assert again.returncode == 1
    assert again.stderr.strip() == f"Error: {taken} already exists; give the name of a new file."
    assert taken.read_text(encoding="utf-8") == "keep me"
    assert wrong.returncode == 1
    assert "must be a day written YYYY-MM-DD, such as 2026-03-31, not “31/12/2026”." in wrong.stderr
    assert as_csv.returncode == 0 and as_csv.stdout.lstrip("\ufeff").startswith("id,at,action,username")
    assert len(as_csv.stdout.strip().splitlines()) == 4
