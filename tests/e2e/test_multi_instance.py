"""The bot as docker-compose.yml runs it: three webhook workers (`python -m bot web`) with the
emulator spreading its posts over them in turn, as nginx does, and two workers (`python -m bot
worker`, one active, one standby), all on one PostgreSQL database and one Redis.

Everything is read back from the database and from what the citizens received: no update
handled twice, no application processed twice, no notification sent twice, reminders sent once
while two workers run; and killing the active worker or a web worker loses no journey.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiogram.fsm.storage.base import StorageKey
from redis.asyncio import Redis

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from sandbox.emulator import Emulator
from storage.redis_fsm import DialogKeyBuilder
from tests.e2e.clock import CLOCK_ENV, advance, bot_now
from tests.e2e.forkserver import ForkServer
from tests.e2e.harness import TOKEN, WEBHOOK_ORIGIN, BotProcess
from tests.e2e.journey import IVANOV, Citizen, new_citizen
from tests.e2e.steady import SteadyCitizen
from tests.redis_server import redis_server, redis_url  # noqa: F401 - the fixtures

WEB_WORKERS = 3
CITIZENS = 200
PARKED = 10  # citizens who stop half-way, to be reminded
AT_ONCE = 60  # citizens acting at the same moment (the rest wait for a free hand)
LEASE_SECONDS = 2.0
STATUSES = ["submitted", "processing", "approved", "ready"]
UPDATE_LINE = re.compile(r"\bupdate=(\d+) ")
BOT_ID = int(TOKEN.split(":")[0])


@dataclass
class Cluster:
    emulator: Emulator
    database: asyncpg.Pool  # queried by many citizens at once
    redis: Redis  # where the dialogs are
    webs: list[BotProcess] = field(default_factory=list)
    workers: list[BotProcess] = field(default_factory=list)

    async def value(self, sql: str, *params: Any) -> Any:
        return await self.database.fetchval(sql, *params)

    async def rows(self, sql: str, *params: Any) -> list[asyncpg.Record]:
        return list(await self.database.fetch(sql, *params))

    async def step(self, user_id: int) -> str:
        """The step a citizen's dialog is at ("" before /start)."""
        key = StorageKey(bot_id=BOT_ID, chat_id=user_id, user_id=user_id)
        state = await self.redis.get(DialogKeyBuilder().build(key, "state"))
        return (state or b"").decode().split(":")[-1]

    async def submitted(self, user_id: int) -> bool:
        count = "SELECT count(*) FROM applications WHERE user_id = $1"
        return bool(await self.value(count, user_id))

    def route(self) -> None:
        """The load balancer: each post to the next live web worker's address in turn."""
        live = [web.web_base for web in self.webs if web.exit_code() is None]
        self.emulator.webhooks.route(WEBHOOK_ORIGIN, *live)

    def active_worker(self) -> BotProcess:
        [active] = [
            w for w in self.workers if w.exit_code() is None and _active(w.log())
        ]  # one, never two
        return active


def _active(log: str) -> bool:
    """Holds the lease now: it said so after it last stood by (or never stood by)."""
    return log.rfind("worker: active") > log.rfind("worker: standby")


Start = Callable[[], Awaitable[Cluster]]


@pytest.fixture
async def cluster(
    emulator: Emulator,
    tmp_path: Path,
    forkserver: ForkServer,
    postgres_url: str,
    redis_url: str,  # noqa: F811
) -> AsyncIterator[Start]:
    processes: list[BotProcess] = []
    database = await asyncpg.create_pool(postgres_url, min_size=1, max_size=4)
    redis = Redis.from_url(redis_url)
    env = {
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
        **CLOCK_ENV,
    }

    def process(role: str, name: str) -> BotProcess:
        bot = BotProcess(
            emulator,
            tmp_path / "data",  # shared, as the compose file's volume: the scans are files
            env,
            forkserver=forkserver,
            webhook=role == "web",
            args=(role,),
            name=name,
        )
        processes.append(bot)
        return bot

    async def start() -> Cluster:
        result = Cluster(emulator, database, redis)
        for n in (1, 2):
            worker = process("worker", f"worker{n}")
            await worker.start()
            result.workers.append(worker)
        for n in range(1, WEB_WORKERS + 1):
            web = process("web", f"web{n}")
            await web.start()
            result.webs.append(web)
        result.route()
        return result

    yield start
    try:
        for bot in processes:
            if bot.exit_code() is None:
                assert await bot.stop() == 0, bot.log()
            assert "Traceback" not in bot.log(), bot.log()
    finally:
        await database.close()
        await redis.aclose()


# --- citizens ------------------------------------------------------------------------------


async def electronic_journey(c: Citizen) -> str:
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    number = await c.submit()
    await c.wait_status("ready", timeout=60)
    await c.user.wait_for(lambda m: "document" in m, timeout=60)
    return number


# --- what is checked ---------------------------------------------------------------------------


async def until(check: Callable[[], Awaitable[object]], timeout: float = 60) -> None:
    """Until `check` comes true (the database, written by other processes)."""
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


async def outbox_empty(cluster: Cluster) -> bool:
    pending = "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
    return not await cluster.value(pending)


async def settled(cluster: Cluster, timeout: float = 120) -> None:
    """Every application ready and the outbox empty."""

    async def done() -> bool:
        not_ready = "SELECT count(*) FROM applications WHERE status <> 'ready'"
        return not await cluster.value(not_ready) and await outbox_empty(cluster)

    await until(done, timeout)


async def each_application_once(cluster: Cluster, users: list[int]) -> None:
    per_user = Counter(r["user_id"] for r in await cluster.rows("SELECT user_id FROM applications"))
    assert per_user == Counter(dict.fromkeys(users, 1))
    histories: dict[int, list[str]] = {}
    for row in await cluster.rows(
        "SELECT application_id, to_status FROM status_changes ORDER BY id"
    ):
        histories.setdefault(row["application_id"], []).append(row["to_status"])
    assert len(histories) == len(users)
    assert all(history == STATUSES for history in histories.values()), histories
    assert (
        await cluster.rows("SELECT id, kind, error FROM outbox WHERE failed_at IS NOT NULL") == []
    )


async def pushes_received(cluster: Cluster, citizens: list[Citizen]) -> tuple[int, list[str]]:
    """(pushes and PDFs that arrived more than once, those that never arrived)."""
    duplicates, missing = 0, []
    numbers = {
        r["user_id"]: r["number"]
        for r in await cluster.rows("SELECT user_id, number FROM applications")
    }
    for c in citizens:
        number = numbers[c.user.user_id]
        messages = await c.user.messages()
        texts = [message_text(m) for m in messages]
        for status in STATUSES[1:]:
            push = re.compile(
                rf"{re.escape(number)}.*: {re.escape(c.t(f'status.name.{status}'))}(\n|$)"
            )
            seen = sum(bool(push.search(text)) for text in texts)
            duplicates += max(0, seen - 1)
            if not seen:
                missing.append(f"{number} {status}")
        pdfs = sum("document" in m for m in messages)
        duplicates += max(0, pdfs - 1)
        if not pdfs:
            missing.append(f"{number} PDF")
    return duplicates, missing


async def reminder_tick_at(cluster: Cluster, client: SandboxClient, timeout: float = 30) -> None:
    """Until the active worker has looked at the database at the sandbox clock's time, and sent
    what that queued."""
    target = await bot_now(client)
    async with asyncio.timeout(timeout):
        while True:
            checked = await cluster.value("SELECT checked_at FROM reminder_ticks")
            if checked is not None and checked >= target:
                break
            await asyncio.sleep(0.1)
    await until(lambda: outbox_empty(cluster), timeout)


def handled_updates(webs: list[BotProcess]) -> Counter[int]:
    return Counter(int(m) for web in webs for m in UPDATE_LINE.findall(web.log()))


# --- the tests -----------------------------------------------------------------------------


async def test_200_journeys_on_three_web_workers_and_two_workers_happen_exactly_once(
    cluster: Start, client: SandboxClient, emulator: Emulator, texts: Texts
) -> None:
    running = await cluster()
    hands = asyncio.Semaphore(AT_ONCE)

    async def person(n: int) -> Citizen:
        async with hands:
            c = await new_citizen(client, texts, user_id=9000 + n)
            if n < PARKED:
                await c.consent()  # and stops there, at the contact step
            else:
                await electronic_journey(c)
            return c

    people = await asyncio.gather(*(person(n) for n in range(CITIZENS + PARKED)))
    parked, finished = people[:PARKED], people[PARKED:]
    await settled(running)

    # Every update Telegram posted was handled once, by one of the three.
    posted = {attempt.update_id for attempt in emulator.webhooks.attempts if attempt.ok}
    handled = handled_updates(running.webs)
    assert set(handled) == posted
    assert [update for update, times in handled.items() if times > 1] == []
    assert all(UPDATE_LINE.search(web.log()) for web in running.webs)  # the load was spread
    # One application each, each status once: none processed twice.
    await each_application_once(running, [c.user.user_id for c in finished])
    # Every push and PDF arrived, and none twice.
    assert await pushes_received(running, finished) == (0, [])
    # The dialogs are in Redis, none in the database; the parked ones wait at the contact step.
    assert await running.value("SELECT count(*) FROM fsm_state") == 0
    assert [await running.step(c.user.user_id) for c in parked] == ["contact"] * PARKED
    # Exactly one worker ran the loops; the other stood by all along.
    assert sum("worker: active" in w.log() for w in running.workers) == 1

    # A day later: the parked citizens are reminded once each, the others not at all, though
    # two workers run (only the active one ticks).
    await advance(client, timedelta(hours=25))
    await reminder_tick_at(running, client)
    await asyncio.sleep(1)  # a second tick at that time sends nothing more
    await reminder_tick_at(running, client)
    snippet = parked[0].snippet("reminder.dialog")
    for c in people:
        got = [m for m in await c.user.messages() if snippet in message_text(m)]
        assert len(got) == (1 if c in parked else 0), c.user.user_id


async def test_killing_the_active_worker_and_a_web_worker_loses_no_journey(
    cluster: Start, client: SandboxClient, texts: Texts
) -> None:
    running = await cluster()
    people = [
        SteadyCitizen(running, await new_citizen(client, texts, user_id=9500 + n))
        for n in range(24)
    ]
    kills: list[str] = []

    async def consented_at_least(count: int) -> bool:
        return bool(await running.value("SELECT count(*) FROM citizens") >= count)

    async def chaos() -> None:
        async with asyncio.timeout(60):
            # A web worker, while citizens are mid-dialog.
            await until(lambda: consented_at_least(12))
            await asyncio.sleep(random.uniform(0, 0.3))
            victim = running.webs[1]
            await victim.kill()
            kills.append("web")
            running.route()  # nginx stops sending to it once it fails
            # The active worker, while applications are being processed.
            await until(
                lambda: running.value(
                    "SELECT count(*) FROM applications WHERE status = 'processing'"
                )
            )
            await running.active_worker().kill()
            kills.append("worker")

    killing = asyncio.create_task(chaos())
    await asyncio.gather(*(p.journey() for p in people))
    await killing
    await settled(running)

    standby = running.active_worker()  # the one left took over
    assert "worker: standby" in standby.log()
    citizens = [p.c for p in people]
    await each_application_once(running, [c.user.user_id for c in citizens])
    for c in citizens:
        await c.user.wait_for(lambda m: "document" in m, timeout=30, since=0)
    duplicates, missing = await pushes_received(running, citizens)
    assert missing == []
    assert duplicates <= len(kills)  # at most the one being sent when its process died
