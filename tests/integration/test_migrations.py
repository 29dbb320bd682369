import sqlite3
from pathlib import Path

import pytest

from storage.database import (
    Database,
    Migration,
    MigrationError,
    load_migrations,
    split_statements,
)

MIGRATIONS = load_migrations()
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


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows} - {"sqlite_sequence"}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA user_version").fetchone()[0]


def test_migration_files_are_numbered_without_gaps() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert len(MIGRATIONS) >= 2


async def test_empty_database_gets_the_whole_schema(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        assert await db.schema_version() == len(MIGRATIONS)
        async with db.acquire() as connection:
            async with connection.execute("PRAGMA journal_mode") as cursor:
                assert (await cursor.fetchone())[0] == "wal"
            async with connection.execute("PRAGMA foreign_keys") as cursor:
                assert (await cursor.fetchone())[0] == 1
            async with connection.execute("PRAGMA synchronous") as cursor:
                assert (await cursor.fetchone())[0] == 1  # NORMAL
            async with connection.execute("PRAGMA busy_timeout") as cursor:
                assert (await cursor.fetchone())[0] > 0
    finally:
        await db.close()
    assert tables(db_path) == EXPECTED_TABLES


async def test_reopening_an_up_to_date_database_changes_nothing_and_keeps_data(
    db_path: Path,
) -> None:
    db = await Database.open(db_path)
    async with db.transaction() as connection:
        await connection.execute("INSERT INTO citizens (user_id, locale) VALUES (1, 'ru')")
    await db.close()

    db = await Database.open(db_path)
    try:
        assert await db.schema_version() == len(MIGRATIONS)
        async with db.acquire() as connection:
            async with connection.execute("SELECT user_id FROM citizens") as cursor:
                assert [tuple(row) for row in await cursor.fetchall()] == [(1,)]
    finally:
        await db.close()


async def test_database_at_an_older_version_gets_only_the_missing_migrations(
    db_path: Path,
) -> None:
    db = await Database.open(db_path, migrations=MIGRATIONS[:1])
    async with db.transaction() as connection:
        await connection.execute("INSERT INTO citizens (user_id, locale) VALUES (7, 'en')")
    await db.close()
    assert user_version(db_path) == 1
    assert "fsm_state" not in tables(db_path)

    db = await Database.open(db_path)
    await db.close()
    assert user_version(db_path) == len(MIGRATIONS)
    assert tables(db_path) == EXPECTED_TABLES
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("SELECT user_id FROM citizens").fetchall() == [(7,)]


async def test_a_failing_migration_is_rolled_back_whole_and_the_version_stays(
    db_path: Path,
) -> None:
    broken = Migration(
        version=len(MIGRATIONS) + 1,
        name="9999_broken.sql",
        statements=("CREATE TABLE half_done (id INTEGER)", "INSERT INTO no_such_table VALUES (1)"),
    )
    with pytest.raises(sqlite3.OperationalError):
        await Database.open(db_path, migrations=[*MIGRATIONS, broken])
    assert user_version(db_path) == len(MIGRATIONS)
    assert "half_done" not in tables(db_path)


async def test_a_database_newer_than_the_code_is_refused(db_path: Path) -> None:
    db = await Database.open(db_path)
    await db.close()
    with pytest.raises(MigrationError, match="newer"):
        await Database.open(db_path, migrations=MIGRATIONS[:1])


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
