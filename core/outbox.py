"""Sending the outbox: each row by its kind's sender, one row's failure kept to that row.

A sender is looked up in a table by the row's kind, so a new kind of notification (a reminder,
an email) is one entry in that table. Whatever a sender raises counts one attempt against that
row only: the row is postponed with backoff and given up after a limit, and it holds back the
later rows of its own audience and chat (so they stay in order), never anyone else's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from core.errors import RecipientUnreachable
from core.models import Audience, Notification, NotificationKind
from core.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

# Sends one row; returns the Telegram message id it became, when there is one.
Sender = Callable[[Notification], Awaitable[int | None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    first_backoff: timedelta = timedelta(seconds=2)
    max_backoff: timedelta = timedelta(minutes=5)

    def backoff(self, attempts_so_far: int) -> timedelta:
        """The wait after the (attempts_so_far + 1)-th failure: 2 s, 4 s, 8 s ... capped."""
        return min(self.max_backoff, self.first_backoff * (2**attempts_so_far))


def _lane(notification: Notification) -> tuple[Audience, int]:
    """Rows of one lane are sent in order; lanes do not wait for each other."""
    return notification.kind.audience, notification.chat_id


class OutboxDispatcher:
    """Drains due rows in order. Safe to call often: a drain already running makes it a no-op.

    It drains only the kinds it has senders for: each transport (Telegram, email) has its own
    dispatcher and loop, so a mail server that hangs for its whole timeout never delays a
    Telegram message.

    Each drain claims its rows for `claim` (Outbox.due), so several processes draining at once
    never send a row twice; rows it has not started on by half that time, or holds back, are
    given back at the end of the drain.
    """

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        senders: Mapping[NotificationKind, Sender],
        retry: RetryPolicy | None = None,
        payload_retention: timedelta = timedelta(days=7),
        ready: Callable[[Notification], bool] | None = None,
        claim: timedelta = timedelta(minutes=5),
    ) -> None:
        """`ready` tells whether a row's chat can take a message now (its rate limit): a row
        that cannot waits in its lane for a later drain instead of holding up every other
        chat's rows while the sender waits. Rows are sent one at a time all the same, so a
        crash repeats at most the one row being sent."""
        self._uow_factory = uow_factory
        self._clock = clock
        self._senders = dict(senders)
        self._retry = retry or RetryPolicy()
        self._payload_retention = payload_retention
        self._ready = ready
        self._claim = claim
        self._lock = asyncio.Lock()

    async def drain(self, limit: int = 100) -> int:
        """Send what is due; returns how many rows were delivered."""
        if self._lock.locked() or not self._senders:  # no transport (email without SMTP)
            return 0
        async with self._lock:
            now = self._clock.now()
            async with self._uow_factory() as uow:
                due = list(
                    await uow.outbox.due(
                        now, limit, self._senders.keys(), claim_until=now + self._claim
                    )
                )
                if not due:  # the idle tick: nothing claimed, nothing to hold back
                    return 0
                # Read after claiming (claims are taken one drain at a time): rows another
                # drain holds count as waiting, like rows waiting for a retry.
                waiting = await uow.outbox.postponed(now)
                await uow.commit()
            # A waiting row holds back the later rows of its lane until it has gone (or been
            # given up): after an outage, or across processes, the pushes arrive in order.
            ours = {notification.id for notification in due}
            first_waiting: dict[tuple[Audience, int], int] = {}
            for notification in waiting:
                assert notification.id is not None
                if notification.id not in ours:
                    first_waiting.setdefault(_lane(notification), notification.id)
            # A send may retry for a while: none starts so late that the claim could lapse
            # under it and another process take the row.
            start_by = now + self._claim / 2
            held: set[tuple[Audience, int]] = set()
            unsent: list[Notification] = []
            delivered = 0
            for notification in due:
                assert notification.id is not None
                lane = _lane(notification)
                if (
                    lane in held
                    or notification.id > first_waiting.get(lane, notification.id)
                    or self._clock.now() >= start_by
                ):
                    unsent.append(notification)
                    continue
                if self._ready is not None and not self._ready(notification):
                    held.add(lane)  # its chat's rate limit: next drain, still in order
                    unsent.append(notification)
                    continue
                if await self._deliver(notification):
                    delivered += 1
                else:
                    held.add(lane)
            if unsent:
                async with self._uow_factory() as uow:
                    for notification in unsent:
                        await uow.outbox.release(notification)
                    await uow.commit()
            return delivered

    async def release_claims(self) -> int:
        """At the start of the one active sender: rows claimed by a process that is gone (killed
        mid-drain) are due again now, not when their claim runs out."""
        async with self._uow_factory() as uow:
            released = await uow.outbox.release_claims()
            await uow.commit()
        if released:
            log.info("outbox: %s rows claimed by a stopped sender are due again", released)
        return released

    async def clear_old_payloads(self) -> int:
        """Delivered and given-up rows keep their outcome but lose their payload after the
        retention period: the outbox is a queue, not an archive."""
        async with self._uow_factory() as uow:
            cleared = await uow.outbox.clear_payloads(self._clock.now() - self._payload_retention)
            await uow.commit()
        return cleared

    async def _deliver(self, notification: Notification) -> bool:
        """True when the row is finished (sent, or given up for good); False when it waits."""
        assert notification.id is not None
        sender = self._senders.get(notification.kind)
        try:
            if sender is None:
                raise LookupError(f"no sender for {notification.kind.value}")
            message_id = await sender(notification)
        except RecipientUnreachable as error:
            if notification.kind.audience is Audience.CITIZEN:
                await self._citizen_gone(notification, error)
                return True
            return await self._failed(notification, error)
        except Exception as error:  # any failure stays with its row
            return await self._failed(notification, error)
        async with self._uow_factory() as uow:
            await uow.outbox.mark_sent(notification.id, at=self._clock.now(), message_id=message_id)
            await uow.commit()
        return True

    async def _failed(self, notification: Notification, error: Exception) -> bool:
        assert notification.id is not None
        # The type and Telegram's description only: no payload, no personal data.
        reason = f"{type(error).__name__}: {error}"[:300]
        attempts = notification.attempts + 1
        async with self._uow_factory() as uow:
            if attempts >= self._retry.max_attempts:
                log.error(
                    "outbox row %s (%s) given up after %s attempts: %s",
                    notification.id,
                    notification.kind.value,
                    attempts,
                    type(error).__name__,
                )
                await uow.outbox.mark_failed(notification.id, reason, at=self._clock.now())
                await uow.commit()
                return True
            log.warning(
                "outbox row %s (%s) attempt %s failed: %s",
                notification.id,
                notification.kind.value,
                attempts,
                type(error).__name__,
            )
            retry_at = self._clock.now() + self._retry.backoff(notification.attempts)
            await uow.outbox.postpone(notification.id, retry_at, reason)
            await uow.commit()
        return False

    async def _citizen_gone(self, notification: Notification, error: Exception) -> None:
        """The citizen blocked the bot: this row is given up and the profile says so."""
        assert notification.id is not None
        async with self._uow_factory() as uow:
            await uow.outbox.mark_failed(
                notification.id, f"unreachable: {error}"[:300], at=self._clock.now()
            )
            citizen = await uow.citizens.get(notification.chat_id)
            if citizen is not None and not citizen.blocked_bot:
                citizen.blocked_bot = True
                await uow.citizens.save(citizen)
            await uow.commit()
