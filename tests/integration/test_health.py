"""/healthz's storage side on each engine: the outbox backlog and how long its oldest row waits."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.models import Notification, NotificationKind
from storage.health import OutboxBacklog, SqlHealthProbe
from storage.sql import SqlDatabase
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import FakeClock


async def add(database: SqlDatabase, *notes: Notification) -> list[int]:
    async with SqlUnitOfWorkFactory(database)() as uow:
        for note in notes:
            await uow.outbox.add(note)
        await uow.commit()
    return [n.id for n in notes if n.id is not None]


def note(not_before: datetime | None = None, created_at: datetime | None = None) -> Notification:
    return Notification(
        chat_id=42,
        kind=NotificationKind.STATUS_CHANGED,
        not_before=not_before,
        created_at=created_at,
    )


async def test_an_empty_outbox_has_no_backlog(database: SqlDatabase) -> None:
    assert await SqlHealthProbe(database, FakeClock()).outbox_backlog() == OutboxBacklog(0, 0.0)


async def test_lag_counts_from_the_oldest_due_not_before(database: SqlDatabase) -> None:
    clock = FakeClock()
    now = clock.now()
    await add(
        database,
        note(not_before=now - timedelta(seconds=30)),
        note(not_before=now - timedelta(seconds=5)),
        note(not_before=now + timedelta(minutes=5)),  # postponed: pending, not late yet
    )
    backlog = await SqlHealthProbe(database, clock).outbox_backlog()
    assert backlog == OutboxBacklog(pending=3, lag_seconds=30.0)


async def test_sent_and_failed_rows_are_not_pending(database: SqlDatabase) -> None:
    clock = FakeClock()
    sent, failed, _ = await add(database, note(), note(), note(not_before=clock.now()))
    async with SqlUnitOfWorkFactory(database)() as uow:
        await uow.outbox.mark_sent(sent, at=clock.now(), message_id=1)
        await uow.outbox.mark_failed(failed, "forbidden", at=clock.now())
        await uow.commit()
    assert (await SqlHealthProbe(database, clock).outbox_backlog()).pending == 1


async def test_rows_due_at_once_lag_from_when_they_were_queued(database: SqlDatabase) -> None:
    clock = FakeClock()
    probe = SqlHealthProbe(database, clock)
    first, *_ = await add(
        database,
        note(created_at=clock.now() - timedelta(seconds=90)),
        note(created_at=clock.now() - timedelta(seconds=10)),
        note(not_before=clock.now() - timedelta(seconds=3)),
    )
    assert await probe.outbox_backlog() == OutboxBacklog(3, 90.0)
    async with SqlUnitOfWorkFactory(database)() as uow:
        await uow.outbox.mark_sent(first, at=clock.now(), message_id=1)
        await uow.commit()
    assert await probe.outbox_backlog() == OutboxBacklog(2, 10.0)
