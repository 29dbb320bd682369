"""What only a real SQLite unit of work can show: atomicity with the service, locking, isolation."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from core.delivery_methods import ProcessingTimings
from core.models import ApplicationStatus, Citizen, StatusChange
from core.restoration import RestorationService
from core.workflow import SYSTEM_ACTOR
from storage.database import Database
from storage.fsm import SqliteFsmStorage
from storage.register import InMemoryRegister
from storage.repositories import SqliteAuditTrail
from storage.unit_of_work import SqliteUnitOfWork, SqliteUnitOfWorkFactory
from tests.fakes import FakeClock
from tests.integration.test_repositories import make_draft

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class AuditDiskFull(Exception):
    pass


async def test_status_change_and_its_audit_row_are_written_together_or_not_at_all(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = SqliteUnitOfWorkFactory(db)
    service = RestorationService(
        uow_factory=factory,
        register=InMemoryRegister([]),
        clock=FakeClock(NOW),
        timings=ProcessingTimings(),
    )
    application = await service.submit(make_draft())

    # The service updates the application first, then records the audit row: fail in between.
    async def failing_record(self: SqliteAuditTrail, change: StatusChange) -> None:
        raise AuditDiskFull

    with monkeypatch.context() as patch:
        patch.setattr(SqliteAuditTrail, "record", failing_record)
        with pytest.raises(AuditDiskFull):
            await service.change_status(
                application.id, ApplicationStatus.PROCESSING, actor=SYSTEM_ACTOR
            )

    async with factory() as uow:
        stored = await uow.applications.get(application.id)
        history = await uow.audit.history(application.id)
        pending = await uow.outbox.due(NOW, limit=10)
    assert stored is not None and stored.status is ApplicationStatus.SUBMITTED
    assert [c.to_status for c in history] == [ApplicationStatus.SUBMITTED]
    assert pending == []  # none for the failed change (a submit is announced by its reply)

    # Without the failure the same call writes all three.
    await service.change_status(application.id, ApplicationStatus.PROCESSING, actor=SYSTEM_ACTOR)
    async with factory() as uow:
        stored = await uow.applications.get(application.id)
        history = await uow.audit.history(application.id)
        pending = await uow.outbox.due(NOW, limit=10)
    assert stored is not None and stored.status is ApplicationStatus.PROCESSING
    assert [c.to_status for c in history] == [
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.PROCESSING,
    ]
    assert len(pending) == 1


async def test_units_of_work_run_one_at_a_time(db: Database) -> None:
    factory = SqliteUnitOfWorkFactory(db)
    events: list[str] = []
    first_inside = asyncio.Event()

    async def first() -> None:
        async with factory() as uow:
            events.append("first in")
            first_inside.set()
            await asyncio.sleep(0.05)
            await uow.citizens.save(Citizen(user_id=1, locale="ru"))
            await uow.commit()
            events.append("first out")

    async def second() -> None:
        await first_inside.wait()
        async with factory() as uow:
            events.append("second in")
            # It sees the first one's committed write.
            assert await uow.citizens.get(1) is not None

    await asyncio.gather(first(), second())
    assert events == ["first in", "first out", "second in"]


async def test_another_connection_sees_only_committed_data(db: Database, db_path: Path) -> None:
    other = await Database.open(db_path)  # as another process would
    try:
        async with SqliteUnitOfWork(db) as uow:
            await uow.citizens.save(Citizen(user_id=5, locale="ru"))
            async with other.acquire() as connection:
                async with connection.execute("SELECT count(*) FROM citizens") as cursor:
                    assert (await cursor.fetchone())[0] == 0
            await uow.commit()
        async with SqliteUnitOfWork(other) as uow:
            assert await uow.citizens.get(5) == Citizen(user_id=5, locale="ru")
    finally:
        await other.close()


async def test_fsm_storage_inside_an_open_unit_of_work_fails_fast_instead_of_hanging(
    db: Database,
) -> None:
    fsm = SqliteFsmStorage(db)
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    async with SqliteUnitOfWork(db):
        # asyncio.timeout, not wait_for: the call must run in this very task.
        with pytest.raises(RuntimeError, match="already held"):
            async with asyncio.timeout(1):
                await fsm.get_state(key)
    assert await fsm.get_state(key) is None


async def test_a_cancelled_unit_of_work_rolls_back_and_frees_the_database(db: Database) -> None:
    factory = SqliteUnitOfWorkFactory(db)
    inside = asyncio.Event()

    async def stuck() -> None:
        async with factory() as uow:
            await uow.citizens.save(Citizen(user_id=9, locale="ru"))
            inside.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(1):
        async with factory() as uow:
            assert await uow.citizens.get(9) is None


async def test_using_repositories_outside_the_block_is_refused(db: Database) -> None:
    uow = SqliteUnitOfWork(db)
    with pytest.raises(RuntimeError):
        await uow.commit()
    async with uow:
        pass
    with pytest.raises(RuntimeError):
        await uow.commit()
