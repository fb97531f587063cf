"""federation/keys.py: one key ring per node, private on disk, rotated with an overlap peers can rely on."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from federation import keys
from federation.keys import KeyRingError
from federation.signatures import SignatureRefused, Verified, sign_request, verify_request

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NODE = "https://athens.example.gr"
URL = f"{NODE}/federation/inbox"


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_first_key_is_created_once(tmp_path):
    ring = keys.ensure_key(tmp_path, now=NOW)
    assert len(ring.keys) == 1
    assert ring.current.created == NOW and ring.current.retired_at is None
    again = keys.ensure_key(tmp_path, now=NOW + timedelta(days=1))
    assert [key.id for key in again.keys] == [ring.current.id]
    assert keys.load(tmp_path).current.public_key == ring.current.public_key
    assert sorted(path.name for path in (tmp_path / "federation-keys").iterdir()) == sorted(
        [".lock", "index.json", f"{ring.current.id}.pem"])


def test_key_files_are_readable_by_the_node_only(tmp_path):
    ring = keys.ensure_key(tmp_path)
    where = tmp_path / "federation-keys"
    assert mode(where) == 0o700
    assert mode(where / f"{ring.current.id}.pem") == 0o600
    assert mode(where / "index.json") == 0o600
    rotated = keys.rotate(tmp_path, timedelta(days=7))
    assert mode(where / f"{rotated.current.id}.pem") == 0o600
    assert mode(where / "index.json") == 0o600
    assert not list(where.glob(".*.tmp")), "no temporary file is left behind"


def test_the_index_says_which_key_is_current(tmp_path):
    first = keys.ensure_key(tmp_path, now=NOW).current
    second = keys.rotate(tmp_path, timedelta(days=7), now=NOW + timedelta(days=30)).current
    index = json.loads((tmp_path / "federation-keys" / "index.json").read_text(encoding="utf-8"))
    assert index["keys"] == [
        {"id": first.id, "created": NOW.isoformat(), "retired_at": (NOW + timedelta(days=37)).isoformat()},
        {"id": second.id, "created": (NOW + timedelta(days=30)).isoformat(), "retired_at": None}]


def test_nodes_starting_at_once_share_one_key(tmp_path):
    script = "import sys; from pathlib import Path; from federation import keys; " \
             "print(keys.ensure_key(Path(sys.argv[1])).current.id)"
    starts = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = [start.communicate(timeout=60) for start in starts]
    assert all(start.returncode == 0 for start in starts), [errors for _, errors in results]
    (only,) = {output.strip() for output, _ in results}
    assert [key.id for key in keys.load(tmp_path).keys] == [only]
    assert len(list((tmp_path / "federation-keys").glob("*.pem"))) == 1


def test_a_rotated_key_stays_valid_during_the_overlap_only(tmp_path):
    old = keys.ensure_key(tmp_path, now=NOW).current
    ring = keys.rotate(tmp_path, timedelta(hours=24), now=NOW + timedelta(days=10))
    assert ring.current.id != old.id
    assert [key.id for key in ring.valid(NOW + timedelta(days=10, hours=23))] == [old.id, ring.current.id]
    assert [key.id for key in ring.valid(NOW + timedelta(days=11))] == [ring.current.id]
    assert keys.load(tmp_path).valid(NOW + timedelta(days=10, hours=1)) == ring.valid(NOW + timedelta(days=10, hours=1))


def test_a_request_signed_with_the_old_key_verifies_during_the_overlap_and_not_after(tmp_path):
    old = keys.ensure_key(tmp_path, now=NOW).current
    rotated_at = NOW + timedelta(days=10)
    ring = keys.rotate(tmp_path, timedelta(hours=1), now=rotated_at)

    def check(signer, now):
        """What a peer sees: our valid keys, published under their URLs in the node document."""
        published = {keys.key_url(NODE, key.id): key.public_key for key in ring.valid(now)}
        key_id = keys.key_url(NODE, signer.id)
        headers = sign_request("POST", URL, {}, b"{}", key_id, signer.private_key, now=now)
        return verify_request("POST", URL, headers, b"{}", published.get, now=now)

    during = rotated_at + timedelta(minutes=59)
    assert check(old, during) == Verified(keys.key_url(NODE, old.id), during)
    assert check(ring.current, during).key_id == keys.key_url(NODE, ring.current.id)
    with pytest.raises(SignatureRefused) as refused:
        check(old, rotated_at + timedelta(hours=1))
    assert refused.value.reason == "unknown-key"


def test_rotation_forgets_keys_whose_overlap_ended(tmp_path):
    first = keys.ensure_key(tmp_path, now=NOW).current
    second = keys.rotate(tmp_path, timedelta(days=1), now=NOW + timedelta(days=10)).current
    third = keys.rotate(tmp_path, timedelta(days=1), now=NOW + timedelta(days=20)).current
    ring = keys.load(tmp_path)
    assert [key.id for key in ring.keys] == [second.id, third.id]
    assert not (tmp_path / "federation-keys" / f"{first.id}.pem").exists()
    assert ring.current.id == third.id


def test_a_rotation_within_an_overlap_keeps_both_older_keys(tmp_path):
    first = keys.ensure_key(tmp_path, now=NOW).current
    second = keys.rotate(tmp_path, timedelta(days=7), now=NOW).current
    third = keys.rotate(tmp_path, timedelta(days=1), now=NOW + timedelta(hours=1)).current
    ring = keys.load(tmp_path)
    assert [(key.id, key.retired_at) for key in ring.keys] == [
        (first.id, NOW + timedelta(days=7)), (second.id, NOW + timedelta(days=1, hours=1)), (third.id, None)]
    assert [key.id for key in ring.valid(NOW + timedelta(days=2))] == [first.id, third.id]


def test_a_negative_overlap_is_refused(tmp_path):
    keys.ensure_key(tmp_path)
    with pytest.raises(ValueError, match="overlap"):
        keys.rotate(tmp_path, timedelta(seconds=-1))


def test_ids_fingerprints_and_published_keys(tmp_path):
    key = keys.ensure_key(tmp_path).current
    raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key.id == keys.key_id(key.public_key) == hashlib.sha256(raw).hexdigest()[:16]
    pem = keys.public_pem(key.public_key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n") and "PRIVATE" not in pem
    assert keys.public_key_from_pem(pem) == key.public_key
    assert keys.fingerprint(keys.public_key_from_pem(pem)) == keys.fingerprint(key.public_key)
    assert keys.key_url(NODE, key.id) == f"{NODE}/federation/actor#key-{key.id}"


def test_the_fingerprint_is_the_one_ssh_keygen_shows(tmp_path):
    key = keys.ensure_key(tmp_path).current.public_key
    public = tmp_path / "node.pub"
    public.write_bytes(key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH))
    shown = subprocess.run(["ssh-keygen", "-l", "-f", str(public)], capture_output=True, text=True, check=True).stdout
    assert shown.split()[1] == keys.fingerprint(key)
    assert keys.fingerprint(key).startswith("SHA256:") and len(keys.fingerprint(key)) == 50


def test_a_published_key_that_is_not_ed25519_is_refused(corpus):
    with pytest.raises(ValueError, match="not an Ed25519 key"):
        keys.public_key_from_pem((corpus / "httpsig" / "rfc9421" / "test-key-rsa-pss.pub.pem").read_text())
    with pytest.raises(ValueError, match="not a PEM"):
        keys.public_key_from_pem("-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----\n")


def test_a_missing_key_ring_says_how_to_create_one(tmp_path):
    with pytest.raises(KeyRingError, match="knet init") as missing:
        keys.load(tmp_path)
    assert str(tmp_path / "federation-keys") in str(missing.value)
    with pytest.raises(KeyRingError, match="knet init"):
        keys.rotate(tmp_path, timedelta(days=1))


def test_private_keys_without_an_index_are_not_replaced(tmp_path):
    ring = keys.ensure_key(tmp_path)
    (tmp_path / "federation-keys" / "index.json").unlink()
    with pytest.raises(KeyRingError, match="restore index.json from a backup"):
        keys.ensure_key(tmp_path)
    with pytest.raises(KeyRingError, match="knet init"):
        keys.load(tmp_path)
    assert (tmp_path / "federation-keys" / f"{ring.current.id}.pem").exists()


@pytest.mark.parametrize(("damage", "detail"), [
    (lambda index, key_id: index.write_text('{"version": 1, "keys": [', encoding="utf-8"), "not JSON"),
    (lambda index, key_id: index.write_text("", encoding="utf-8"), "not JSON"),
    (lambda index, key_id: index.write_bytes(b"\xff\xfe garbage"), "not UTF-8"),
    (lambda index, key_id: index.write_text("[]", encoding="utf-8"), "expected shape"),
    (lambda index, key_id: index.write_text('{"keys": [{"id": "%s"}]}' % key_id, encoding="utf-8"), "'retired_at'"),
    (lambda index, key_id: index.write_text('{"keys": [{"id": "../../etc/passwd", "created": "x", '
                                            '"retired_at": null}]}', encoding="utf-8"), "not a key id"),
    (lambda index, key_id: index.write_text('{"keys": [{"id": "%s", "created": "yesterday", "retired_at": null}]}'
                                            % key_id, encoding="utf-8"), "damaged"),
    (lambda index, key_id: index.write_text('{"keys": [{"id": "%s", "created": "2026-03-01T12:00:00", '
                                            '"retired_at": null}]}' % key_id, encoding="utf-8"), "no time zone"),
    (lambda index, key_id: index.write_text('{"keys": []}', encoding="utf-8"), "exactly one current key"),
    (lambda index, key_id: (index.parent / f"{key_id}.pem").unlink(), ".pem is missing"),
    (lambda index, key_id: (index.parent / f"{key_id}.pem").write_text("not a key"), "damaged"),
], ids=["truncated", "empty", "not utf-8", "a list", "no retired_at", "path in id", "bad time", "naive time",
        "no current key", "pem missing", "pem damaged"])
def test_a_damaged_key_ring_gives_a_sentence_saying_what_to_do(tmp_path, damage, detail):
    key_id = keys.ensure_key(tmp_path).current.id
    damage(tmp_path / "federation-keys" / "index.json", key_id)
    with pytest.raises(KeyRingError) as damaged:
        keys.load(tmp_path)
    message = str(damaged.value)
    assert detail in message
    assert "restore" in message and "from a backup" in message
    assert damaged.value.__cause__ is None, "no JSON traceback attached"
    assert damaged.value.__context__ is None or damaged.value.__suppress_context__


def test_a_key_file_holding_another_key_is_refused(tmp_path):
    first = keys.ensure_key(tmp_path).current
    second = keys.rotate(tmp_path, timedelta(days=1)).current
    where = tmp_path / "federation-keys"
    (where / f"{first.id}.pem").write_bytes((where / f"{second.id}.pem").read_bytes())
    with pytest.raises(KeyRingError, match=f"does not hold the Ed25519 key {first.id}"):
        keys.load(tmp_path)
