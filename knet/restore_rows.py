"""Rows of a backup put into a database whose schema is at the backup's revision (see knet.restore)."""
from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import JSON, Engine, MetaData, Table, bindparam, inspect, select, text, update

from knet.backup import BATCH, BackupError

#: Told each table's name once its rows are in, with their number, and its number of the total.
TableProgress = Callable[[str, int, int, int], None]


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()


def drop_all(engine: Engine) -> None:
    """Drop what the restore created in the database, which was empty before it."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        quote = engine.dialect.identifier_preparer.quote
        for name in table_names(engine):
            cascade = "" if engine.dialect.name == "sqlite" else " CASCADE"
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}{cascade}")
        connection.commit()
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def load_rows(engine: Engine, rows: Path, tables: dict[str, dict], on_table: TableProgress | None) -> dict[str, int]:
    """Insert every table's rows, in batches, in the backup's order (parents before children); a column
    that points to a table not yet loaded (or to its own) is filled in afterwards."""
    schema = MetaData()
    schema.reflect(bind=engine)
    order = list(tables)
    unknown = [name for name in order if name not in schema.tables]
    if unknown:
        raise BackupError(f"The backup has the table {unknown[0]}, which the schema at its revision lacks; "
                          f"nothing was restored.")
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        # Some migrations write rows of their own (federation_log_head's); the backup's take their place.
        for name in reversed(order):
            connection.execute(schema.tables[name].delete())
        later: list[tuple[Table, str, list[dict]]] = []
        for number, name in enumerate(order, start=1):
            table = schema.tables[name]
            _null_is_sql_null(table)
            deferred = _deferred_columns(table, order[:number - 1])
            kinds = tables[name].get("columns", {})
            keys = [column.name for column in table.primary_key.columns]
            pending: dict[str, list[dict]] = {column: [] for column in deferred}
            counts[name] = 0
            for batch in _batches(rows / f"{name}.jsonl", kinds):
                for row in batch:
                    for column in deferred:
                        if row.get(column) is not None:
                            pending[column].append({**{f"_{key}": row[key] for key in keys}, "_value": row[column]})
                            row[column] = None
                connection.execute(table.insert(), batch)
                counts[name] += len(batch)
            later += [(table, column, values) for column, values in pending.items() if values]
            if on_table:
                on_table(name, counts[name], number, len(order))
        for table, column, values in later:
            keys = [c.name for c in table.primary_key.columns]
            statement = (update(table).where(*(table.c[key] == bindparam(f"_{key}") for key in keys))
                         .values({column: bindparam("_value")}))
            for start in range(0, len(values), BATCH):
                connection.execute(statement, values[start:start + BATCH])
        if engine.dialect.name == "postgresql":
            _restart_sequences(connection, schema, order)
    return counts


def _null_is_sql_null(table: Table) -> None:
    # A JSON column's None is stored as SQL NULL where the column may be NULL (as `none_as_null` models
    # ask for, and as queries such as `document IS NOT NULL` expect), JSON null only where it may not.
    for column in table.columns:
        if isinstance(column.type, JSON):
            column.type.none_as_null = column.nullable


def _deferred_columns(table: Table, loaded: list[str]) -> list[str]:
    deferred = []
    for key in table.foreign_keys:
        if key.column.table.name not in loaded:
            if not key.parent.nullable:
                raise BackupError(f"The column {table.name}.{key.parent.name} must point to a row of "
                                  f"{key.column.table.name}, which is loaded after it.")
            deferred.append(key.parent.name)
    return sorted(set(deferred))


def _batches(path: Path, kinds: dict[str, str]) -> Iterator[list[dict]]:
    decoders = {name: _DECODERS[kind] for name, kind in kinds.items()}
    with open(path, encoding="utf-8") as lines:
        rows = (json.loads(line) for line in lines)
        while batch := list(itertools.islice(rows, BATCH)):
            for row in batch:
                for name, decode in decoders.items():
                    if row.get(name) is not None:
                        row[name] = decode(row[name])
            yield batch


_DECODERS = {"datetime": datetime.fromisoformat, "base64": base64.b64decode}


def _restart_sequences(connection, schema: MetaData, order: list[str]) -> None:
    """Make PostgreSQL's id sequences start after the highest id loaded (rows came with their ids)."""
    for name in order:
        table = schema.tables[name]
        keys = list(table.primary_key.columns)
        if len(keys) != 1:
            continue
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                     {"table": name, "column": keys[0].name})
        if sequence:
            highest = connection.scalar(select(keys[0]).order_by(keys[0].desc()).limit(1))
            connection.execute(text("SELECT setval(:sequence, :value, :called)"),
                               {"sequence": sequence, "value": highest or 1, "called": highest is not None})
