"""The database handle shared by every package, and the engine settings each backend needs."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry
from werkzeug.local import LocalProxy

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    # Every timestamp is stored with its time zone (UTC), so PostgreSQL and SQLite agree.
    registry = registry(metadata=MetaData(naming_convention=NAMING),
                        type_annotation_map={datetime: DateTime(timezone=True)})


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def utcnow() -> datetime:
    """Now, in UTC, as stored in every timestamp column."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """A stored timestamp with its UTC zone (SQLite hands them back without one)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def rollback_or_close() -> None:
    """End the session's failed transaction so that its next use starts clean; when the connection itself is gone
    (a database restarting), close the session instead: the pool drops that connection and opens a new one."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - whatever the dead connection raises
        db.session.close()


def lock_row(instance: Base, column: str) -> None:
    """Make transactions that lock the same row wait for each other, then reload the object as it is
    now (what was read before the lock may be stale).

    A no-op UPDATE of `column` takes the row's write lock on PostgreSQL and the whole database's on
    SQLite, which has no SELECT … FOR UPDATE. (A savepoint that catches a unique violation instead
    would not do on SQLite: pysqlite opens no transaction before a SAVEPOINT, so releasing it commits.)"""
    if isinstance(instance, LocalProxy):  # the signed-in person, as Flask-Login's current_user
        instance = instance._get_current_object()
    model = type(instance)
    attribute = getattr(model, column)
    db.session.execute(update(model).where(model.id == instance.id).values({attribute: attribute})
                       .execution_options(synchronize_session=False))
    db.session.refresh(instance)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # WAL lets readers and one writer work at once; SQLite leaves foreign keys off unless asked.
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
