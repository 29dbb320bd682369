"""The outbox sender's ordering: a row waiting for its retry holds back the later rows of its
lane (audience and chat) across drains, and nobody else's."""

from __future__ import annotations

from datetime import timedelta

from core.models import Notification, NotificationKind
from core.outbox import OutboxDispatcher
from tests.fakes import FakeClock, FakeUnitOfWorkFactory


class FlakySender:
    """Fails the first `failures` sends of row `flaky`; records the order of the others."""

    def __init__(self, flaky: int, failures: int = 1) -> None:
        self.flaky = flaky
        self.failures = failures
        self.sent: list[int] = []

    async def __call__(self, notification: Notification) -> int | None:
        assert notification.id is not None
        if notification.id == self.flaky and self.failures:
            self.failures -= 1
            raise RuntimeError("502 Bad Gateway")
        self.sent.append(notification.id)
        return None


async def add(db: FakeUnitOfWorkFactory, chat_id: int) -> int:
    row = Notification(chat_id=chat_id, kind=NotificationKind.STATUS_CHANGED)
    async with db() as uow:
        await uow.outbox.add(row)
        await uow.commit()
    assert row.id is not None
    return row.id


async def test_a_postponed_row_holds_back_later_rows_of_its_chat_across_drains() -> None:
    db, clock = FakeUnitOfWorkFactory(), FakeClock()
    first = await add(db, chat_id=1)
    sender = FlakySender(flaky=first)
    outbox = OutboxDispatcher(
        uow_factory=db, clock=clock, senders={NotificationKind.STATUS_CHANGED: sender}
    )
    assert await outbox.drain() == 0  # the first push fails and waits for its retry
    second, third = await add(db, chat_id=1), await add(db, chat_id=1)
    elsewhere = await add(db, chat_id=2)
    assert await outbox.drain() == 1  # only the other chat's row: chat 1's wait in line
    assert sender.sent == [elsewhere]
    clock.advance(timedelta(seconds=3))  # the retry is due
    assert await outbox.drain() == 3
    assert sender.sent == [elsewhere, first, second, third]


async def test_a_chat_at_its_rate_limit_waits_without_holding_up_the_others() -> None:
    db, clock = FakeUnitOfWorkFactory(), FakeClock()
    busy_first, free = await add(db, chat_id=1), await add(db, chat_id=2)
    busy_second = await add(db, chat_id=1)
    sender = FlakySender(flaky=0, failures=0)
    busy = {1}
    outbox = OutboxDispatcher(
        uow_factory=db,
        clock=clock,
        senders={NotificationKind.STATUS_CHANGED: sender},
        ready=lambda row: row.chat_id not in busy,
    )
    assert await outbox.drain() == 1
    assert sender.sent == [free]
    busy.clear()  # its budget came back
    assert await outbox.drain() == 2
    assert sender.sent == [free, busy_first, busy_second]
