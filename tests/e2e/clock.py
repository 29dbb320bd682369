"""Moving the sandbox clock in end-to-end tests, and waiting until the bot has acted on it.

The bot under test runs with SANDBOX_CLOCK=1 and a short REMINDER_TICK_SECONDS. After a move,
`settle` waits for a reminder tick at (or after) the new time and for the outbox to empty, so a
test can assert that something did *not* arrive without sleeping and hoping.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from sandbox.client import SandboxClient
from storage.sql import from_db_time
from tests.e2e.harness import BotProcess

# What every reminder test runs with (quiet hours off unless a test is about them).
CLOCK_ENV = {
    "SANDBOX_CLOCK": "1",
    "REMINDER_TICK_SECONDS": "0.2",
    "QUIET_HOURS": "00:00-00:00",
}


async def bot_now(client: SandboxClient) -> datetime:
    """The bot's time: real time plus the sandbox clock's offset."""
    offset = (await client.clock())["offset_seconds"]
    return datetime.fromtimestamp(time.time() + float(offset), UTC)


async def advance(client: SandboxClient, delta: timedelta) -> datetime:
    await client.advance_clock(delta.total_seconds())
    return await bot_now(client)


async def move_to(client: SandboxClient, target: datetime) -> datetime:
    """Forward to `target` (which must be ahead of the bot's time)."""
    now = await bot_now(client)
    assert target > now, f"the sandbox clock only moves forward ({target} <= {now})"
    return await advance(client, target - now)


async def settle(bot: BotProcess, client: SandboxClient, timeout: float = 15.0) -> None:
    """Until the bot ticked at the sandbox clock's current time and sent what it queued."""
    target = await bot_now(client)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        rows = bot.query("SELECT checked_at FROM reminder_ticks")
        if rows and from_db_time(rows[0][0]) >= target:
            break
        assert loop.time() < deadline, f"no reminder tick at {target}:\n{bot.log()[-3000:]}"
        await asyncio.sleep(0.05)
    while bot.query(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        " AND kind NOT LIKE 'email_%' AND (not_before IS NULL OR not_before <= ?)",
        datetime.now(UTC).isoformat(),  # rows postponed into the future are not waited for
    )[0][0]:
        assert loop.time() < deadline, "the outbox did not drain"
        await asyncio.sleep(0.05)
