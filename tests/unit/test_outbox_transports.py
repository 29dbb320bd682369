"""Each transport drains its own outbox kinds: a mail server that hangs never delays Telegram."""

from __future__ import annotations

import asyncio

from core.models import Notification, NotificationKind
from core.outbox import OutboxDispatcher
from tests.fakes import FakeClock, FakeUnitOfWorkFactory


async def test_a_hanging_email_sender_does_not_hold_up_telegram_rows() -> None:
    db, clock = FakeUnitOfWorkFactory(), FakeClock()
    async with db() as uow:
        for kind in (NotificationKind.EMAIL_STATUS, NotificationKind.STATUS_CHANGED):
            await uow.outbox.add(Notification(chat_id=1, kind=kind, created_at=clock.now()))
        await uow.commit()
    hanging = asyncio.Event()
    sent: list[NotificationKind] = []

    async def send_email(_: Notification) -> None:
        await hanging.wait()  # an SMTP server that never answers

    async def send_telegram(row: Notification) -> int:
        sent.append(row.kind)
        return 1

    email = OutboxDispatcher(
        uow_factory=db, clock=clock, senders={NotificationKind.EMAIL_STATUS: send_email}
    )
    telegram = OutboxDispatcher(
        uow_factory=db, clock=clock, senders={NotificationKind.STATUS_CHANGED: send_telegram}
    )
    stuck = asyncio.create_task(email.drain())
    await asyncio.sleep(0)
    assert await asyncio.wait_for(telegram.drain(), 1.0) == 1
    assert sent == [NotificationKind.STATUS_CHANGED]
    hanging.set()
    assert await stuck == 1
    assert NotificationKind.EMAIL_STATUS.audience.value == "email"
