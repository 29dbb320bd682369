"""Several bot processes on one database (two pools here, as two processes would have): the
outbox and the background processing never act twice on the same row.

On PostgreSQL they really run at once (SKIP LOCKED claims, row locks on re-checks); on SQLite the
file's write lock serialises them, and the same assertions hold.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from core.delivery_methods import ProcessingTimings
from core.models import ApplicationStatus, Notification, NotificationKind
from core.outbox import OutboxDispatcher, Sender
from core.restoration import RestorationService
from storage.engines import open_database, parse_database_url
from storage.register import InMemoryRegister
from storage.sql import SqlDatabase
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import FakeClock
from tests.integration.test_repositories import make_draft

WORKERS = 2


async def processes(url: str) -> list[SqlDatabase]:
    return [await open_database(parse_database_url(url)) for _ in range(WORKERS)]


async def test_workers_draining_the_outbox_at_once_send_each_row_once(database_url: str) -> None:
    databases = await processes(database_url)
    clock = FakeClock()
    sent: Counter[int] = Counter()
    order: list[int] = []

    async def send(notification: Notification) -> int:
        assert notification.id is not None
        await asyncio.sleep(0.001)  # a network call: the other worker runs meanwhile
        sent[notification.id] += 1
        order.append(notification.id)
        return notification.id

    senders: dict[NotificationKind, Sender] = {kind: send for kind in NotificationKind}
    dispatchers = [
        OutboxDispatcher(uow_factory=SqlUnitOfWorkFactory(db), clock=clock, senders=senders)
        for db in databases
    ]
    try:
        async with SqlUnitOfWorkFactory(databases[0])() as uow:
            for i in range(60):
                kind = NotificationKind.STATUS_CHANGED
                await uow.outbox.add(Notification(chat_id=100 + i % 7, kind=kind))
            await uow.commit()

        # A chat's rows held by one worker hold back that chat's later rows for the other (they
        # stay in order), so the two share the work by chat, not row by row.
        for _ in range(20):
            await asyncio.gather(*(d.drain(limit=10) for d in dispatchers))
            if len(sent) == 60:
                break

        assert len(sent) == 60
        assert set(sent.values()) == {1}
        for chat in range(100, 107):
            of_chat = [i for i in order if (i - 1) % 7 == chat - 100]
            assert of_chat == sorted(of_chat)
        async with SqlUnitOfWorkFactory(databases[1])() as uow:
            assert await uow.outbox.due(clock.now() + timedelta(hours=1), limit=100) == []
    finally:
        for db in databases:
            await db.close()


async def test_workers_processing_due_applications_at_once_move_each_once(
    database_url: str,
) -> None:
    databases = await processes(database_url)
    clock = FakeClock()
    services = [
        RestorationService(
            uow_factory=SqlUnitOfWorkFactory(db),
            register=InMemoryRegister([]),
            clock=clock,
            timings=ProcessingTimings(check_delay=timedelta(seconds=1)),
        )
        for db in databases
    ]
    try:
        submitted = [await services[0].submit(make_draft(f"k{i}", user_id=i)) for i in range(20)]
        clock.advance(timedelta(seconds=1))  # all due; the next step only a second later

        moved = await asyncio.gather(*(s.process_due(limit=50) for s in services))

        assert sum(moved) == 20  # each application moved by exactly one worker
        async with SqlUnitOfWorkFactory(databases[0])(read_only=True) as uow:
            for application in submitted:
                history = await uow.audit.history(application.id)
                assert [c.to_status for c in history] == [
                    ApplicationStatus.SUBMITTED,
                    ApplicationStatus.PROCESSING,
                ]
    finally:
        for db in databases:
            await db.close()
