"""Item 4: a backlog of status notifications through the bot's outbox, against the emulator
enforcing 30 messages/s overall and 1 per private chat per second (429 with retry_after).

The backlog is seeded before the bot starts (bench/seed.py): `chats` finished applications and,
per application, one unsent notification per status (submitted, processing, ...), in waves: all
first statuses, then all second ones, the order in which a batch of applications moving through
the processing steps together writes them. Nothing else happens meanwhile. Figures: messages
delivered from the first to the last, as a share of what the limit lets through in that time
(a full bucket of 30, then 30 per second); lost (never delivered) and duplicated (delivered
twice) notifications.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.processes import SLOW_PROCESSING, BotUnderTest
from bench.seed import ELECTRONIC_STATUSES, seed
from bench.session import Session
from sandbox.emulator import RecordedCall
from sandbox.emulator.ratelimit import RateLimits

ALLOWED_PER_SECOND = 30.0


@dataclass(frozen=True)
class DeliveryConfig:
    notifications: int = 10_000
    chats: int = 2_500
    stall_seconds: float = 30.0


async def run_delivery(
    work: Path, register: Path, register_size: int, config: DeliveryConfig
) -> dict[str, Any]:
    waves = config.notifications // config.chats
    if waves * config.chats != config.notifications or waves > len(ELECTRONIC_STATUSES):
        raise ValueError("notifications must be chats x 1..4")
    data_dir = work / "delivery"
    seeded = await seed(
        data_dir / "bot.sqlite3",
        register,
        register_size,
        applications=config.chats,
        pending_waves=ELECTRONIC_STATUSES[:waves],
    )
    chats = set(seeded.user_ids)
    delivered: Counter[tuple[int, str]] = Counter()
    times: list[float] = []

    def on_call(now: float, call: RecordedCall) -> None:
        if call.method == "sendMessage" and call.ok and call.params.get("chat_id") in chats:
            delivered[(call.params["chat_id"], str(call.params.get("text")))] += 1
            times.append(now)

    async with Session() as session:
        for user_id in seeded.user_ids:
            _, chat = session.emulator.world.add_user(user_id, "Пётр", language_code="ru")
            chat.started = True
        limits = RateLimits()
        session.emulator.rate_limits = limits
        session.tracker.listeners.append(on_call)
        process = BotUnderTest(
            session.emulator, data_dir, {**SLOW_PROCESSING, "REGISTRY_PATH": str(register)}
        )
        await process.start()
        cpu_before = process.cpu()
        started = time.perf_counter()
        last_progress, last_count = started, 0
        while len(delivered) < seeded.pending_notifications:
            await asyncio.sleep(0.5)
            if len(times) != last_count:
                last_progress, last_count = time.perf_counter(), len(times)
            elif time.perf_counter() - last_progress > config.stall_seconds:
                break
        cpu = process.cpu() - cpu_before
        await process.stop()
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    distinct = len(delivered)
    rate = (len(times) - 1) / span if len(times) > 1 else float("nan")
    # The most the limit lets through in that time: a full bucket, then 30 per second.
    allowed = limits.per_second + ALLOWED_PER_SECOND * span
    return {
        "notifications": seeded.pending_notifications,
        "chats": config.chats,
        "delivered": distinct,
        "lost": seeded.pending_notifications - distinct,
        "duplicated": sum(n - 1 for n in delivered.values()),
        "seconds": span,
        "rate_per_s": rate,
        "allowed_in_that_time": allowed,
        "share_of_allowed": len(times) / allowed,
        "refused_429": limits.stats.refused,
        "cpu_ms_per_notification": cpu * 1000 / max(distinct, 1),
    }
