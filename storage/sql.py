"""What storage's SQL runs on, whichever the engine (SQLite or PostgreSQL).

Repositories, the unit of work, FSM storage and the health probe are written once against
`Session`: statements with `?` placeholders, aware datetimes as parameters, rows read by column
name. Each engine's session isolates what its dialect does differently: placeholders, how a
time is stored, row locks, savepoints and how a unique violation is reported. The SQL itself is
the part both dialects agree on (`ON CONFLICT ... DO UPDATE`, `RETURNING`, JSON kept as text).
"""

from __future__ import annotations

import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class Row(Protocol):
    """sqlite3.Row and asyncpg.Record alike: read by column name or by position."""

    def __getitem__(self, key: str | int, /) -> Any: ...


class UniqueViolation(Exception):
    """An INSERT or UPDATE broke a unique constraint; the message names the constraint."""


class Session(ABC):
    """One connection, inside a transaction or autocommitting each statement."""

    # Appended to a lookup by key in a unit of work that may write: the row stays locked until
    # commit, so two instances never act on the same record at once (empty where the engine
    # serialises writers anyway, and in read-only units of work).
    lock_rows: str = ""
    # Appended to a queue's SELECT: rows another transaction holds are passed over.
    skip_locked: str = ""

    @abstractmethod
    async def fetch_all(self, sql: str, params: Sequence[object] = ()) -> Sequence[Row]: ...

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run a statement; returns how many rows it changed."""

    async def fetch_one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Sequence[object] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def serialize(self, key: int) -> None:
        """Wait until no other transaction holds `key`, then hold it until this one ends (a
        no-op where the engine runs one writing transaction at a time anyway)."""
        return None

    @abstractmethod
    def json_text(self, column: str, field: str) -> str:
        """An SQL expression: the top-level `field` of the JSON in `column` when it is a string,
        else NULL (names are the code's own, never user input)."""

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A statement that may fail inside a transaction, without losing the transaction.

        SQLite keeps the transaction after a failed statement; PostgreSQL aborts it unless the
        statement ran under a savepoint.
        """
        return _no_savepoint()


class UnitSession(Session):
    """The session of a unit of work: after a commit or rollback the next statement runs in a
    new transaction (begun with that statement, where the engine allows: SQLite)."""

    @abstractmethod
    async def commit(self) -> None: ...

    @abstractmethod
    async def rollback(self) -> None: ...


class SqlDatabase(Protocol):
    """An engine's database as the rest of storage uses it (storage/database.py for SQLite,
    storage/postgres.py for PostgreSQL)."""

    # A single process owns every write (SQLite): caching what it wrote is safe.
    single_process: bool

    def unit(self, *, read_only: bool = False) -> AbstractAsyncContextManager[UnitSession]:
        """A transaction for a unit of work; a read-only one never waits for writers."""
        ...

    def connect(self) -> AbstractAsyncContextManager[Session]:
        """A connection whose statements each commit on their own."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[Session]:
        """BEGIN ... COMMIT, or ROLLBACK on an exception."""
        ...

    async def wipe(self) -> None:
        """After an erasure: make deleted personal data unrecoverable where the engine can
        (core.ports.FreedSpace)."""
        ...

    async def schema_version(self) -> int: ...

    async def close(self) -> None: ...


def identifier(name: str) -> str:
    """A name spliced into SQL: letters, digits and underscores only."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not an SQL identifier: {name!r}")
    return name


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@asynccontextmanager
async def _no_savepoint() -> AsyncIterator[None]:
    yield


# --- times ---------------------------------------------------------------------------------
# SQLite keeps datetimes as fixed-width ISO-8601 UTC text, so text order is time order in SQL;
# PostgreSQL as timestamptz. Repositories pass aware datetimes and read either back through
# from_db_time.


def to_db_time(value: datetime) -> str:
    return aware(value).astimezone(UTC).isoformat(timespec="microseconds")


def to_db_time_or_none(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("aware datetime expected")
    return value


def from_db_time(value: str | datetime) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_db_time_or_none(value: str | datetime | None) -> datetime | None:
    return None if value is None else from_db_time(value)


# --- migrations ----------------------------------------------------------------------------

_MIGRATION_NAME = re.compile(r"(?P<version>[0-9]{4})_[a-z0-9_]+\.sql")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def split_statements(script: str) -> tuple[str, ...]:
    """Split a script at statement ends; sqlite3.complete_statement keeps triggers whole.

    It reads standard SQL, so it splits the PostgreSQL scripts too (they use no $$ bodies).
    """
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if statement.strip(";").strip():
                statements.append(statement)
            pending = ""
    if pending.strip() and _strip_sql_comments(pending).strip():
        raise MigrationError("the script ends with an incomplete statement")
    return tuple(statements)


def _strip_sql_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """NNNN_name.sql files in version order; versions must run 1, 2, 3... without gaps."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: expected NNNN_name.sql")
        statements = split_statements(path.read_text(encoding="utf-8"))
        migrations.append(Migration(int(match["version"]), path.name, statements))
    check_versions(migrations)
    return migrations


def check_versions(migrations: Sequence[Migration]) -> None:
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(f"{migration.name}: expected version {expected:04d}")


class SchemaVersion(Protocol):
    """Where an engine keeps the schema version, read and written inside a transaction that
    also keeps a second process from migrating at the same time."""

    async def lock_and_read(self, session: Session) -> int: ...

    async def write(self, session: Session, migration: Migration) -> None: ...


async def apply_migrations(
    database: SqlDatabase, version: SchemaVersion, migrations: Sequence[Migration]
) -> None:
    """Apply the missing migrations, each in its own transaction with its version bump.

    The version is re-read inside each transaction, so two processes starting together
    apply every migration once.
    """
    check_versions(migrations)
    current = await database.schema_version()
    if current > len(migrations):
        # Older code on a newer schema could corrupt data it does not understand.
        raise MigrationError(
            f"database schema version {current} is newer than this code ({len(migrations)})"
        )
    for migration in migrations[current:]:
        async with database.transaction() as session:
            if await version.lock_and_read(session) >= migration.version:
                continue
            for statement in migration.statements:
                await session.execute(statement)
            await version.write(session, migration)
