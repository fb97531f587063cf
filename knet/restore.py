"""A working node made from a backup (`knet restore`), on this machine or a fresh one.

The archive is checked as it is unpacked (its header first, then every table and file against the
SHA-256 its manifest gives), so a damaged, truncated or foreign file is refused with a sentence and
leaves nothing behind. The schema is then created at the backup's own revision, the rows are loaded
in the order the tables depend on each other, and the schema is upgraded to this knet's: a backup
made by an older knet restores into a newer one. Last, the search index is rebuilt from the database
(it is never in a backup). The database given must be empty: a restore never writes over a node.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import tarfile
import time
import tomllib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import flask_migrate
import tomli_w
from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from knet import config, content, jobs, restore_rows
from knet.app import MIGRATIONS, create_app
from knet.backup import (DATABASE, FILES, FORMAT, HEADER, MANIFEST, BackupError, copy_hashing, described,
                         knet_version, migrations)
from knet.db import db
from knet.search.indexing import INDEX_DIRECTORY, close_index
from knet.search.rebuild import rebuild

logger = logging.getLogger(__name__)

#: Kept in the new instance directory until the restore has finished.
UNFINISHED = ".knet-restore-unfinished"
#: Where the tables wait, unpacked, until the database is ready for them.
ROWS = ".knet-restore-rows"
READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


@dataclass
class RestoreSummary:
    instance: Path
    database: str
    revision: str
    tables: dict[str, int]
    files: int
    file_bytes: int
    indexed: int
    seconds: float
    #: Of which rebuilding the search index took.
    index_seconds: float

    @property
    def rows(self) -> int:
        return sum(self.tables.values())




def restore(backup: Path, instance_dir: str | os.PathLike, database: str | None = None,
            on_table: restore_rows.TableProgress | None = None) -> RestoreSummary:
    """Make a new node in ``instance_dir`` (new or empty) from ``backup``; ``database`` (a URL of an empty
    database) replaces the one its knet.toml names."""
    began = time.monotonic()
    target = config.resolve_instance(instance_dir).path
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        unfinished = " (it holds an unfinished restore: delete it, and empty its database)" if (
            target / UNFINISHED).exists() else ""
        raise BackupError(f"{target} already exists and is not empty{unfinished}; knet restore makes a new node "
                          f"only in a new or empty directory.")
    made = not target.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
        (target / UNFINISHED).write_text(f"knet restore of {backup} started here.\n", encoding="utf-8")
        header, manifest = _unpack(backup, target)
        url = _configure(target, header, database)
        summary = _load_database(target, url, header, manifest, on_table)
        shutil.rmtree(target / ROWS)
        (target / UNFINISHED).unlink()
    except OSError as exc:  # the disk or the directory (the archive's own faults are told as such)
        _clear(target, made)
        where = f" {exc.filename}" if exc.filename else f" in {target}"
        raise BackupError(f"Could not write{where}: {exc.strerror or exc}; nothing was restored.") from None
    except BaseException:
        _clear(target, made)
        raise
    files = manifest["files"]
    return RestoreSummary(target, described(url), header["revision"], summary["tables"], len(files),
                          sum(entry["bytes"] for entry in files.values()), summary["indexed"],
                          time.monotonic() - began, summary["index_seconds"])


def _clear(target: Path, made: bool) -> None:
    """Leave nothing behind: the directory made for the node, or what was put in the empty one given."""
    if made:
        shutil.rmtree(target, ignore_errors=True)
        return
    for item in target.iterdir():
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)


# Unpacking and checking --------------------------------------------------------------------------

def _damaged(backup: Path, why: str) -> BackupError:
    return BackupError(f"{backup} is damaged or incomplete ({why}); nothing was restored.")


def _unpack(backup: Path, target: Path) -> tuple[dict, dict]:
    """Unpack the archive into the new instance directory (the tables beside it, in ROWS), checking it
    as it goes; return its header and manifest."""
    try:
        archive = tarfile.open(backup, "r|*")
    except READ_ERRORS:
        raise BackupError(f"{backup} is not a knet backup (not a tar archive).") from None
    rows = target / ROWS
    rows.mkdir(mode=0o700)
    unpacked: dict[str, dict] = {}
    tables: dict[str, dict] = {}
    manifest = None
    with archive:
        members = _members(archive, backup)
        header = _header(archive, next(members, None), backup)
        for member in members:
            if manifest is not None:
                raise _damaged(backup, f"{member.name} follows the manifest")
            name = PurePosixPath(member.name)
            if member.name == MANIFEST and member.isfile():
                manifest = _json(archive, member, backup)
            elif len(name.parts) == 2 and name.parts[0] == DATABASE and name.suffix == ".jsonl" and member.isfile():
                tables[name.stem] = _write(archive, member, rows / name.name, 0o600, backup)
            elif name.parts[0] == FILES and len(name.parts) > 1:
                relative = _safe(PurePosixPath(*name.parts[1:]), member, backup)
                if member.isdir():
                    (target / relative).mkdir(mode=stat.S_IMODE(member.mode) | 0o700, exist_ok=True)
                elif member.isfile():
                    unpacked[relative.as_posix()] = _write(archive, member, target / relative,
                                                           stat.S_IMODE(member.mode) | 0o600, backup)
                else:
                    raise _damaged(backup, f"{member.name} is not a file or a directory")
            else:
                raise _damaged(backup, f"it holds {member.name}, which no knet backup has")
    if manifest is None:
        raise _damaged(backup, "its manifest is missing: the file was cut short or changed")
    if (manifest.get("format"), manifest.get("revision")) != (header["format"], header["revision"]):
        raise _damaged(backup, f"its manifest and {HEADER} describe different backups")
    _compare(backup, "table", tables, manifest.get("tables", {}), f"{DATABASE}/{{}}.jsonl")
    _compare(backup, "file", unpacked, manifest.get("files", {}), f"{FILES}/{{}}")
    return header, manifest


def _members(archive: tarfile.TarFile, backup: Path) -> Iterator[tarfile.TarInfo]:
    while True:
        try:
            member = archive.next()
        except READ_ERRORS as exc:
            raise _damaged(backup, _reason(exc)) from None
        if member is None:
            return
        yield member


def _reason(exc: BaseException) -> str:
    return str(exc).rstrip(".") or type(exc).__name__


def _header(archive: tarfile.TarFile, member: tarfile.TarInfo | None, backup: Path) -> dict:
    """The archive's first member, which says what it holds; refuse what this knet cannot restore."""
    if member is None or member.name != HEADER or not member.isfile():
        raise BackupError(f"{backup} is not a knet backup (it does not start with {HEADER}).")
    header = _json(archive, member, backup)
    if not isinstance(header.get("format"), int) or not isinstance(header.get("revision"), str):
        raise BackupError(f"{backup} is not a knet backup ({HEADER} does not describe one).")
    if header["format"] > FORMAT:
        raise BackupError(f"{backup} was written by a newer knet ({header.get('knet_version')}) in a format this "
                          f"one ({knet_version()}) cannot read: restore it with that version or a newer one.")
    try:
        known = migrations().get_revision(header["revision"])
    except CommandError:
        known = None
    if known is None or known.revision != header["revision"]:
        raise BackupError(f"{backup} was made by a newer knet ({header.get('knet_version')}, database schema "
                          f"{header['revision']}) than this one ({knet_version()}, schema up to "
                          f"{migrations().get_current_head()}): restore it with that version or a newer one.")
    return header


def _json(archive: tarfile.TarFile, member: tarfile.TarInfo, backup: Path) -> dict:
    try:
        value = json.loads(archive.extractfile(member).read().decode("utf-8"))
    except READ_ERRORS as exc:
        raise _damaged(backup, _reason(exc)) from None
    except ValueError:
        raise _damaged(backup, f"{member.name} is not JSON") from None
    if not isinstance(value, dict):
        raise _damaged(backup, f"{member.name} is not a JSON object")
    return value


def _safe(relative: PurePosixPath, member: tarfile.TarInfo, backup: Path) -> PurePosixPath:
    """A path inside the instance directory, never outside it nor onto the restore's own files."""
    if relative.is_absolute() or any(part in ("", ".", "..") or part.startswith(".") for part in relative.parts):
        raise _damaged(backup, f"{member.name} is not a path inside an instance directory")
    return relative


def _write(archive: tarfile.TarFile, member: tarfile.TarInfo, path: Path, mode: int, backup: Path) -> dict:
    source = archive.extractfile(member)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as target:
        try:
            size, digest = copy_hashing(source, target)
        except READ_ERRORS as exc:
            if isinstance(exc, OSError) and exc.errno is not None:  # the disk, not the archive
                raise BackupError(f"Could not write {path}: {exc.strerror}; nothing was restored.") from None
            raise _damaged(backup, _reason(exc)) from None
    os.chmod(path, mode)  # whatever the umask
    return {"bytes": size, "sha256": digest}


def _compare(backup: Path, kind: str, found: dict[str, dict], listed: dict[str, dict], shown: str) -> None:
    if not isinstance(listed, dict):
        raise _damaged(backup, f"its manifest lists no {kind}s")
    for name, entry in listed.items():
        if name not in found:
            raise _damaged(backup, f"{shown.format(name)} is missing")
        if (found[name]["sha256"], found[name]["bytes"]) != (entry.get("sha256"), entry.get("bytes")):
            raise _damaged(backup, f"{shown.format(name)} does not match its checksum")
    for name in found.keys() - listed.keys():
        raise _damaged(backup, f"{shown.format(name)} is not in its manifest")


# The configuration -------------------------------------------------------------------------------

def _configure(target: Path, header: dict, database: str | None) -> str:
    """Point the restored knet.toml at its database; return that database's URL.

    A SQLite file that lay inside the old instance directory is looked for inside the new one."""
    where = config.Instance(target)
    if not where.config_file.is_file():
        raise BackupError(f"The backup holds no {config.CONFIG_FILE}; nothing was restored.")
    written = tomllib.loads(where.config_file.read_text(encoding="utf-8")).get("database")
    chosen = database or _moved(written, Path(header.get("instance", "")), target)
    if chosen and chosen != written:
        _set_database(where.config_file, chosen)
    url = database or config.load(where)["database"]
    try:
        make_url(url)
    except ArgumentError:
        raise BackupError(f"{url!r} is not a database URL, such as postgresql+psycopg://knet@localhost/knet.") from None
    return url


def _moved(url: str | None, old: Path, new: Path) -> str | None:
    if not url or not str(url).startswith("sqlite") or not old.is_absolute():
        return url
    parsed = make_url(url)
    if not parsed.database or not Path(parsed.database).is_relative_to(old):
        return url
    moved = new / Path(parsed.database).relative_to(old)
    return parsed.set(database=str(moved)).render_as_string(hide_password=False)


def _set_database(config_file: Path, url: str) -> None:
    """Set the top-level `database` key, keeping the officer's comments and layout where possible."""
    original = config_file.read_text(encoding="utf-8")
    line = f"database = {json.dumps(url)}"
    first_table = re.search(r"^\s*\[", original, re.MULTILINE)
    top = original[:first_table.start()] if first_table else original
    if re.search(r"^database\s*=.*$", top, re.MULTILINE):
        top = re.sub(r"^database\s*=.*$", lambda _: line, top, count=1, flags=re.MULTILINE)
    else:
        top = f"{line}\n{top}"
    edited = top + (original[first_table.start():] if first_table else "")
    try:
        if tomllib.loads(edited).get("database") != url:
            raise ValueError
    except ValueError:
        settings = tomllib.loads(original)
        settings["database"] = url
        edited = tomli_w.dumps(settings)
    config_file.write_text(edited, encoding="utf-8")
    config_file.chmod(0o600)


# The database ------------------------------------------------------------------------------------

def _load_database(target: Path, url: str, header: dict, manifest: dict,
                   on_table: restore_rows.TableProgress | None) -> dict:
    try:
        app = create_app(target, overrides={"SQLALCHEMY_DATABASE_URI": url})
    except (SQLAlchemyError, ArgumentError) as exc:
        raise BackupError(f"Cannot use the database {described(url)}: {_sql_reason(exc)}.") from None
    with app.app_context():
        try:
            engine = db.engine
            existing = restore_rows.table_names(engine)
            if existing:
                raise BackupError(f"The database {described(url)} already holds {len(existing)} table(s), such as "
                                  f"{sorted(existing)[0]}; knet restore needs an empty one (give another with "
                                  f"--database).")
            try:
                flask_migrate.upgrade(directory=str(MIGRATIONS), revision=header["revision"])
                tables = restore_rows.load_rows(engine, target / ROWS, manifest["tables"], on_table)
                flask_migrate.upgrade(directory=str(MIGRATIONS))
                result = rebuild(target / INDEX_DIRECTORY, content.content_types().values())
                # No worker wrote to the index meanwhile: the jobs a rebuild queues again for changes made while it
                # ran (and would then announce to peers) are not wanted; the database stays as backed up,
                # but for the jobs the backed-up node's workers were running, which no worker runs now.
                db.session.rollback()
                jobs.end_every_claim()
                db.session.commit()
            except BaseException:
                db.session.rollback()
                close_index(app)
                restore_rows.drop_all(engine)
                raise
            return {"tables": tables, "indexed": result.documents, "index_seconds": result.seconds}
        except SQLAlchemyError as exc:
            raise BackupError(f"Could not restore into {described(url)}: {_sql_reason(exc)}; nothing was "
                              f"restored.") from None
        finally:
            close_index(app)
            db.session.remove()
            db.engine.dispose()


def _sql_reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0].rstrip(".")
