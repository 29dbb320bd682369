"""Dialog state in Redis (REDIS_URL), end to end: the unmodified bot keeps its dialogs in a real
redis-server (tests/redis_server.py), not in fsm_state, and still reminds an unfinished dialog,
sweeps an abandoned one and forgets one on /forget_me."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from tests.e2e.clock import CLOCK_ENV, advance, settle
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, new_citizen
from tests.e2e.test_personal_data import SWEEP_FAST
from tests.e2e.test_reminders import at_passport_step, reminders_of
from tests.redis_server import redis_server, redis_url  # noqa: F401 - fixtures

INDEX = "fsm:index"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:  # noqa: F811
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def start_redis_bot(redis_url: str, redis: Redis, start_bot: StartBot) -> StartBot:  # noqa: F811
    """The bot with REDIS_URL. Redis is requested first: set up before the bot, so it is
    stopped after the bot has stopped."""

    async def start(env: Mapping[str, str] | None = None, *, webhook: bool = False) -> BotProcess:
        return await start_bot({**(env or {}), "REDIS_URL": redis_url}, webhook=webhook)

    return start


async def user_ids_in_redis(redis: Redis) -> set[int]:
    return {int(key.rsplit(":", 1)[1]) for key in await redis.keys("fsm:user:*")}


async def test_a_dialog_in_redis_survives_a_restart_and_is_reminded(
    start_redis_bot: StartBot, redis: Redis, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_redis_bot(CLOCK_ENV)
    c = await new_citizen(client, texts)
    await at_passport_step(c)
    assert bot.query("SELECT key FROM fsm_state") == []
    assert await user_ids_in_redis(redis) == {c.user.user_id}
    await bot.restart()

    await advance(client, timedelta(hours=24, minutes=1))
    await settle(bot, client)
    [reminder] = await reminders_of(c)
    assert c.t("step_name.passport_number") in message_text(reminder)
    await c.press("reminder.continue")  # the dialog read back from Redis after the restart
    prompt = await c.expect("restore.passport.prompt")
    assert c.step_line(4) in message_text(prompt)

    await c.user.send_command("/profile")
    await c.expect("profile.text")
    await c.press("button.forget_me")
    await c.expect("forget.confirm")
    await c.press("button.forget_confirm")
    await c.expect("forget.done")
    assert await user_ids_in_redis(redis) == set()
    assert not any(str(c.user.user_id) in member for member in await redis.zrange(INDEX, 0, -1))


async def test_an_abandoned_dialog_in_redis_is_swept_with_its_scan(
    start_redis_bot: StartBot, redis: Redis, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_redis_bot(SWEEP_FAST)
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)  # a scan stored, its name only in the dialog's data
    (draft_scan,) = bot.stored_files()
    assert await redis.zcard(INDEX) == 1

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while draft_scan.exists() or await redis.zcard(INDEX):
        assert loop.time() < deadline, "the sweep left the dialog or its scan"
        await asyncio.sleep(0.2)
    assert await redis.keys("fsm:*") == []  # the dialog and its index entries (not the lease)
