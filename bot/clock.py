"""The sandbox's movable clock: the bot's time is real time plus the emulator's offset.

Only with SANDBOX_CLOCK=1, which the settings accept only when TELEGRAM_API_BASE is a loopback
address; and start-up stops if that server has no sandbox clock (a real local Bot API server),
so a deployment cannot run on a shifted clock by accident. The offset only moves forward (the
page's "+1 hour", "+1 day"); reminders, quiet hours and the processing then follow it, since
everything asks the injected clock (core.ports.Clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

import aiohttp

from core.clock import SystemClock

log = logging.getLogger(__name__)
CLOCK_PATH = "/sandbox/api/clock"
POLL_SECONDS = 0.2


class SandboxClockUnavailable(Exception):
    """The Bot API server has no sandbox clock; the message is one line."""


class FollowedClock:
    """core.ports.Clock: real time shifted by the emulator's offset, polled in the background."""

    def __init__(self, api_base: str, *, poll_seconds: float = POLL_SECONDS) -> None:
        self._url = api_base.rstrip("/") + CLOCK_PATH
        self._poll_seconds = poll_seconds
        self._offset = timedelta(0)
        self._real = SystemClock()
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def now(self) -> datetime:
        return self._real.now() + self._offset

    async def start(self) -> None:
        """Read the offset once (failing start-up without one), then follow it."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        try:
            await self._read()
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
            await self.stop()
            raise SandboxClockUnavailable(
                f"SANDBOX_CLOCK: {self._url} did not give the sandbox clock"
                f" ({type(error).__name__}); it works only with the offline emulator"
            ) from error
        self._task = asyncio.create_task(self._follow(), name="sandbox-clock")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _read(self) -> None:
        assert self._session is not None
        async with self._session.get(self._url) as response:
            response.raise_for_status()
            body = await response.json()
        offset = timedelta(seconds=float(body["offset_seconds"]))
        if offset > self._offset:  # forward only: time never runs back for the bot
            log.info("sandbox clock moved forward by %s", offset - self._offset)
            self._offset = offset

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                await self._read()
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
                log.debug("sandbox clock not read: %s", type(error).__name__)
