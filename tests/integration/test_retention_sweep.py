"""The retention sweep on the real storage (SQLite dialogs, the encrypted vault on disk), its
clock moved by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.dialogs.drafts import StoredDialogs
from core.delivery_methods import ProcessingTimings
from core.models import Citizen, DestroyedData
from core.restoration import RestorationService
from core.retention import DataRetention, RetentionPeriods
from storage.database import Database
from storage.fsm import SqlFsmStorage
from storage.keys import load_data_keys
from storage.unit_of_work import SqlUnitOfWorkFactory
from storage.vault import DiskFileVault
from tests.fakes import FakeClock, FakeRegister

DAY = timedelta(days=1)
PERIODS = RetentionPeriods(draft=7 * DAY, application=1095 * DAY, file_grace=timedelta(hours=1))
TIMINGS = ProcessingTimings(*(timedelta(seconds=1),) * 5)
PHONE = "+79990000777"


@dataclass
class Storage:
    clock: FakeClock
    db: Database
    fsm: SqlFsmStorage
    vault: DiskFileVault
    retention: DataRetention
    uow_factory: SqlUnitOfWorkFactory

    def key(self, user_id: int) -> StorageKey:
        return StorageKey(bot_id=1, chat_id=user_id, user_id=user_id)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    # File times are real; the clock starts at the real time and moves on from there.
    clock = FakeClock(datetime.now(UTC))
    db = await Database.open(tmp_path / "bot.sqlite3")
    fsm = SqlFsmStorage(db, clock=clock)
    vault = DiskFileVault(tmp_path / "files", load_data_keys(None, tmp_path / "data.key"))
    uow_factory = SqlUnitOfWorkFactory(db)
    restoration = RestorationService(
        uow_factory=uow_factory, register=FakeRegister(), clock=clock, timings=TIMINGS, vault=vault
    )
    retention = DataRetention(
        uow_factory=uow_factory,
        restoration=restoration,
        vault=vault,
        dialogs=StoredDialogs(fsm),
        clock=clock,
        periods=PERIODS,
        freed_space=db,
    )
    yield Storage(clock, db, fsm, vault, retention, uow_factory)
    await db.close()


async def destroyed(storage: Storage) -> dict[DestroyedData, int]:
    async with storage.uow_factory() as uow:
        rows = await uow.destructions.history()
    totals: dict[DestroyedData, int] = {}
    for row in rows:
        totals[row.what] = totals.get(row.what, 0) + row.count
    return totals


async def test_the_sweep_removes_abandoned_dialogs_stray_and_temporary_files(
    storage: Storage,
) -> None:
    draft_scan = await storage.vault.put(b"abandoned draft's passport photo", ".jpg")
    await storage.fsm.set_data(
        storage.key(1), {"scan_name": draft_scan.name, "passport_number": "123456"}
    )
    await storage.fsm.set_state(storage.key(1), "Restoration:delivery")
    orphan = await storage.vault.put(b"stored, then the process died", ".jpg")
    temporary = storage.vault.root / ".incoming-k3j_x9a1.tmp"
    temporary.write_bytes(b"half a file")
    foreign = storage.vault.root / "README.txt"
    foreign.write_text("not the vault's")
    storage.clock.advance(6 * DAY)
    kept_scan = await storage.vault.put(b"a recent dialog's photo", ".jpg")
    await storage.fsm.set_data(storage.key(2), {"scan_name": kept_scan.name})

    storage.clock.advance(DAY + timedelta(minutes=1))
    report = await storage.retention.sweep()

    assert (report.dialogs, report.dialog_scans, report.orphans, report.temporary) == (1, 1, 1, 1)
    assert await storage.fsm.get_state(storage.key(1)) is None
    assert await storage.fsm.get_data(storage.key(1)) == {}
    assert await storage.fsm.get_data(storage.key(2)) == {"scan_name": kept_scan.name}
    names = {p.name for p in storage.vault.root.iterdir()}
    assert names == {kept_scan.name, "README.txt"}
    assert draft_scan.name not in names and orphan.name not in names
    assert await destroyed(storage) == {
        DestroyedData.DIALOG: 1,
        DestroyedData.ORPHAN_FILE: 1,
        DestroyedData.TEMPORARY_FILE: 1,
    }
    # A second run finds nothing more.
    assert (await storage.retention.sweep()).total == 0


async def test_young_files_are_left_to_the_upload_saving_them(storage: Storage) -> None:
    young = await storage.vault.put(b"just stored; the dialog is saved next", ".jpg")
    (storage.vault.root / ".incoming-fresh01.tmp").write_bytes(b"being written")
    storage.clock.advance(timedelta(minutes=59))
    report = await storage.retention.sweep()
    assert (report.orphans, report.temporary) == (0, 0)
    assert {p.name for p in storage.vault.root.iterdir()} == {young.name, ".incoming-fresh01.tmp"}


async def test_a_dialog_written_after_it_was_found_idle_stays(storage: Storage) -> None:
    await storage.fsm.set_data(storage.key(1), {"locale": "ru"})
    storage.clock.advance(8 * DAY)
    dialogs = StoredDialogs(storage.fsm)
    (record,) = await dialogs.idle(storage.clock.now() - PERIODS.draft)
    await storage.fsm.update_data(storage.key(1), {"enp": "0040106028104484"})  # back meanwhile
    assert not await dialogs.discard(record)
    assert await storage.fsm.get_data(storage.key(1)) == {"locale": "ru", "enp": "0040106028104484"}


async def test_erased_rows_leave_nothing_readable_in_the_database_files(
    storage: Storage, tmp_path: Path
) -> None:
    async with storage.uow_factory() as uow:
        await uow.citizens.save(Citizen(7, "ru", phone=PHONE, email="erase.me@example.org"))
        await uow.commit()
    await storage.fsm.set_data(storage.key(7), {"address": "Zabytaya ulitsa 17"})

    erasure = await storage.retention.erase_citizen(7)

    assert erasure.found
    files = [tmp_path / "bot.sqlite3", tmp_path / "bot.sqlite3-wal"]
    assert files[1].stat().st_size == 0  # the log was folded in and truncated
    for path in files:
        content = path.read_bytes()
        for secret in (PHONE, "erase.me@example.org", "Zabytaya"):
            assert secret.encode() not in content, (path.name, secret)
