"""Waking the outbox sender in another process: a commit that queued notifications in a web
process publishes on a Redis channel, and the worker, subscribed, runs its sender at once
instead of at its next poll (OUTBOX_POLL_SECONDS). A lost message only delays a row to that
poll: the outbox table, not the channel, is what is sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
CHANNEL = "oms:outbox-committed"
RECONNECT_SECONDS = 1.0


class OutboxWakeups:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._publishing: asyncio.Task[None] | None = None
        self._again = False

    def publish(self) -> None:
        """Called from the commit hook, which cannot await: one publish in flight at a time,
        and one more after it when commits came meanwhile (a burst costs two messages)."""
        if self._publishing is not None and not self._publishing.done():
            self._again = True
            return
        self._publishing = asyncio.get_running_loop().create_task(
            self._publish(), name="outbox-wakeup"
        )

    async def _publish(self) -> None:
        while True:
            self._again = False
            try:
                await self._redis.publish(CHANNEL, b"1")
            except (RedisError, OSError) as error:
                log.warning("outbox wake-up not published (%s)", type(error).__name__)
            if not self._again:
                return

    async def close(self) -> None:
        if self._publishing is not None:
            await self._publishing

    async def listen(self, wake: Callable[[], None], stop: asyncio.Event) -> None:
        """Calls `wake` on every message until `stop`; reconnects after Redis errors."""
        while not stop.is_set():
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                wake()  # whatever was published while not subscribed
                while not stop.is_set():
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                    if message is not None:
                        wake()
            except (RedisError, OSError) as error:
                log.warning("outbox wake-ups: Redis unreachable (%s)", type(error).__name__)
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                await pubsub.aclose()
