"""A complete, consistent backup of a running node in one file (`knet backup`).

The archive is a gzipped tar that a person can open with any tar tool:

``knet-backup.json``
    first, so that a restore can refuse a foreign or too new archive before unpacking anything: the
    archive format, the knet version, the database's schema revision (Alembic) and where it came from.
``database/<table>.jsonl``
    every row of every table, one JSON object a line, in the order the tables depend on each other.
    Timestamps are ISO 8601 in UTC, bytes are base64, JSON columns are kept as they are. No database
    tool is needed to make or read them, so a backup of SQLite restores into PostgreSQL and back, and
    no ``pg_dump`` of the server's exact major version has to be installed.
``files/<path>``
    the instance directory: knet.toml, the federation keys, lesson files and SCORM packages
    (``media/``), pending imports… but not what the node rebuilds by itself (the search index, the
    open-data cache, the content generation, the SQLite database file, which is dumped as rows).
``manifest.json``
    last: the rows and SHA-256 of every table and the size and SHA-256 of every file.

The tables are read in one read-only transaction that sees a single snapshot of the database, while
the node keeps serving and writing. The files are copied after it: lesson files are content-addressed
and never change, so every file the snapshot names is already on disk (files written later are
harmless extras). The archive is written beside its destination under a hidden name and renamed into
place only once complete, so a crash never leaves a half backup named like a good one.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import stat
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import IO

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import Connection, DateTime, Engine, LargeBinary, Table, select, text
from sqlalchemy.engine import make_url

from knet.app import MIGRATIONS
from knet.db import as_utc, db
from knet.errors import KnetError
from knet.opendata_routes import CACHE_DIRECTORY
from knet.render_cache import GENERATION_FILE
from knet.search.indexing import INDEX_DIRECTORY

logger = logging.getLogger(__name__)

FORMAT = 1
HEADER = "knet-backup.json"
MANIFEST = "manifest.json"
DATABASE = "database"
FILES = "files"
#: Rows read from the database at a time (a server-side cursor on PostgreSQL).
BATCH = 1000
#: A file of the instance larger than this waits on disk, not in memory, while it is added.
SPOOL_BYTES = 8 * 1024 * 1024
#: A column of this name holds the SHA-256 of a file kept in <instance>/media/<first two digits>/<digest>
#: (lesson files and SCORM packages): the backup says if one the database names is missing.
DIGEST_COLUMN = "sha256"
MEDIA = "media"
#: The archive holds the node's secrets (knet.toml, private keys): only its owner may read it.
MODE = 0o600


class BackupError(KnetError):
    """A backup could not be made or restored; the message says why and what to do."""


@dataclass
class BackupSummary:
    path: Path
    tables: dict[str, int]
    files: int
    file_bytes: int
    archive_bytes: int
    seconds: float
    #: Files the database names that the instance directory does not have (the node misses them too).
    missing: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


#: Told the name of each table once it is in the archive, with its rows, and its number of the total.
TableProgress = Callable[[str, int, int, int], None]


def knet_version() -> str:
    try:
        return metadata.version("knet")
    except metadata.PackageNotFoundError:
        return "unknown"


def migrations() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    return migrations().get_current_head()


# Making a backup ---------------------------------------------------------------------------------

def create(out: Path, on_table: TableProgress | None = None) -> BackupSummary:
    """Write a backup of the node of the current app to ``out``, which must not exist yet."""
    began = time.monotonic()
    out = Path(os.path.abspath(out))
    _check_destination(out)
    instance = Path(current_app.instance_path)
    try:
        handle, draft = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
    except OSError as exc:
        raise BackupError(f"Cannot write a backup in {out.parent}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(handle, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as archive:
                with snapshot(db.engine) as connection:
                    header = _header(connection, instance)
                    add_json(archive, HEADER, header)
                    tables, digests = _dump_tables(archive, connection, out.parent, on_table)
                files = _add_files(archive, instance, skipped=_derived(instance) | {out, Path(draft)})
                missing = sorted(f"{MEDIA}/{digest[:2]}/{digest}" for digest in digests
                                 if f"{MEDIA}/{digest[:2]}/{digest}" not in files)
                add_json(archive, MANIFEST, {**header, "tables": tables, "files": files, "missing": missing})
            raw.flush()
            os.fsync(raw.fileno())
        _publish(Path(draft), out)
    except OSError as exc:
        Path(draft).unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        if exc.filename and Path(exc.filename) != Path(draft):  # a file of the instance it could not read
            reason = f"{reason} ({exc.filename})"
        raise BackupError(f"Could not write the backup {out}: {reason}; nothing was kept.") from None
    except BaseException:
        Path(draft).unlink(missing_ok=True)
        raise
    for path in missing:
        logger.warning("the database names %s, which the instance directory does not have", path)
    return BackupSummary(out, {name: table["rows"] for name, table in tables.items()}, len(files),
                         sum(entry["bytes"] for entry in files.values()), out.stat().st_size,
                         time.monotonic() - began, missing)


def _check_destination(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise BackupError(f"{out} already exists; knet backup never overwrites a file: choose another name.")
    if not out.parent.is_dir():
        raise BackupError(f"Cannot write a backup in {out.parent}: there is no such directory.")


def _publish(draft: Path, out: Path) -> None:
    """Give the complete archive its name, never replacing a file that appeared there meanwhile."""
    try:
        os.link(draft, out)
    except FileExistsError:
        raise BackupError(f"{out} appeared while the backup was being made; it was left alone.") from None
    except OSError:  # a file system without hard links
        if out.exists():
            raise BackupError(f"{out} appeared while the backup was being made; it was left alone.") from None
        os.replace(draft, out)
    draft.unlink(missing_ok=True)
    directory = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextlib.contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose every read sees the database as it was at its first read, while others write.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction. SQLite (in WAL mode): a read transaction on
    one connection; it is opened by hand, as Python's sqlite3 starts none before a SELECT."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                connection.exec_driver_sql("ROLLBACK")
        else:
            connection = connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with connection.begin() as transaction:
                yield connection
                transaction.rollback()


def _header(connection: Connection, instance: Path) -> dict:
    """What the archive is, read inside the snapshot (its first read, which fixes the snapshot on SQLite)."""
    revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
    head = head_revision()
    if revision != head:
        raise BackupError(f"The database's schema is at revision {revision}, but this knet's is {head}: "
                          f"run 'knet db upgrade' first (with the knet that serves this node).")
    return {"format": FORMAT, "knet_version": knet_version(), "revision": revision,
            "database": connection.engine.dialect.name, "instance": str(instance),
            "node": current_app.config["KNET"]["url"],
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _encoders(table: Table) -> dict[str, Callable[[object], object]]:
    def same(value: object) -> object:
        return value

    def moment(value: datetime | None) -> str | None:
        return None if value is None else as_utc(value).astimezone(timezone.utc).isoformat()

    def raw(value: bytes | None) -> str | None:
        return None if value is None else base64.b64encode(value).decode("ascii")

    return {column.name: moment if isinstance(column.type, DateTime)
            else raw if isinstance(column.type, LargeBinary) else same for column in table.columns}


def column_kinds(table: Table) -> dict[str, str]:
    """How the columns that JSON cannot hold as they are were written ('datetime' or 'base64')."""
    kinds = {}
    for column in table.columns:
        if isinstance(column.type, DateTime):
            kinds[column.name] = "datetime"
        elif isinstance(column.type, LargeBinary):
            kinds[column.name] = "base64"
    return kinds


def _dump_tables(archive: tarfile.TarFile, connection: Connection, spool_in: Path,
                 on_table: TableProgress | None) -> tuple[dict[str, dict], set[str]]:
    """Add every table of the node's models to the archive; return their manifest entries and the
    digests of the files they name."""
    tables: dict[str, dict] = {}
    digests: set[str] = set()
    ordered = db.metadata.sorted_tables
    for number, table in enumerate(ordered, start=1):
        encoders = _encoders(table)
        names = list(encoders)
        rows = 0
        digest = hashlib.sha256()
        query = select(table).order_by(*table.primary_key.columns)
        with tempfile.TemporaryFile(dir=spool_in) as spool:
            result = connection.execute(query, execution_options={"yield_per": BATCH})
            for row in result.mappings():
                line = json.dumps({name: encoders[name](row[name]) for name in names}, ensure_ascii=False,
                                  separators=(",", ":")).encode("utf-8") + b"\n"
                spool.write(line)
                digest.update(line)
                rows += 1
                if DIGEST_COLUMN in names and row[DIGEST_COLUMN]:
                    digests.add(row[DIGEST_COLUMN])
            size = spool.tell()
            spool.seek(0)
            member = tarfile.TarInfo(f"{DATABASE}/{table.name}.jsonl")
            member.size, member.mode, member.mtime = size, MODE, int(time.time())
            archive.addfile(member, spool)
        tables[table.name] = {"rows": rows, "bytes": size, "sha256": digest.hexdigest(),
                              "columns": column_kinds(table)}
        if on_table:
            on_table(table.name, rows, number, len(ordered))
    return tables, digests


def _derived(instance: Path) -> set[Path]:
    """What the instance directory holds that the node makes again by itself, or that is dumped as rows."""
    skipped = {instance / INDEX_DIRECTORY, instance / CACHE_DIRECTORY, instance / GENERATION_FILE}
    skipped |= set(instance.glob(f"{INDEX_DIRECTORY}.*"))
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(os.path.abspath(url.database))
        skipped |= {database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")}
    return skipped


def _add_files(archive: tarfile.TarFile, instance: Path, skipped: set[Path]) -> dict[str, dict]:
    """Add the instance directory's files (following symbolic links: a `media` linked to another disk is
    backed up) but hidden ones (locks, drafts) and `skipped`; return their manifest entries."""
    files: dict[str, dict] = {}
    for directory, subdirectories, names in os.walk(instance, followlinks=True):
        here = Path(directory)
        subdirectories[:] = sorted(name for name in subdirectories
                                   if not name.startswith(".") and here / name not in skipped)
        for name in subdirectories:
            _add_directory(archive, here / name, instance)
        for name in sorted(names):
            path = here / name
            if name.startswith(".") or path in skipped:
                continue
            relative = path.relative_to(instance).as_posix()
            entry = _add_file(archive, path, f"{FILES}/{relative}")
            if entry is not None:
                files[relative] = entry
    return files


def _add_directory(archive: tarfile.TarFile, path: Path, instance: Path) -> None:
    member = tarfile.TarInfo(f"{FILES}/{path.relative_to(instance).as_posix()}")
    member.type = tarfile.DIRTYPE
    status = path.stat()
    member.mode, member.mtime = status.st_mode & 0o777, int(status.st_mtime)
    archive.addfile(member)


def _add_file(archive: tarfile.TarFile, path: Path, name: str) -> dict | None:
    """Add one file as it is now (copied first: a file that changes meanwhile is still added whole)."""
    try:
        source = open(path, "rb")
    except FileNotFoundError:  # removed since the directory was listed (a finished import's upload)
        return None
    with source, tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as copy:
        status = os.fstat(source.fileno())
        if not stat.S_ISREG(status.st_mode):  # a socket or a fifo
            return None
        size, digest = copy_hashing(source, copy)
        copy.seek(0)
        member = tarfile.TarInfo(name)
        member.size, member.mode, member.mtime = size, stat.S_IMODE(status.st_mode), int(status.st_mtime)
        archive.addfile(member, copy)
    return {"bytes": size, "sha256": digest}


def add_json(archive: tarfile.TarFile, name: str, value: dict) -> None:
    data = json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")
    member = tarfile.TarInfo(name)
    member.size, member.mode, member.mtime = len(data), MODE, int(time.time())
    archive.addfile(member, io.BytesIO(data))


def copy_hashing(source: IO[bytes], target: IO[bytes]) -> tuple[int, str]:
    """Copy a stream; return how many bytes it had and their SHA-256."""
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: source.read(1024 * 1024), b""):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def described(database: str | None) -> str:
    """A database URL fit for a message: without its password."""
    if not database:
        return "the instance directory's database"
    return make_url(database).render_as_string(hide_password=True)

