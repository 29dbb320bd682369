"""The outbox dispatcher: each row by its kind's sender, each failure kept to its own row; a
row waiting for its retry holds back the later rows of its lane across drains."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import DeliveryFailed, RecipientUnreachable
from core.models import Citizen, Notification, NotificationKind
from core.outbox import OutboxDispatcher, RetryPolicy, Sender
from tests.fakes import FakeClock, FakeUnitOfWorkFactory, OutboxState

K = NotificationKind


class Senders:
    """Records what was sent; a chat (or kind) can be made to fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[K, int]] = []
        self.failing: dict[tuple[K | None, int], Exception] = {}

    def fail(self, chat_id: int, error: Exception, kind: K | None = None) -> None:
        self.failing[(kind, chat_id)] = error

    def table(self) -> dict[K, Sender]:
        return {kind: self._sender(kind) for kind in K}

    def _sender(self, kind: K) -> Sender:
        async def send(notification: Notification) -> int | None:
            error = self.failing.get((kind, notification.chat_id)) or self.failing.get(
                (None, notification.chat_id)
            )
            if error is not None:
                raise error
            self.sent.append((kind, notification.chat_id))
            return 1000 + len(self.sent)

        return send


class Env:
    def __init__(self, *, max_attempts: int = 3) -> None:
        self.clock = FakeClock()
        self.db = FakeUnitOfWorkFactory()
        self.senders = Senders()
        self.outbox = OutboxDispatcher(
            uow_factory=self.db,
            clock=self.clock,
            senders=self.senders.table(),
            retry=RetryPolicy(max_attempts=max_attempts, first_backoff=timedelta(seconds=2)),
            payload_retention=timedelta(days=7),
        )

    async def queue(self, *rows: tuple[K, int]) -> None:
        async with self.db() as uow:
            for kind, chat_id in rows:
                await uow.outbox.add(
                    Notification(chat_id=chat_id, kind=kind, payload={"application_id": 1})
                )
            await uow.commit()

    def states(self) -> list[OutboxState]:
        return [row.state for row in self.db.outbox_rows()]


@pytest.fixture
def env() -> Env:
    return Env()


async def test_each_kind_goes_to_its_own_sender_and_the_message_id_is_kept(env: Env) -> None:
    await env.queue((K.STATUS_CHANGED, 1), (K.DESK_CARD, 1), (K.POLICY_DOCUMENT, 2))

    assert await env.outbox.drain() == 3

    assert env.senders.sent == [(K.STATUS_CHANGED, 1), (K.DESK_CARD, 1), (K.POLICY_DOCUMENT, 2)]
    rows = env.db.outbox_rows()
    assert [r.state for r in rows] == [OutboxState.SENT] * 3
    assert [r.message_id for r in rows] == [1001, 1002, 1003]
    assert await env.outbox.drain() == 0  # nothing is sent twice


@pytest.mark.parametrize(
    "error",
    [DeliveryFailed("5xx"), RuntimeError("a bug"), LookupError("gone"), TimeoutError()],
    ids=["delivery-failed", "any-bug", "lookup", "timeout"],
)
async def test_any_failure_postpones_only_its_row_and_holds_back_only_its_chat(
    env: Env, error: Exception
) -> None:
    await env.queue((K.STATUS_CHANGED, 1), (K.STATUS_CHANGED, 1), (K.STATUS_CHANGED, 2))
    env.senders.fail(1, error)

    assert await env.outbox.drain() == 1

    assert env.senders.sent == [(K.STATUS_CHANGED, 2)]
    first, second, other = env.db.outbox_rows()
    assert first.state is OutboxState.PENDING and first.notification.attempts == 1
    assert first.notification.not_before == env.clock.now() + timedelta(seconds=2)
    assert second.notification.attempts == 0  # held back, in order, not tried
    assert other.state is OutboxState.SENT


async def test_a_failing_desk_row_never_holds_up_the_citizens_own_push(env: Env) -> None:
    await env.queue((K.DESK_CARD, 1), (K.STATUS_CHANGED, 1), (K.DESK_NOTE, 1))
    env.senders.fail(1, DeliveryFailed("support chat down"), kind=K.DESK_CARD)

    await env.outbox.drain()

    assert env.senders.sent == [(K.STATUS_CHANGED, 1)]  # the later desk note waits its turn
    assert env.states() == [OutboxState.PENDING, OutboxState.SENT, OutboxState.PENDING]


async def test_a_row_is_retried_with_growing_backoff_then_given_up(env: Env) -> None:
    await env.queue((K.STATUS_CHANGED, 1), (K.STATUS_CHANGED, 1))
    env.senders.fail(1, DeliveryFailed("still down"), kind=K.STATUS_CHANGED)
    waits = []
    for _ in range(3):
        await env.outbox.drain()
        [row, *_] = env.db.outbox_rows()
        if row.state is OutboxState.PENDING:
            assert row.notification.not_before is not None
            waits.append(row.notification.not_before - env.clock.now())
            env.clock.set(row.notification.not_before)

    assert waits == [timedelta(seconds=2), timedelta(seconds=4)]
    first, second = env.db.outbox_rows()
    assert first.state is OutboxState.FAILED and first.notification.attempts == 3
    assert first.error is not None and "still down" in first.error
    # Given up, it no longer holds its chat back: the next row is tried (and fails on its own).
    assert second.notification.attempts == 1


async def test_a_citizen_who_blocked_the_bot_is_given_up_at_once_and_marked(env: Env) -> None:
    async with env.db() as uow:
        await uow.citizens.save(Citizen(user_id=1, locale="ru"))
        await uow.commit()
    await env.queue((K.STATUS_CHANGED, 1), (K.STATUS_CHANGED, 2))
    env.senders.fail(1, RecipientUnreachable("Forbidden: bot was blocked by the user"))

    assert await env.outbox.drain() == 2  # one sent, one finished as failed

    assert env.states() == [OutboxState.FAILED, OutboxState.SENT]
    [citizen] = env.db.citizens()
    assert citizen.blocked_bot


async def test_a_403_from_the_support_chat_is_retried_and_never_marks_the_citizen(
    env: Env,
) -> None:
    async with env.db() as uow:
        await uow.citizens.save(Citizen(user_id=1, locale="ru"))
        await uow.commit()
    await env.queue((K.DESK_NOTE, 1))
    env.senders.fail(1, RecipientUnreachable("Forbidden: bot was kicked"), kind=K.DESK_NOTE)

    assert await env.outbox.drain() == 0

    assert env.states() == [OutboxState.PENDING]
    [citizen] = env.db.citizens()
    assert not citizen.blocked_bot


async def test_a_kind_without_a_sender_fails_its_rows_only() -> None:
    env = Env()
    env.outbox = OutboxDispatcher(
        uow_factory=env.db,
        clock=env.clock,
        senders={K.STATUS_CHANGED: env.senders.table()[K.STATUS_CHANGED]},
    )
    await env.queue((K.DESK_CARD, 1), (K.STATUS_CHANGED, 1))

    assert await env.outbox.drain() == 1

    assert env.states() == [OutboxState.PENDING, OutboxState.SENT]


async def test_payloads_of_finished_rows_are_cleared_after_retention(env: Env) -> None:
    await env.queue((K.STATUS_CHANGED, 1), (K.STATUS_CHANGED, 2))
    env.senders.fail(2, DeliveryFailed("down"))
    await env.outbox.drain()

    env.clock.advance(timedelta(days=6))
    assert await env.outbox.clear_old_payloads() == 0
    env.clock.advance(timedelta(days=2))
    assert await env.outbox.clear_old_payloads() == 1

    sent, pending = env.db.outbox_rows()
    assert sent.notification.payload == {}
    assert pending.notification.payload == {"application_id": 1}  # still to be sent


async def test_a_commit_that_queues_rows_wakes_the_sender(env: Env) -> None:
    woken = []
    env.db.after_outbox_commit = lambda: woken.append(True)

    async with env.db() as uow:
        await uow.citizens.save(Citizen(user_id=1, locale="ru"))
        await uow.commit()
    assert woken == []  # nothing queued
    await env.queue((K.STATUS_CHANGED, 1))

    assert woken == [True]


# --- order across drains, and chats at their rate limit --------------------------------------


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


async def add_row(db: FakeUnitOfWorkFactory, chat_id: int) -> int:
    row = Notification(chat_id=chat_id, kind=NotificationKind.STATUS_CHANGED)
    async with db() as uow:
        await uow.outbox.add(row)
        await uow.commit()
    assert row.id is not None
    return row.id


async def test_a_postponed_row_holds_back_later_rows_of_its_chat_across_drains() -> None:
    db, clock = FakeUnitOfWorkFactory(), FakeClock()
    first = await add_row(db, chat_id=1)
    sender = FlakySender(flaky=first)
    outbox = OutboxDispatcher(
        uow_factory=db, clock=clock, senders={NotificationKind.STATUS_CHANGED: sender}
    )
    assert await outbox.drain() == 0  # the first push fails and waits for its retry
    second, third = await add_row(db, chat_id=1), await add_row(db, chat_id=1)
    elsewhere = await add_row(db, chat_id=2)
    assert await outbox.drain() == 1  # only the other chat's row: chat 1's wait in line
    assert sender.sent == [elsewhere]
    clock.advance(timedelta(seconds=3))  # the retry is due
    assert await outbox.drain() == 3
    assert sender.sent == [elsewhere, first, second, third]


async def test_a_chat_at_its_rate_limit_waits_without_holding_up_the_others() -> None:
    db, clock = FakeUnitOfWorkFactory(), FakeClock()
    busy_first, free = await add_row(db, chat_id=1), await add_row(db, chat_id=2)
    busy_second = await add_row(db, chat_id=1)
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
