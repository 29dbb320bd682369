"""Webhook mode over real HTTP: the secret guards the endpoint, updates survive a restart, and
/healthz answers in both modes."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.i18n import Texts
from sandbox.client import SandboxClient
from sandbox.emulator import Emulator
from tests.e2e.conftest import StartBot
from tests.e2e.harness import WEBHOOK_PATH, WEBHOOK_SECRET
from tests.e2e.journey import IVANOV, new_citizen

FORGED_UPDATE_ID = 424242


def forged_start(user_id: int) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Ivan", "language_code": "ru"}
    return {
        "update_id": FORGED_UPDATE_ID,
        "message": {
            "message_id": 1,
            "date": 1_800_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Ivan"},
            "from": user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}],
    ids=["without-secret", "wrong-secret"],
)
async def test_webhook_rejects_a_request_without_the_right_secret(
    start_bot: StartBot, client: SandboxClient, texts: Texts, headers: dict[str, str]
) -> None:
    bot = await start_bot(webhook=True)
    c = await new_citizen(client, texts)
    async with (
        aiohttp.ClientSession() as http,
        http.post(bot.web_base + WEBHOOK_PATH, json=forged_start(7001), headers=headers) as answer,
    ):
        assert answer.status == 401
    # The genuine /start, posted by the emulator with the secret, is answered...
    await c.consent()
    # ...and the forged one never reached a handler.
    assert f"update={FORGED_UPDATE_ID} " not in bot.log()


async def test_updates_sent_while_the_bot_is_down_arrive_after_it_restarts(
    start_bot: StartBot, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    bot = await start_bot(webhook=True)
    c = await new_citizen(client, texts)
    await c.consent()
    await bot.stop()
    await c.user.share_contact(phone=IVANOV.phone, own=True)  # posted while nobody listens
    hook = emulator.world.webhook
    assert hook is not None and hook["secret_token"] == WEBHOOK_SECRET
    await bot.start()
    await c.expect("restore.profile.prompt")  # the retried update, answered after the restart
    assert any(a.error == "Connection refused" for a in emulator.webhooks.attempts)


async def test_without_webhook_secret_each_start_registers_a_new_random_one(
    start_bot: StartBot, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    bot = await start_bot({"WEBHOOK_SECRET": ""}, webhook=True)
    assert emulator.world.webhook is not None
    first = emulator.world.webhook["secret_token"]
    c = await new_citizen(client, texts)
    await c.consent()
    await bot.restart()
    assert emulator.world.webhook is not None
    second = emulator.world.webhook["secret_token"]
    assert len(first) >= 32 and len(second) >= 32 and first != second
    await c.login(IVANOV)  # delivered with the new secret


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_healthz_reports_the_database_and_the_outbox(
    start_bot: StartBot, webhook: bool
) -> None:
    bot = await start_bot(webhook=webhook)
    async with aiohttp.ClientSession() as http, http.get(bot.web_base + "/healthz") as answer:
        assert answer.status == 200
        assert await answer.json() == {
            "database": "ok",
            "outbox_pending": 0,
            "outbox_lag_seconds": 0.0,
        }


async def test_polling_deletes_a_webhook_left_by_a_webhook_deployment(
    start_bot: StartBot, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    bot = await start_bot(webhook=True)
    await bot.stop()
    bot.webhook = False  # the same data, redeployed with polling
    await bot.start()
    assert emulator.world.webhook is None
    c = await new_citizen(client, texts)
    await c.consent()
