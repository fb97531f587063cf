"""The node's Ed25519 federation keys: a key ring in the instance directory, rotated with an overlap.

The ring lives in ``<instance>/federation-keys/``: one PEM file per private key (``<id>.pem``, mode 0600)
and ``index.json``, which lists each key's id, when it was created and when it retired (``None`` for the
current key; a retired key is still accepted until its ``retired_at``, so peers that cached the old key
keep verifying our requests while they fetch the new one). Every write goes to a temporary file that
replaces the real one, and every change holds a lock, so two processes starting at once share one key.
"""
from __future__ import annotations

import base64
import fcntl
import functools
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from knet.files import write_atomically

logger = logging.getLogger(__name__)

KEYS_DIRECTORY = "federation-keys"
INDEX_FILE = "index.json"
LOCK_FILE = ".lock"
INDEX_VERSION = 1
#: The node's RSA key for the fediverse (draft-cavage signatures), beside the ring's Ed25519 keys.
FEDIVERSE_KEY_FILE = "fediverse-rsa.pem"
#: As Mastodon's own keys.
FEDIVERSE_KEY_BITS = 2048


class KeyRingError(Exception):
    """The key ring on disk is missing or damaged; the message says what to do."""


@dataclass(frozen=True)
class Key:
    """One private key of the node, with its place in the ring's history."""

    id: str
    #: Left out of comparisons (key objects do not compare): the id already names the key.
    private_key: Ed25519PrivateKey = field(compare=False, repr=False)
    created: datetime
    #: From when the key is no longer accepted; None while it is the current key.
    retired_at: datetime | None = None

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def is_valid(self, now: datetime) -> bool:
        return self.retired_at is None or now < self.retired_at


@dataclass(frozen=True)
class KeyRing:
    """The node's keys, oldest first; exactly one is current."""

    directory: Path
    keys: tuple[Key, ...]

    @property
    def current(self) -> Key:
        """The key the node signs with."""
        return next(key for key in self.keys if key.retired_at is None)

    def valid(self, now: datetime | None = None) -> list[Key]:
        """The current key and the retired keys whose overlap has not ended, as peers may still see them."""
        now = now or _now()
        return [key for key in self.keys if key.is_valid(now)]


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short id for a key: the first 16 hex digits of the SHA-256 of its raw 32 bytes."""
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def fingerprint(public_key: Ed25519PublicKey | rsa.RSAPublicKey) -> str:
    """The key as an administrator compares it, e.g. ``SHA256:Xy…`` (the same as ``ssh-keygen -l`` shows)."""
    blob = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1]
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def public_pem(public_key: Ed25519PublicKey | rsa.RSAPublicKey) -> str:
    """The public key as SubjectPublicKeyInfo PEM, as the node document publishes it."""
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def public_key_from_pem(pem: str) -> Ed25519PublicKey:
    """Read a peer's published public key; ValueError with a sentence if it is not an Ed25519 key."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ValueError("The public key is not a PEM-encoded key.") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("The public key is not an Ed25519 key; knet nodes sign with Ed25519.")
    return key


def key_url(node_url: str, key_id: str) -> str:
    """The URL of a key in the node document, used as ``keyid`` in signatures."""
    return f"{node_url}/federation/actor#key-{key_id}"


def keys_directory(directory: Path) -> Path:
    """Where an instance directory keeps its key ring."""
    return Path(directory) / KEYS_DIRECTORY


def load(directory: Path) -> KeyRing:
    """Read the key ring of an instance directory."""
    return _read(keys_directory(directory))


def ensure_key(directory: Path, now: datetime | None = None) -> KeyRing:
    """Read the key ring of an instance directory, creating it with a first key if it has none yet."""
    where = keys_directory(directory)
    if (where / INDEX_FILE).is_file():
        return _read(where)
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _locked(where):
        if (where / INDEX_FILE).is_file():  # another process created it while we waited for the lock
            return _read(where)
        if any(where.glob("*.pem")):
            raise KeyRingError(
                f"{where} holds private keys but no {INDEX_FILE}: restore {INDEX_FILE} from a backup. A new key "
                f"was not created, because peers know this node by the keys it already has.")
        first = _new_key(where, now or _now())
        ring = KeyRing(where, (first,))
        _write_index(ring)
        logger.info("Created the node's first federation key %s (%s)", first.id, fingerprint(first.public_key))
        return ring


def fediverse_key(directory: Path) -> rsa.RSAPrivateKey:
    """The node's RSA key, which servers outside the network (Mastodon…) check its signatures with; made at
    its first use, as only nodes that are followed from the fediverse need it (and making one costs a tenth
    of a second, which every test node would pay at its start)."""
    where = keys_directory(directory)
    path = where / FEDIVERSE_KEY_FILE
    if not path.is_file():
        with _locked(where):
            if not path.is_file():  # (another process may have made it while we waited for the lock)
                private_key = rsa.generate_private_key(public_exponent=65537, key_size=FEDIVERSE_KEY_BITS)
                write_atomically(path, private_key.private_bytes(serialization.Encoding.PEM,
                                                                 serialization.PrivateFormat.PKCS8,
                                                                 serialization.NoEncryption()))
                logger.info("Created the node's RSA key for the fediverse (%s)", fingerprint(private_key.public_key()))
    private_key = _rsa_key(path, path.stat().st_mtime_ns)
    if private_key is None:
        raise KeyRingError(f"{path} does not hold an RSA key of at least {FEDIVERSE_KEY_BITS} bits: restore it from "
                           f"a backup, or delete it to have a new one made (followers then fetch the new key).")
    return private_key


@functools.lru_cache(maxsize=8)
def _rsa_key(path: Path, modified: int) -> rsa.RSAPrivateKey | None:
    """The RSA key in a file, read once per version of the file: checking an RSA key as it is loaded takes
    a twentieth of a second, and every delivery and key fetch signs with it."""
    try:
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    if not isinstance(private_key, rsa.RSAPrivateKey) or private_key.key_size < FEDIVERSE_KEY_BITS:
        return None
    return private_key


def rotate(directory: Path, overlap: timedelta, now: datetime | None = None) -> KeyRing:
    """Make a new current key; the old one stays valid until ``now + overlap``, expired ones are removed."""
    if overlap < timedelta(0):
        raise ValueError("The overlap of a key rotation cannot be negative.")
    now = now or _now()
    where = keys_directory(directory)
    with _locked(where):
        ring = _read(where)
        kept = tuple(key for key in ring.keys if key.is_valid(now))
        retired = tuple(replace(key, retired_at=now + overlap) if key.retired_at is None else key for key in kept)
        fresh = _new_key(where, now)
        rotated = KeyRing(where, (*retired, fresh))
        _write_index(rotated)
        for expired in {key.id for key in ring.keys} - {key.id for key in kept}:
            (where / f"{expired}.pem").unlink(missing_ok=True)
        logger.info("Rotated the federation key: %s is current, %s stays valid until %s",
                    fresh.id, ring.current.id, (now + overlap).isoformat())
        return rotated


def _now() -> datetime:
    return datetime.now(UTC)


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@contextmanager
def _locked(where: Path) -> Iterator[None]:
    """Hold the ring's lock file, so that concurrent starts and rotations change it one at a time."""
    if not where.is_dir():
        raise KeyRingError(_missing(where))
    with open(where / LOCK_FILE, "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _new_key(where: Path, now: datetime) -> Key:
    private_key = Ed25519PrivateKey.generate()
    key = Key(key_id(private_key.public_key()), private_key, now.replace(microsecond=0))
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    write_atomically(where / f"{key.id}.pem", pem)
    return key


def _write_index(ring: KeyRing) -> None:
    entries = [{"id": key.id, "created": key.created.isoformat(),
                "retired_at": key.retired_at.isoformat() if key.retired_at else None} for key in ring.keys]
    text = json.dumps({"version": INDEX_VERSION, "keys": entries}, indent=2) + "\n"
    write_atomically(ring.directory / INDEX_FILE, text.encode("utf-8"))


def _missing(where: Path) -> str:
    return (f"The node has no federation key ring at {where}: run 'knet init' for this instance to create its "
            f"key, or restore {where.name}/ from a backup if the node had one (peers know it by that key).")


def _read(where: Path) -> KeyRing:
    index = where / INDEX_FILE
    try:
        data = index.read_bytes()
    except FileNotFoundError:
        raise KeyRingError(_missing(where)) from None
    try:
        entries = json.loads(data.decode("utf-8"))["keys"]
        keys = tuple(_entry(where, entry) for entry in entries)
    except (ValueError, KeyError, TypeError, AttributeError, UnsupportedAlgorithm) as exc:
        raise KeyRingError(f"The federation key index {index} is damaged ({_reason(exc)}): restore it from a "
                           f"backup. The private keys are the .pem files beside it; do not delete them.") from None
    if [key.retired_at for key in keys].count(None) != 1:
        raise KeyRingError(f"The federation key index {index} must have exactly one current key (retired_at "
                           f"null): restore it from a backup.")
    return KeyRing(where, keys)


def _entry(where: Path, entry: dict) -> Key:
    identifier = entry["id"]
    if not isinstance(identifier, str) or not identifier.isalnum():
        raise ValueError(f"the key id {identifier!r} is not a key id")
    try:
        pem = (where / f"{identifier}.pem").read_bytes()
    except FileNotFoundError:
        raise ValueError(f"the private key file {identifier}.pem is missing") from None
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, Ed25519PrivateKey) or key_id(private_key.public_key()) != identifier:
        raise ValueError(f"{identifier}.pem does not hold the Ed25519 key {identifier}")
    retired_at = entry["retired_at"]
    return Key(identifier, private_key, _time(entry["created"]), None if retired_at is None else _time(retired_at))


def _time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"the time {value!r} has no time zone")
    return moment


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {exc.msg} at line {exc.lineno}"
    if isinstance(exc, KeyError):
        return f"an entry has no {exc.args[0]!r}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, UnsupportedAlgorithm):
        return "a key file holds a kind of key knet does not use"
    if isinstance(exc, (TypeError, AttributeError)):
        return "its entries do not have the expected shape"
    return str(exc)
