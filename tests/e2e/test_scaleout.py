"""The bot scaled out against a real Redis (tests/redis_server.py): web processes taking the
webhook's updates (`python -m bot web`) and worker processes (`python -m bot worker`), all on
one data directory, as the compose file runs them (there on PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from sandbox.emulator import Emulator
from tests.e2e.forkserver import ForkServer
from tests.e2e.harness import (
    WEBHOOK_ORIGIN,
    BotProcess,
    base_environment,
    free_port,
    run_until_exit,
)
from tests.e2e.journey import IVANOV, PETROVA, Citizen, Person, new_citizen
from tests.redis_server import redis_server, redis_url  # noqa: F401 - the fixtures

LEASE_SECONDS = 2.0
SUPPORT_CHAT = -1001234567890
Start = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
async def start(
    emulator: Emulator,
    tmp_path: Path,
    forkserver: ForkServer,
    redis_url: str,  # noqa: F811
) -> AsyncIterator[Start]:
    """Starts `python -m bot <role>`, forked from the pre-imported entry point like every
    end-to-end bot (tests/e2e/forkserver.py): a process of its own, killed with kill -9 as
    any. Every process shares the data directory and Redis."""
    processes: list[BotProcess] = []

    async def run(role: str, name: str, env: dict[str, str] | None = None) -> BotProcess:
        """`role`: web, worker, or all (plain `python -m bot`, polling)."""
        process = BotProcess(
            emulator,
            tmp_path / "data",
            {
                "REDIS_URL": redis_url,
                "WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
                **(env or {}),
            },
            forkserver=forkserver,
            webhook=role == "web",
            args=() if role == "all" else (role,),
            name=name,
        )
        await process.start()
        processes.append(process)
        return process

    yield run
    for process in processes:
        if process.exit_code() is None:
            assert await process.stop() == 0, process.log()
        assert "Traceback" not in process.log(), process.log()


def route_to(emulator: Emulator, web: BotProcess) -> None:
    """The load balancer sends Telegram's next posts to `web`."""
    emulator.webhooks.route(WEBHOOK_ORIGIN, web.web_base)


async def test_a_dialog_carries_on_whichever_web_process_takes_each_update(
    start: Start, emulator: Emulator, client: SandboxClient, texts: Texts
) -> None:
    await start("worker", "worker")
    webs = [await start("web", f"web{n}") for n in (1, 2)]
    c = await new_citizen(client, texts)
    steps = [
        c.consent,
        lambda: c.login(IVANOV),
        c.reason,
        lambda: c.passport(IVANOV),
        c.scan,
        c.choose_electronic,
        c.submit,
    ]
    for n, step in enumerate(steps):
        route_to(emulator, webs[n % 2])  # each step in the other process than the one before
        await step()
    await c.wait_status("ready")
    await c.user.wait_for(lambda m: "document" in m, timeout=15)
    for web in webs:  # took updates, and never ran the loops
        assert "update=" in web.log() and "worker: active" not in web.log()


async def wait_for_line(process: BotProcess, line: str, timeout: float) -> float:
    """Seconds until `line` is in the process's log."""
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while True:  # the log is a file another process writes
            if line in process.log():
                return time.monotonic() - started
            await asyncio.sleep(0.05)


async def test_one_worker_is_active_and_the_standby_takes_over_when_it_is_killed(
    start: Start, emulator: Emulator, client: SandboxClient, texts: Texts
) -> None:
    first = await start("worker", "worker1")
    second = await start("worker", "worker2")
    web = await start("web", "web")
    route_to(emulator, web)
    assert "worker: active" in first.log()
    assert "worker: standby" in second.log() and "worker: active" not in second.log()
    await journey(await new_citizen(client, texts), IVANOV)  # done by the first
    assert "worker: active" not in second.log()

    await first.kill()  # kill -9: no clean stop, the lease is not given back
    took = await wait_for_line(second, "worker: active", timeout=LEASE_SECONDS + 5)
    assert took < LEASE_SECONDS + 2
    await journey(await new_citizen(client, texts, user_id=8802), PETROVA)  # by the second


async def journey(c: Citizen, person: Person) -> None:
    await c.to_delivery(person)
    await c.choose_electronic()
    await c.submit()
    await c.wait_status("ready")
    await c.user.wait_for(lambda m: "document" in m, timeout=15)


async def test_a_row_queued_by_a_web_process_wakes_the_worker_at_once(
    start: Start, emulator: Emulator, client: SandboxClient, texts: Texts
) -> None:
    group = await client.forum_group(chat_id=SUPPORT_CHAT, title="Support")
    await group.member(2002, "Pavel", admin=True)
    desk = {"SUPPORT_CHAT_ID": str(SUPPORT_CHAT), "CHECK_DELAY_SECONDS": "3600"}
    # Its poll alone would take this long: a card sent sooner was woken.
    await start("worker", "worker", {**desk, "OUTBOX_POLL_SECONDS": "30"})
    route_to(emulator, await start("web", "web", desk))
    c = await new_citizen(client, texts)
    await c.consent()
    await asyncio.sleep(1)  # the worker's first drain, at its start, is over
    asked = time.monotonic()
    await c.user.send_command("/operator")
    await c.expect("support.waiting.in_progress")
    async with asyncio.timeout(10):  # the card goes out with its topic: not after a 30 s poll
        while True:  # the emulator's state, not an event of ours
            if await group.topics():
                break
            await asyncio.sleep(0.05)
    assert time.monotonic() - asked < 5


async def test_flood_control_counts_a_persons_updates_in_every_web_process_together(
    start: Start, emulator: Emulator, client: SandboxClient, texts: Texts
) -> None:
    limit, sent = 4, 10
    flood = {"FLOOD_LIMIT": str(limit), "FLOOD_PERIOD_SECONDS": "60"}
    webs = [await start("web", f"web{n}", flood) for n in (1, 2)]
    c = await new_citizen(client, texts, lang="en")
    for n in range(sent):
        route_to(emulator, webs[n % 2])  # alone, each process would take 4 of its 5
        await c.user.send_text(f"hello? {n}")
        await asyncio.sleep(0.1)
    async with asyncio.timeout(10):
        while True:  # logs other processes write
            if sum(web.log().count("update=") for web in webs) >= sent:
                break
            await asyncio.sleep(0.05)
    dropped = sum(web.log().count("handler=flood-control (dropped)") for web in webs)
    assert dropped == sent - limit
    await asyncio.sleep(0.5)  # the answers of the last handled updates
    seen = [message_text(m) for m in await c.user.messages()]
    assert len([t for t in seen if c.snippet("flood.warning") in t]) == 1  # not one per process
    assert len([t for t in seen if c.snippet("hint.start") in t]) == limit


async def test_a_redis_that_does_not_answer_stops_start_up_with_one_line(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = base_environment(emulator.api_base, tmp_path / "data")
    env["REDIS_URL"] = f"redis://:hunter2@127.0.0.1:{free_port()}/0"  # nobody listens
    result = await run_until_exit(env, args=["worker"])
    assert result.code == 2
    assert len(result.lines) == 1, result.output
    assert result.lines[0].startswith("REDIS_URL: Redis did not answer at start-up")
    assert "hunter2" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "data" / "data.key").exists()  # nothing left behind


async def test_a_web_process_without_redis_says_so(emulator: Emulator, tmp_path: Path) -> None:
    result = await run_until_exit(
        base_environment(emulator.api_base, tmp_path / "data"), args=["web"]
    )
    assert (result.code, result.lines) == (
        2,
        ["REDIS_URL: required by the web role (processes share locks and limits there)"],
    )


async def test_one_process_with_redis_takes_the_lease_and_does_everything(
    start: Start, client: SandboxClient, texts: Texts
) -> None:
    bot = await start("all", "bot")  # polling, as before, with its limits and locks in Redis
    await journey(await new_citizen(client, texts), IVANOV)
    assert "worker: active" in bot.log()
