"""Background loops of the bot process: application processing and outbox delivery.

Each loop finishes its current run before the process stops, so a shutdown never cancels a
database transaction half-way (APScheduler 3 cannot wait for running coroutine jobs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class PeriodicTask:
    def __init__(
        self,
        name: str,
        job: Callable[[], Awaitable[object]],
        interval: float,
        *,
        on_start: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """`on_start` runs once each time the loop starts, before the first run of `job`."""
        self.name = name
        self.job = job
        self.interval = interval
        self.on_start = on_start
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    def wake(self) -> None:
        """Run now instead of at the next tick (e.g. right after a commit that queued work)."""
        self._wake.set()

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        if self.on_start is not None:
            try:
                await self.on_start()
            except Exception:  # the loop runs all the same
                log.exception("%s: its start-up step failed", self.name)
        while not self._stop.is_set():
            # Cleared before the run, not after: a wake (or a stop) that arrives while the job
            # runs must make the next run start at once, not be lost until the next tick.
            self._wake.clear()
            try:
                await self.job()
            except Exception:  # one failed run must not end the loop
                log.exception("%s failed; retrying at the next tick", self.name)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()


class Loop(Protocol):
    """Something that runs in the background between start() and stop()."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class Background:
    """The loops exactly one process runs (processing, the outbox, retention, the reminder
    schedule...), started and stopped together: by a lease when several processes could run
    them (bot/leader.py)."""

    def __init__(self, loops: Sequence[Loop]) -> None:
        self._loops = tuple(loops)

    def start(self) -> None:
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        for loop in self._loops:
            await loop.stop()
