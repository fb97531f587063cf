"""Whether a node's database schema is the one this version of knet expects: its newest migration.

After an upgrade of knet the database stays as it was until `knet db upgrade` applies the new
migrations; `knet db check` (and the worker and `knet run`, as they start) tell an IT officer so,
instead of the node failing on a missing column at the first request that needs it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
CURRENT, BEHIND, AHEAD, EMPTY, FOREIGN = "current", "behind", "ahead", "empty", "foreign"


@dataclass(frozen=True)
class SchemaState:
    """Where the database's schema stands against this code's migrations."""

    #: The database's revision(s) (empty: it has no knet schema version).
    database: tuple[str, ...]
    #: This code's newest revision.
    head: str
    #: One of CURRENT, BEHIND (older, known revision), AHEAD (a revision this code does not know: a
    #: newer knet wrote it), EMPTY (no tables at all) or FOREIGN (tables, but no knet schema version).
    status: str

    @property
    def revision(self) -> str:
        return ", ".join(self.database) or "none"


def head_revision(migrations: Path = MIGRATIONS) -> str:
    """This code's newest migration."""
    return ScriptDirectory(str(migrations)).get_current_head()


def schema_state(engine: Engine, migrations: Path = MIGRATIONS) -> SchemaState:
    """Read the database's revision and compare it with this code's migrations (raises SQLAlchemy's
    errors when the database cannot be reached)."""
    script = ScriptDirectory(str(migrations))
    head = script.get_current_head()
    known = {revision.revision for revision in script.walk_revisions()}
    with engine.connect() as connection:
        database = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
        tables = inspect(connection).get_table_names() if not database else []
    if not database:
        status = FOREIGN if tables else EMPTY
    elif database == (head,):
        status = CURRENT
    elif all(revision in known for revision in database):
        status = BEHIND
    else:
        status = AHEAD
    return SchemaState(database, head, status)


def explain(state: SchemaState, instance: str) -> str:
    """One sentence for an IT officer: where the schema stands and, unless current, what to do."""
    upgrade = f"knet db upgrade --instance {instance}"
    if state.status == CURRENT:
        return f"The database schema is up to date (revision {state.head})."
    if state.status == BEHIND:
        return (f"The database schema is at revision {state.revision}, older than this version of knet "
                f"expects ({state.head}): back up the database, then run '{upgrade}'.")
    if state.status == AHEAD:
        return (f"The database schema is at revision {state.revision}, which this version of knet does not know "
                f"(its newest is {state.head}): a newer knet has upgraded it; run that version, or restore the "
                f"backup made before the upgrade.")
    if state.status == EMPTY:
        return f"The database is empty (no knet schema): run '{upgrade}' to create the schema, or 'knet init'."
    return ("The database has tables but no knet schema version (no alembic_version table): check that "
            "'database' in knet.toml names this node's database.")


def warn_if_not_current(engine: Engine, instance: str) -> SchemaState | None:
    """Log a warning when the schema is not this code's (at the start of a long-running process);
    return the state, or None if the database could not be read (the process reports that itself)."""
    try:
        state = schema_state(engine)
    except SQLAlchemyError:  # a database that is down now is the process's to report, not this check's
        logger.debug("could not read the database's schema revision", exc_info=True)
        return None
    if state.status != CURRENT:
        logger.warning(explain(state, instance))
    return state
