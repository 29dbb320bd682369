"""InFlightUpdates lets a shutdown wait for the updates being handled."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.types import TelegramObject

from bot.middlewares import InFlightUpdates


async def test_waits_until_the_update_being_handled_is_done() -> None:
    in_flight = InFlightUpdates()
    release = asyncio.Event()

    async def handler(event: TelegramObject, data: dict[str, Any]) -> str:
        await release.wait()
        return "done"

    task = asyncio.create_task(in_flight(handler, TelegramObject(), {}))
    await asyncio.sleep(0)
    assert await in_flight.wait_idle(0.05) is False  # still being handled
    release.set()
    assert await in_flight.wait_idle(1) is True
    assert await task == "done"


async def test_idle_at_once_when_nothing_is_handled() -> None:
    assert await InFlightUpdates().wait_idle(0) is True
