"""What only a real unit of work can show, on each engine: atomicity with the service,
isolation, cancellation; and SQLite's one writing connection."""

import asyncio
from datetime import UTC, datetime

import pytest
from aiogram.fsm.storage.base import StorageKey

from core.delivery_methods import ProcessingTimings
from core.models import ApplicationStatus, Citizen, Notification, NotificationKind, StatusChange
from core.restoration import RestorationService
from core.workflow import SYSTEM_ACTOR
from storage.database import Database
from storage.engines import open_database, parse_database_url
from storage.fsm import SqlFsmStorage
from storage.register import InMemoryRegister
from storage.repositories import SqlAuditTrail
from storage.sql import SqlDatabase
from storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.fakes import FakeClock
from tests.integration.test_repositories import make_draft

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class AuditDiskFull(Exception):
    pass


async def test_status_change_and_its_audit_row_are_written_together_or_not_at_all(
    database: SqlDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = SqlUnitOfWorkFactory(database)
    service = RestorationService(
        uow_factory=factory,
        register=InMemoryRegister([]),
        clock=FakeClock(NOW),
        timings=ProcessingTimings(),
    )
    application = await service.submit(make_draft())

    # The service updates the application first, then records the audit row: fail in between.
    async def failing_record(self: SqlAuditTrail, change: StatusChange) -> None:
        raise AuditDiskFull

    with monkeypatch.context() as patch:
        patch.setattr(SqlAuditTrail, "record", failing_record)
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


async def test_sqlite_units_of_work_run_one_at_a_time(db: Database) -> None:
    factory = SqlUnitOfWorkFactory(db)
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


async def test_another_process_sees_only_committed_data(
    database: SqlDatabase, database_url: str
) -> None:
    other = await open_database(parse_database_url(database_url))  # as another process would
    try:
        async with SqlUnitOfWork(database) as uow:
            await uow.citizens.save(Citizen(user_id=5, locale="ru"))
            async with other.connect() as session:
                assert await session.fetch_value("SELECT count(*) FROM citizens") == 0
            await uow.commit()
        async with SqlUnitOfWork(other) as uow:
            assert await uow.citizens.get(5) == Citizen(user_id=5, locale="ru")
    finally:
        await other.close()


async def test_sqlite_fsm_storage_inside_an_open_unit_of_work_fails_fast_instead_of_hanging(
    db: Database,
) -> None:
    fsm = SqlFsmStorage(db)
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    async with SqlUnitOfWork(db):
        # asyncio.timeout, not wait_for: the call must run in this very task.
        with pytest.raises(RuntimeError, match="already held"):
            async with asyncio.timeout(1):
                await fsm.get_state(key)
    assert await fsm.get_state(key) is None


async def test_a_cancelled_unit_of_work_rolls_back_and_frees_the_database(
    database: SqlDatabase,
) -> None:
    factory = SqlUnitOfWorkFactory(database)
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


async def test_using_repositories_outside_the_block_is_refused(database: SqlDatabase) -> None:
    uow = SqlUnitOfWork(database)
    with pytest.raises(RuntimeError):
        await uow.commit()
    async with uow:
        pass
    with pytest.raises(RuntimeError):
        await uow.commit()


async def test_only_a_commit_that_queued_outbox_rows_wakes_the_sender(
    database: SqlDatabase,
) -> None:
    factory = SqlUnitOfWorkFactory(database)
    wakes: list[str] = []
    factory.after_outbox_commit = lambda: wakes.append("wake")
    async with factory() as uow:
        await uow.citizens.save(Citizen(user_id=1, locale="ru"))
        await uow.commit()
        assert wakes == []
        await uow.outbox.add(Notification(chat_id=1, kind=NotificationKind.STATUS_CHANGED))
        assert wakes == []  # not before the row is committed
        await uow.commit()
    assert wakes == ["wake"]
    async with factory() as uow:
        await uow.outbox.add(Notification(chat_id=1, kind=NotificationKind.STATUS_CHANGED))
        await uow.rollback()
        await uow.commit()
    assert wakes == ["wake"]


async def test_a_read_only_unit_of_work_cannot_write(database: SqlDatabase) -> None:
    async with SqlUnitOfWork(database, read_only=True) as uow:
        with pytest.raises(Exception, match=r"(?i)read-?only"):  # the engine's own error
            await uow.citizens.save(Citizen(user_id=1, locale="ru"))
    async with SqlUnitOfWork(database, read_only=True) as uow:
        assert await uow.citizens.get(1) is None


async def test_writes_after_a_commit_or_rollback_are_a_new_transaction(
    database: SqlDatabase,
) -> None:
    factory = SqlUnitOfWorkFactory(database)
    async with factory() as uow:
        await uow.citizens.save(Citizen(user_id=1, locale="ru"))
        await uow.commit()
        await uow.citizens.save(Citizen(user_id=2, locale="ru"))
        await uow.rollback()
        await uow.citizens.save(Citizen(user_id=3, locale="ru"))
        await uow.commit()
        await uow.commit()  # nothing written since: a no-op
        await uow.citizens.save(Citizen(user_id=4, locale="ru"))  # left uncommitted
    async with factory(read_only=True) as uow:
        stored = [await uow.citizens.get(user_id) for user_id in (1, 2, 3, 4)]
    assert [citizen is not None for citizen in stored] == [True, False, True, False]
