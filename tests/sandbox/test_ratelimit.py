"""The emulator's flood limits (token buckets, 429s a real aiogram Bot sees) and its call
observers, both used by the load benchmark (bench/)."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from sandbox.client import SandboxClient
from sandbox.emulator import Emulator, RecordedCall
from sandbox.emulator.ratelimit import RateLimits, counts_as_message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_which_calls_count_as_messages() -> None:
    assert counts_as_message("sendMessage") and counts_as_message("senddocument")
    assert counts_as_message("copyMessage") and counts_as_message("forwardMessage")
    for free in ("sendChatAction", "editMessageText", "answerCallbackQuery", "getUpdates"):
        assert not counts_as_message(free)


def test_one_message_per_private_chat_per_second() -> None:
    clock = Clock()
    limits = RateLimits(private_chat_burst=1, tolerance=0.05, clock=clock)
    assert limits.check("sendMessage", {"chat_id": "7"}) is None
    clock.now += 0.5
    refused = limits.check("sendMessage", {"chat_id": "7"})
    assert refused is not None and refused.error_code == 429
    assert refused.parameters == {"retry_after": 1}
    assert limits.check("sendMessage", {"chat_id": "8"}) is None  # another chat is free
    assert limits.check("sendChatAction", {"chat_id": "7"}) is None  # not a message
    clock.now += 0.46  # 0.96 s after the first: early, but within the tolerance
    assert limits.check("sendMessage", {"chat_id": "7"}) is None
    clock.now += 0.9
    assert limits.check("sendMessage", {"chat_id": "7"}) is not None
    assert (limits.stats.allowed, limits.stats.refused_chat) == (3, 2)


def test_private_chat_burst_then_one_per_second() -> None:
    clock = Clock()
    limits = RateLimits(private_chat_burst=3, tolerance=0, clock=clock)
    results = [limits.check("sendMessage", {"chat_id": "7"}) for _ in range(4)]
    assert [r is None for r in results] == [True, True, True, False]
    clock.now += 1.0
    assert limits.check("sendMessage", {"chat_id": "7"}) is None
    assert limits.check("sendMessage", {"chat_id": "7"}) is not None


def test_overall_limit_passes_a_burst_then_the_rate() -> None:
    clock = Clock()
    limits = RateLimits(per_second=30, clock=clock)
    assert all(limits.check("sendMessage", {"chat_id": str(i)}) is None for i in range(30))
    assert limits.check("sendMessage", {"chat_id": "100"}) is not None
    clock.now += 0.1  # three more tokens
    allowed = sum(limits.check("sendMessage", {"chat_id": str(200 + i)}) is None for i in range(5))
    assert allowed == 3
    assert limits.stats.refused_overall == 3


def test_group_limit_is_per_minute() -> None:
    clock = Clock()
    limits = RateLimits(per_group_minute=20, clock=clock)
    results = [limits.check("sendMessage", {"chat_id": "-1001"}) for _ in range(21)]
    assert all(r is None for r in results[:20])
    refused = results[20]
    assert refused is not None and refused.parameters == {"retry_after": 3}


async def test_bot_gets_429_with_retry_after(
    emu: Emulator, client: SandboxClient, bot: Bot
) -> None:
    emu.rate_limits = RateLimits(private_chat_burst=2)
    await (await client.user(1201, "Ivan")).send_text("hi")
    await bot.send_message(1201, "one")
    await bot.send_message(1201, "two")
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(1201, "three")
    assert retry.value.retry_after == 1
    await bot.send_chat_action(1201, "typing")  # not a message: never limited
    calls = emu.calls("sendMessage")
    assert [c.error_code for c in calls] == [None, None, 429]


async def test_observers_see_every_answered_call(
    emu: Emulator, client: SandboxClient, bot: Bot
) -> None:
    seen: list[RecordedCall] = []
    emu.observers.append(seen.append)
    await (await client.user(1202, "Ivan")).send_text("hi")
    updates = await bot.get_updates()
    await bot.send_message(1202, "hello")
    assert [c.method for c in seen] == ["getUpdates", "sendMessage"]
    assert seen[0].result[0]["update_id"] == updates[0].update_id
    assert seen[1].params["chat_id"] == 1202 and seen[1].ok
