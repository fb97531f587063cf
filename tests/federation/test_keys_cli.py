"""`knet keys show` and `knet keys rotate`, run as an administrator runs them (the real `knet` command)."""
from __future__ import annotations

import re

from federation import keys
from tests.test_cli import knet


def test_an_administrator_shows_and_rotates_the_keys(instance):
    first = knet("keys", "show", "--instance", str(instance))
    assert first.returncode == 0, first.stderr
    [line, fediverse] = first.stdout.splitlines()
    old = keys.load(instance).current
    assert line.startswith(old.id) and keys.fingerprint(old.public_key) in line and line.endswith("current")
    rsa_key = keys.fediverse_key(instance).public_key()
    assert fediverse.startswith("fediverse") and keys.fingerprint(rsa_key) in fediverse and "RSA 2048" in fediverse

    rotated = knet("keys", "rotate", "--overlap-days", "3", "--instance", str(instance))
    assert rotated.returncode == 0, rotated.stderr
    new = keys.load(instance).current
    assert new.id != old.id and f"signs with key {new.id}" in rotated.stdout
    assert re.search(rf"Key {old.id} stays valid until \d{{4}}-\d\d-\d\d", rotated.stdout)
    lines = knet("keys", "show", "--instance", str(instance)).stdout.splitlines()
    assert [line.split()[0] for line in lines] == [old.id, new.id, "fediverse"]
    assert keys.fingerprint(rsa_key) in lines[2], "rotating the peers' keys leaves the fediverse key as it is"
    assert "retiring, accepted until" in lines[0] and lines[1].endswith("current")


def test_bad_rotations_and_a_damaged_ring_are_one_sentence(instance):
    refused = knet("keys", "rotate", "--overlap-days", "-1", "--instance", str(instance))
    assert refused.returncode == 2 and "overlap-days" in refused.stderr and "Traceback" not in refused.stderr
    assert knet("keys", "show", "--instance", str(instance)).returncode == 0  # the node's first start makes its key
    (keys.keys_directory(instance) / "index.json").unlink()
    damaged = knet("keys", "show", "--instance", str(instance))
    assert damaged.returncode == 1 and "index.json" in damaged.stderr and "Traceback" not in damaged.stderr
