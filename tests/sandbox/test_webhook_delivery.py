"""Webhook delivery: updates POSTed to the bot's URL with the secret, retried, in order per chat."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web

from sandbox.client import SandboxClient
from sandbox.emulator import Emulator

PUBLIC_URL = "https://bot.test.invalid/telegram/hook"


@dataclass
class Receiver:
    """A bot's webhook endpoint: records what arrives, answers `statuses` first, then 200."""

    base_url: str = ""
    statuses: list[int] = field(default_factory=list)
    slow_first_text: str | None = None  # answer the first message with this text after a pause
    received: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.received.append((update, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self.arrived.set()
        text = update.get("message", {}).get("text")
        if text is not None and text == self.slow_first_text:
            self.slow_first_text = None
            await asyncio.sleep(0.5)
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({}, status=status)

    def texts(self) -> list[str]:
        return [u["message"]["text"] for u, _ in self.received if "message" in u]

    async def wait(self, count: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError("the condition did not come true in time")
        await asyncio.sleep(0.02)


async def attempts_done(emu: Emulator, count: int) -> None:
    """Until the emulator has seen the answers to `count` posts (the receiver sees them first)."""

    async def done() -> bool:
        return len(emu.webhooks.attempts) >= count

    await eventually(done)


@pytest.fixture
async def receiver(emu: Emulator) -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/telegram/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    emu.webhooks.route("https://bot.test.invalid", rec.base_url)
    yield rec
    await runner.cleanup()


async def test_updates_are_posted_with_the_secret_and_leave_the_queue(
    emu: Emulator, bot: Bot, client: SandboxClient, receiver: Receiver
) -> None:
    await bot.set_webhook(PUBLIC_URL, secret_token="s3cret-Token_1")
    user = await client.user(1001, "Ivan")
    await user.send_text("hello")
    await attempts_done(emu, 1)
    update, secret = receiver.received[0]
    assert secret == "s3cret-Token_1"
    assert update["message"]["text"] == "hello" and isinstance(update["update_id"], int)
    assert emu.webhooks.attempts[0].url == receiver.base_url + "/telegram/hook"
    info = await bot.get_webhook_info()
    assert info.url == PUBLIC_URL and info.pending_update_count == 0
    assert info.last_error_date is None
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()


async def test_no_secret_header_without_a_secret(
    bot: Bot, client: SandboxClient, receiver: Receiver
) -> None:
    await bot.set_webhook(PUBLIC_URL)
    await (await client.user(1001, "Ivan")).send_text("hi")
    await receiver.wait(1)
    assert receiver.received[0][1] is None


async def test_a_failed_delivery_is_retried_and_reported(
    emu: Emulator, bot: Bot, client: SandboxClient, receiver: Receiver
) -> None:
    receiver.statuses = [500, 401]
    await bot.set_webhook(PUBLIC_URL, secret_token="abc")
    await (await client.user(1001, "Ivan")).send_text("again")
    await attempts_done(emu, 3)
    assert receiver.texts() == ["again"] * 3
    assert [a.status for a in emu.webhooks.attempts] == [500, 401, 200]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 401 Unauthorized"
    assert info.last_error_date is not None and info.pending_update_count == 0


async def test_updates_of_one_chat_arrive_in_order_while_other_chats_go_on(
    bot: Bot, client: SandboxClient, receiver: Receiver
) -> None:
    receiver.slow_first_text = "a1"
    await bot.set_webhook(PUBLIC_URL)
    ivan = await client.user(1001, "Ivan")
    maria = await client.user(1002, "Maria")
    for text in ("a1", "a2", "a3"):
        await ivan.send_text(text)
    await maria.send_text("b1")
    await receiver.wait(4)
    texts = receiver.texts()
    assert [t for t in texts if t.startswith("a")] == ["a1", "a2", "a3"]
    # Ivan's chat waited for its slow first update; Maria's did not wait behind it.
    assert texts.index("b1") < texts.index("a2")


async def test_an_unreachable_bot_keeps_its_updates_for_get_updates(
    emu: Emulator, bot: Bot, client: SandboxClient
) -> None:
    emu.webhooks.route("https://bot.test.invalid", "http://127.0.0.1:9")  # nothing listens
    await bot.set_webhook(PUBLIC_URL)
    await (await client.user(1001, "Ivan")).send_text("are you there?")

    async def failed() -> bool:
        return bool((await bot.get_webhook_info()).last_error_message)

    await eventually(failed)
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Connection refused"
    assert info.pending_update_count == 1
    await bot.delete_webhook()
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["are you there?"]


async def test_webhook_ports_are_those_telegram_allows(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="only on ports 80, 88, 443 or 8443"):
        await bot.set_webhook("https://bot.test.invalid:8081/hook")
    assert await bot.set_webhook("https://bot.test.invalid:8443/hook")


async def test_several_workers_share_the_updates_and_a_dead_one_is_passed_over(
    emu: Emulator, bot: Bot, client: SandboxClient, receiver: Receiver
) -> None:
    second = Receiver()
    app = web.Application()
    app.router.add_post("/telegram/hook", second.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    second.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        # Two live workers and one that is down, as behind a load balancer.
        emu.webhooks.route(
            "https://bot.test.invalid", receiver.base_url, second.base_url, "http://127.0.0.1:9"
        )
        await bot.set_webhook(PUBLIC_URL)
        users = [await client.user(1001 + i, f"U{i}") for i in range(6)]
        for user in users:
            await user.send_text(f"hi {user.user_id}")
        await eventually(functools.partial(_count, receiver, second, 6))
        assert receiver.received and second.received  # both got some
        got = sorted(receiver.texts() + second.texts())
        assert got == sorted(f"hi {user.user_id}" for user in users)  # each once
        refused = [a for a in emu.webhooks.attempts if a.error == "Connection refused"]
        assert refused  # the dead one was tried, and its updates went to another
    finally:
        await runner.cleanup()


async def _count(first: Receiver, second: Receiver, total: int) -> bool:
    return len(first.received) + len(second.received) >= total
