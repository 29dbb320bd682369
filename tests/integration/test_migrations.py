"""Schema migrations on each engine, and the two engines' schemas kept alike."""

import sqlite3
from pathlib import Path

import asyncpg
import pytest

from storage import postgres
from storage.database import Database
from storage.engines import DatabaseUrl, open_database, parse_database_url
from storage.sql import (
    Migration,
    MigrationError,
    Session,
    SqlDatabase,
    load_migrations,
    split_statements,
)

MIGRATIONS = {"sqlite": load_migrations(), "postgresql": load_migrations(postgres.MIGRATIONS_DIR)}
EXPECTED_TABLES = {
    "citizens",
    "applications",
    "status_changes",
    "outbox",
    "fsm_state",
    "conversations",
    "relayed_messages",
    "reminders_sent",
    "digests",
    "reminder_ticks",
    "email_confirmations",
    "destructions",
}
# What each engine adds for its own bookkeeping.
BOOKKEEPING = {"sqlite_sequence", "schema_migrations"}


async def columns(database: SqlDatabase) -> dict[str, list[str]]:
    """Each table's columns in order."""
    async with database.connect() as session:
        if isinstance(database, Database):
            names = await _values(session, "SELECT name FROM sqlite_master WHERE type = 'table'")
            return {
                name: await _values(session, f"SELECT name FROM pragma_table_info('{name}')")
                for name in names
                if name not in BOOKKEEPING
            }
        rows = await session.fetch_all(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
    tables: dict[str, list[str]] = {}
    for row in rows:
        if row["table_name"] not in BOOKKEEPING:
            tables.setdefault(row["table_name"], []).append(row["column_name"])
    return tables


async def indexes(database: SqlDatabase) -> set[str]:
    """The indexes the migrations name (not those the engine makes for keys)."""
    async with database.connect() as session:
        if isinstance(database, Database):
            sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        else:
            sql = (
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        return set(await _values(session, sql))


async def _values(session: Session, sql: str) -> list[str]:
    return [row[0] for row in await session.fetch_all(sql)]


async def open_at(url: DatabaseUrl, count: int | None = None) -> SqlDatabase:
    """The database with the engine's first `count` migrations (all when None)."""
    return await open_with(url, MIGRATIONS[url.engine][:count])


async def open_with(url: DatabaseUrl, migrations: list[Migration]) -> SqlDatabase:
    if url.sqlite_path is not None:
        return await Database.open(url.sqlite_path, migrations=migrations)
    return await postgres.PostgresDatabase.open(url.url, migrations=migrations)


@pytest.fixture
def url(database_url: str) -> DatabaseUrl:
    return parse_database_url(database_url)


def test_migration_files_are_numbered_without_gaps() -> None:
    versions = [m.version for m in MIGRATIONS["sqlite"]]
    assert versions == list(range(1, len(versions) + 1))
    assert len(versions) >= 2


def test_every_sqlite_migration_has_its_postgresql_counterpart() -> None:
    """A migration is one file per engine, same number and name: storage/migrations/NNNN_x.sql
    and storage/migrations/postgresql/NNNN_x.sql."""
    assert [m.name for m in MIGRATIONS["postgresql"]] == [m.name for m in MIGRATIONS["sqlite"]]


async def test_both_engines_end_with_the_same_tables_columns_and_indexes(
    db: Database, postgres_url: str
) -> None:
    other = await open_database(parse_database_url(postgres_url))
    try:
        assert await columns(other) == await columns(db)
        assert await indexes(other) == await indexes(db)
    finally:
        await other.close()
    assert set(await columns(db)) == EXPECTED_TABLES


async def test_empty_database_gets_the_whole_schema(
    database: SqlDatabase, url: DatabaseUrl
) -> None:
    assert await database.schema_version() == len(MIGRATIONS[url.engine])
    assert set(await columns(database)) == EXPECTED_TABLES


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    async with db.acquire() as connection:
        async with connection.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone())[0] == "wal"
        async with connection.execute("PRAGMA foreign_keys") as cursor:
            assert (await cursor.fetchone())[0] == 1
        async with connection.execute("PRAGMA synchronous") as cursor:
            assert (await cursor.fetchone())[0] == 1  # NORMAL
        async with connection.execute("PRAGMA busy_timeout") as cursor:
            assert (await cursor.fetchone())[0] > 0


async def test_reopening_an_up_to_date_database_changes_nothing_and_keeps_data(
    url: DatabaseUrl,
) -> None:
    database = await open_database(url)
    async with database.transaction() as session:
        await session.execute("INSERT INTO citizens (user_id, locale) VALUES (1, 'ru')")
    await database.close()

    database = await open_database(url)
    try:
        assert await database.schema_version() == len(MIGRATIONS[url.engine])
        async with database.connect() as session:
            assert await _values(session, "SELECT user_id FROM citizens") == [1]
    finally:
        await database.close()


async def test_database_at_an_older_version_gets_only_the_missing_migrations(
    url: DatabaseUrl,
) -> None:
    database = await open_at(url, 1)
    async with database.transaction() as session:
        await session.execute("INSERT INTO citizens (user_id, locale) VALUES (7, 'en')")
    assert await database.schema_version() == 1
    assert "fsm_state" not in await columns(database)
    await database.close()

    database = await open_at(url)
    try:
        assert await database.schema_version() == len(MIGRATIONS[url.engine])
        assert set(await columns(database)) == EXPECTED_TABLES
        async with database.connect() as session:
            assert await _values(session, "SELECT user_id FROM citizens") == [7]
    finally:
        await database.close()


async def test_a_failing_migration_is_rolled_back_whole_and_the_version_stays(
    url: DatabaseUrl,
) -> None:
    migrations = MIGRATIONS[url.engine]
    broken = Migration(
        version=len(migrations) + 1,
        name="9999_broken.sql",
        statements=("CREATE TABLE half_done (id INTEGER)", "INSERT INTO no_such_table VALUES (1)"),
    )
    with pytest.raises((sqlite3.OperationalError, asyncpg.UndefinedTableError)):
        await open_with(url, [*migrations, broken])
    database = await open_database(url)
    try:
        assert await database.schema_version() == len(migrations)
        assert "half_done" not in await columns(database)
    finally:
        await database.close()


async def test_a_database_newer_than_the_code_is_refused(url: DatabaseUrl) -> None:
    await (await open_database(url)).close()
    with pytest.raises(MigrationError, match="newer"):
        await open_at(url, 1)


def test_split_statements_keeps_triggers_whole_and_drops_comments() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (id INTEGER);
    CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
        UPDATE t SET id = id + 1;
        UPDATE t SET id = id - 1;
    END;
    """
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


def test_migration_file_names_must_be_numbered(tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (id INTEGER);")
    (tmp_path / "0003_third.sql").write_text("CREATE TABLE c (id INTEGER);")
    with pytest.raises(MigrationError, match="expected version 0002"):
        load_migrations(tmp_path)
