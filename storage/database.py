"""One SQLite connection per process, its transactions serialised by an asyncio.Lock.

SQLite has a single writer. Rather than a pool of connections fighting over the write lock, the
process keeps one connection and lets one task at a time use it: a unit of work holds the lock from
BEGIN to COMMIT/ROLLBACK, so no other task's statements slip into its transaction.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 5_000

_MIGRATION_NAME = re.compile(r"(?P<version>[0-9]{4})_[a-z0-9_]+\.sql")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def split_statements(script: str) -> tuple[str, ...]:
    """Split a script at statement ends; sqlite3.complete_statement keeps triggers whole."""
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
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(f"{migration.name}: expected version {expected:04d}")
    return migrations


class Database:
    """The process's SQLite connection. Build with `await Database.open(path)`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self.path = path

    @classmethod
    async def open(
        cls, path: Path | str, *, migrations: Sequence[Migration] | None = None
    ) -> Database:
        """Open (creating if needed) and bring the schema up to date."""
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
            restrict_to_owner(path)
        # isolation_level=None: no implicit BEGIN from the sqlite3 module; transactions are ours.
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA foreign_keys=ON")
            # NORMAL is durable in WAL mode except for the last commits on power loss.
            await connection.execute("PRAGMA synchronous=NORMAL")
            # Deleted rows are overwritten with zeros, not left readable in free space (152-FZ:
            # erased personal data must not be recoverable from the file).
            await connection.execute("PRAGMA secure_delete=ON")
            database = cls(connection, path)
            await database.migrate(load_migrations() if migrations is None else migrations)
        except BaseException:
            await connection.close()
            raise
        return database

    async def close(self) -> None:
        async with self._lock:
            await self._connection.close()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[aiosqlite.Connection]:
        """Exclusive use of the connection, without a transaction (each statement autocommits).

        A task that already holds it gets an error instead of waiting for itself forever, e.g.
        FSM storage called inside an open unit of work.
        """
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            raise RuntimeError("the database connection is already held by this task")
        async with self._lock:
            self._owner = task
            try:
                yield self._connection
            finally:
                self._owner = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception.

        IMMEDIATE takes SQLite's write lock up front, so another process cannot make a
        read-then-write transaction fail half-way with SQLITE_BUSY.
        """
        async with self.acquire() as connection:
            await connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                await rollback_quietly(connection)
                raise
            await connection.execute("COMMIT")

    async def wipe(self) -> None:
        """After an erasure: copy the write-ahead log into the database and truncate it, so
        page images written before the deletion do not stay in the -wal file (core.ports.
        FreedSpace; the database's own free space is zeroed by secure_delete)."""
        async with self.acquire() as connection:
            await connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def schema_version(self) -> int:
        async with self.acquire() as connection:
            return await _user_version(connection)

    async def migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply the missing migrations, each in its own transaction with its version bump.

        The version is re-read inside each transaction, so two processes starting together
        apply every migration once.
        """
        for expected, migration in enumerate(migrations, start=1):
            if migration.version != expected:
                raise MigrationError(f"{migration.name}: expected version {expected:04d}")
        current = await self.schema_version()
        if current > len(migrations):
            # Older code on a newer schema could corrupt data it does not understand.
            raise MigrationError(
                f"database schema version {current} is newer than this code ({len(migrations)})"
            )
        for migration in migrations[current:]:
            async with self.transaction() as connection:
                if await _user_version(connection) >= migration.version:
                    continue
                for statement in migration.statements:
                    await connection.execute(statement)
                # PRAGMA takes no parameters; the version is an int from the file name.
                await connection.execute(f"PRAGMA user_version={migration.version:d}")


def restrict_to_owner(path: Path) -> None:
    """The database file and its -wal/-shm are the owner's only (0600), whatever the umask.

    Created here first, empty (a valid SQLite database), so it never exists with wider
    permissions; SQLite then gives -wal and -shm the database file's mode.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))):
        if file.exists():
            file.chmod(0o600)


async def _user_version(connection: aiosqlite.Connection) -> int:
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def rollback_quietly(connection: aiosqlite.Connection) -> None:
    """ROLLBACK if a transaction is open; SQLite may already have rolled back on some errors."""
    if connection.in_transaction:
        await connection.execute("ROLLBACK")


# Datetimes are stored as fixed-width ISO-8601 UTC text, so text order is time order in SQL.


def to_db_time(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("aware datetime expected")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def to_db_time_or_none(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def from_db_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_db_time_or_none(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)
