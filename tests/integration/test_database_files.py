"""The database file and its -wal/-shm are the owner's only, whatever the umask says."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.database import Database


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
async def test_database_wal_and_shm_are_0600(db_path: Path) -> None:
    database = await Database.open(db_path)
    try:
        async with database.transaction() as connection:
            await connection.execute("CREATE TABLE t (x)")  # a write: the WAL file exists
        files = [db_path.with_name(db_path.name + s) for s in ("", "-wal", "-shm")]
        assert [f.name for f in files if f.exists()] == [f.name for f in files]
        assert [mode(f) for f in files] == [0o600] * 3
    finally:
        await database.close()


@pytest.mark.usefixtures("permissive_umask")
async def test_files_left_readable_by_an_older_version_are_made_private(db_path: Path) -> None:
    await (await Database.open(db_path)).close()
    os.chmod(db_path, 0o644)
    database = await Database.open(db_path)
    await database.close()
    assert mode(db_path) == 0o600
