"""Copy the records of a SQLite database into an empty PostgreSQL one, every table (the dialogs'
FSM state included), in one transaction:

    python -m storage.migrate_to_postgres --from sqlite:///data/bot.sqlite3 \\
        --to postgresql://bot:secret@db.example.org:5432/oms

Stop the bot first. Both databases are brought to this code's schema, the tables are copied in
the order their foreign keys need, times become timestamptz, 0/1 booleans, JSON text jsonb, and
each id sequence continues after the highest id SQLite ever gave (a deleted row's id is never
reused). The target must be empty; nothing is written unless every table is copied whole.
Passport scans stay in DATA_DIR/files: the bot's processes need that directory (or a copy of it)
and the same DATA_KEY.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from graphlib import TopologicalSorter
from typing import Any

from storage.database import Database
from storage.engines import DatabaseUrl, parse_database_url
from storage.postgres import DatabaseUnavailable, PostgresDatabase, PostgresSession, redacted
from storage.sql import MigrationError, Session, from_db_time

BATCH = 5_000
_BOOKKEEPING = "schema_migrations"


class CopyRefused(Exception):
    """The copy cannot start (a missing source, a target holding records...)."""


async def copy_database(source: DatabaseUrl, target: DatabaseUrl) -> dict[str, int]:
    """Copy every table; returns the rows copied per table."""
    if source.sqlite_path is None or target.sqlite_path is not None:
        raise CopyRefused("copies from sqlite:///... to postgresql://...")
    if not source.sqlite_path.is_file():
        raise CopyRefused(f"no SQLite database at {source.sqlite_path}")
    sqlite = await Database.open(source.sqlite_path)
    try:
        postgres = await PostgresDatabase.open(target.url)
        try:
            async with postgres.transaction() as session:
                assert isinstance(session, PostgresSession)
                return await _copy(sqlite, session)
        finally:
            await postgres.close()
    finally:
        await sqlite.close()


async def _copy(sqlite: Database, target: PostgresSession) -> dict[str, int]:
    tables = await _tables_parents_first(target)
    for table in tables:
        if await target.fetch_value(f"SELECT EXISTS (SELECT 1 FROM {table})"):
            raise CopyRefused(f"the target already holds records ({table}); use an empty database")
    copied: dict[str, int] = {}
    for table in tables:
        columns = await _column_types(target, table)
        convert = [_CONVERSIONS.get(data_type, _same) for data_type in columns.values()]
        names = list(columns)
        copied[table] = 0
        async with sqlite.acquire() as connection:
            async with connection.execute(f"SELECT {', '.join(names)} FROM {table}") as cursor:
                while rows := await cursor.fetchmany(BATCH):
                    records = [
                        tuple(f(value) for f, value in zip(convert, row, strict=True))
                        for row in rows
                    ]
                    await target.connection.copy_records_to_table(
                        table, records=records, columns=names
                    )
                    copied[table] += len(records)
        if await target.fetch_value(f"SELECT count(*) FROM {table}") != copied[table]:
            raise RuntimeError(f"{table}: the row count differs after the copy")
        await _continue_ids(sqlite, target, table)
    return copied


async def _tables_parents_first(session: Session) -> list[str]:
    tables = [
        row[0]
        for row in await session.fetch_all(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " AND table_name != ? ORDER BY table_name",
            (_BOOKKEEPING,),
        )
    ]
    parents: dict[str, set[str]] = {table: set() for table in tables}
    for row in await session.fetch_all(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    ):
        parents[row[0]].add(row[1])
    return list(TopologicalSorter(parents).static_order())


async def _column_types(session: Session, table: str) -> dict[str, str]:
    rows = await session.fetch_all(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        (table,),
    )
    return {row[0]: row[1] for row in rows}


async def _continue_ids(sqlite: Database, target: Session, table: str) -> None:
    """Each identity goes on after the highest id SQLite gave, deleted rows' ids included."""
    for row in await target.fetch_all(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? AND is_identity = 'YES'",
        (table,),
    ):
        column = row[0]
        async with sqlite.connect() as session:
            given = await session.fetch_value(
                "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
            )
        highest = max(
            int(given or 0),
            int(await target.fetch_value(f"SELECT COALESCE(MAX({column}), 0) FROM {table}")),
        )
        await target.execute(
            "SELECT setval(pg_get_serial_sequence(?, ?), ?, ?)",
            (table, column, max(highest, 1), highest > 0),
        )


def _same(value: Any) -> Any:
    return value


def _time(value: Any) -> Any:
    return None if value is None else from_db_time(value)


def _boolean(value: Any) -> Any:
    return None if value is None else bool(value)


_CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "timestamp with time zone": _time,
    "boolean": _boolean,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m storage.migrate_to_postgres",
        description="Copy every table of the bot's SQLite database into an empty PostgreSQL one.",
    )
    parser.add_argument("--from", dest="source", required=True, help="sqlite:///data/bot.sqlite3")
    parser.add_argument(
        "--to", dest="target", required=True, help="postgresql://user:password@host:5432/dbname"
    )
    args = parser.parse_args(argv)
    try:
        source, target = parse_database_url(args.source), parse_database_url(args.target)
        copied = asyncio.run(copy_database(source, target))
    except (ValueError, CopyRefused, DatabaseUnavailable, MigrationError) as error:
        print(f"migrate_to_postgres: {error}", file=sys.stderr)
        return 2
    for table, count in copied.items():
        print(f"{table}: {count} rows")
    print(f"copied {sum(copied.values())} rows into {redacted(target.url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
