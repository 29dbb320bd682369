"""Which process runs the background loops (bot/workers.py, Background).

One bot process: this one, always (SoleProcess). Several (REDIS_URL): the one holding a Redis
lock with an expiry, the lease (RedisLeaderLease). The holder renews it every third of its
length; the others stand by, trying to take it, and one of them gets it at most a lease after
the holder died. A holder that cannot renew (the lock taken over, or Redis out of reach for
most of a lease) stops its loops before the lease can run out, and stands by again.

Nothing here relies on a shared APScheduler job store (APScheduler 3 has none across
processes): the active worker runs its own schedule, and what is due comes from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from bot.workers import Loop

log = logging.getLogger(__name__)
LEASE_KEY = "oms:worker-lease"


class Leadership(Protocol):
    async def lead(self, loops: Loop, stop: asyncio.Event) -> None:
        """Runs `loops` whenever this process may, until `stop` is set; stops them then."""
        ...


class SoleProcess:
    async def lead(self, loops: Loop, stop: asyncio.Event) -> None:
        loops.start()
        try:
            await stop.wait()
        finally:
            await loops.stop()


def _cancel_pending() -> None:
    """Raise CancelledError if this task was asked to stop: a Redis call cancelled mid-way may
    surface as a Redis or timeout error (or not at all), which the loops below would otherwise
    take for a Redis outage and go on holding or waiting for the lease."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleeps `seconds` or until `stop`; True when stopped."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
    return stop.is_set()


class RedisLeaderLease:
    def __init__(self, redis: Redis, *, lease_seconds: float, key: str = LEASE_KEY) -> None:
        self._redis = redis
        self._lease = lease_seconds
        self._key = key
        self._renew_every = lease_seconds / 3
        # A standby tries this often: a dead holder is replaced within a lease and a second.
        self._retry = min(1.0, lease_seconds / 5)

    def _lock(self) -> Lock:
        return self._redis.lock(self._key, timeout=self._lease, thread_local=False)

    async def lead(self, loops: Loop, stop: asyncio.Event) -> None:
        while not stop.is_set():
            lock = await self._acquire(stop)
            if lock is None:
                return
            log.info("worker: active (holds the lease)")
            loops.start()
            try:
                lost = await self._hold(lock, stop)
            finally:
                await loops.stop()
            if lost:
                log.warning("worker: lease lost; loops stopped, standing by")
            else:
                # Given back at once on a clean stop: the standby need not wait for expiry.
                with contextlib.suppress(LockError, RedisError, OSError):
                    await lock.release()

    async def _acquire(self, stop: asyncio.Event) -> Lock | None:
        announced = False
        while True:
            lock = self._lock()
            try:
                async with asyncio.timeout(self._lease):
                    if await lock.acquire(blocking=False):
                        return lock
                if not announced:
                    log.info("worker: standby (another worker holds the lease)")
                    announced = True
            except (RedisError, OSError, TimeoutError) as error:
                _cancel_pending()
                log.warning("worker: Redis unreachable in standby (%s)", type(error).__name__)
            _cancel_pending()
            if await _wait(stop, self._retry):
                return None

    async def _hold(self, lock: Lock, stop: asyncio.Event) -> bool:
        """Renews the lease until `stop` (False) or until it is lost (True)."""
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while not await _wait(stop, self._renew_every):
            try:
                # A Redis that stopped answering must not hold this past the lease.
                async with asyncio.timeout(self._renew_every):
                    await lock.extend(self._lease, replace_ttl=True)
                renewed = loop.time()
                _cancel_pending()
            except LockError:  # expired and perhaps taken: another worker may be active
                return True
            except (RedisError, OSError, TimeoutError) as error:
                _cancel_pending()
                log.warning("worker: cannot renew the lease (%s)", type(error).__name__)
                # Stop with a third of the lease to spare, before a standby may take it.
                if loop.time() - renewed >= self._lease - self._renew_every * 1.5:
                    return True
        return False
