"""/healthz's storage side on real SQLite: the outbox backlog and how long its oldest row waits."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.models import Notification, NotificationKind
from storage.database import Database
from storage.health import OutboxBacklog, SqliteHealthProbe
from storage.unit_of_work import SqliteUnitOfWorkFactory
from tests.fakes import FakeClock


async def add(db: Database, *notes: Notification) -> list[int]:
    async with SqliteUnitOfWorkFactory(db)() as uow:
        for note in notes:
            await uow.outbox.add(note)
        await uow.commit()
    return [n.id for n in notes if n.id is not None]


def note(not_before: datetime | None = None) -> Notification:
    return Notification(chat_id=42, kind=NotificationKind.STATUS_CHANGED, not_before=not_before)


async def test_an_empty_outbox_has_no_backlog(db: Database) -> None:
    assert await SqliteHealthProbe(db, FakeClock()).outbox_backlog() == OutboxBacklog(0, 0.0)


async def test_lag_counts_from_the_oldest_due_not_before(db: Database) -> None:
    clock = FakeClock()
    now = clock.now()
    await add(
        db,
        note(not_before=now - timedelta(seconds=30)),
        note(not_before=now - timedelta(seconds=5)),
        note(not_before=now + timedelta(minutes=5)),  # postponed: pending, not late yet
    )
    backlog = await SqliteHealthProbe(db, clock).outbox_backlog()
    assert backlog == OutboxBacklog(pending=3, lag_seconds=30.0)


async def test_sent_and_failed_rows_are_not_pending(db: Database) -> None:
    clock = FakeClock()
    sent, failed, _ = await add(db, note(), note(), note(not_before=clock.now()))
    async with SqliteUnitOfWorkFactory(db)() as uow:
        await uow.outbox.mark_sent(sent)
        await uow.outbox.mark_failed(failed, "forbidden")
        await uow.commit()
    assert (await SqliteHealthProbe(db, clock).outbox_backlog()).pending == 1


async def test_rows_due_at_once_lag_from_when_the_probe_first_saw_them(db: Database) -> None:
    clock = FakeClock()
    probe = SqliteHealthProbe(db, clock)
    first, _ = await add(db, note(), note())
    assert await probe.outbox_backlog() == OutboxBacklog(2, 0.0)
    clock.advance(timedelta(seconds=20))
    assert await probe.outbox_backlog() == OutboxBacklog(2, 20.0)
    async with SqliteUnitOfWorkFactory(db)() as uow:
        await uow.outbox.mark_sent(first)
        await uow.commit()
    clock.advance(timedelta(seconds=1))
    assert await probe.outbox_backlog() == OutboxBacklog(1, 0.0)  # a new oldest row
    clock.advance(timedelta(seconds=4))
    assert await probe.outbox_backlog() == OutboxBacklog(1, 4.0)


async def test_rows_due_at_once_lag_from_created_at_when_the_table_has_it(db: Database) -> None:
    clock = FakeClock()
    async with db.acquire() as connection:
        await connection.execute("ALTER TABLE outbox ADD COLUMN created_at TEXT")
    await add(db, note(), note(not_before=clock.now() - timedelta(seconds=3)))
    created = clock.now() - timedelta(seconds=90)
    async with db.acquire() as connection:
        await connection.execute(
            "UPDATE outbox SET created_at = ? WHERE not_before IS NULL",
            (created.isoformat(timespec="microseconds"),),
        )
    assert await SqliteHealthProbe(db, clock).outbox_backlog() == OutboxBacklog(2, 90.0)
