"""What several bot processes share through a real Redis (tests/redis_server.py): the dialogs'
locks, flood control's counters, Telegram's send limits, the outbox wake-ups and the worker's
lease. Each pair of instances below has its own Redis client, as two processes would."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis

from bot.leader import LEASE_KEY, RedisLeaderLease
from bot.locks import RedisDialogLocks, RenewedEventIsolation
from bot.ratelimit import (
    PRIVATE_CHAT_BURST,
    RedisFloodCounter,
    RedisSendRates,
    redis_limits_storage,
)
from bot.wakeups import OutboxWakeups
from tests.redis_server import RedisServer, redis_server, redis_url  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
ClientFactory = Callable[[], Redis]


@pytest.fixture
async def new_client(redis_url: str) -> AsyncIterator[ClientFactory]:  # noqa: F811
    clients: list[Redis] = []

    def make() -> Redis:
        clients.append(Redis.from_url(redis_url))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


def dialog_locks(client: Redis, expiry: float = 30) -> RedisDialogLocks:
    isolation = RenewedEventIsolation(
        client, key_builder=DefaultKeyBuilder(with_bot_id=True), expiry=expiry, poll=0.01
    )
    return RedisDialogLocks(isolation, bot_id=1)


async def test_a_dialog_lock_is_renewed_while_held_and_frees_soon_after_its_holder_died(
    new_client: ClientFactory,
) -> None:
    expiry = 0.6
    first, second = dialog_locks(new_client(), expiry), dialog_locks(new_client(), expiry)
    async with first.hold((5, 5)):
        await asyncio.sleep(expiry * 3)  # a long update: its lock is renewed meanwhile
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3), second.hold((5, 5)):
                pass
    # A holder that dies (here: stops renewing, as a killed process does) blocks for `expiry`.
    dead = new_client()
    name = DefaultKeyBuilder(with_bot_id=True).build(
        StorageKey(bot_id=1, chat_id=5, user_id=5), "lock"
    )
    await dead.set(name, "dead", px=int(expiry * 1000))
    assert await dead.exists(name)
    started = asyncio.get_running_loop().time()
    async with asyncio.timeout(expiry + 1), second.hold((5, 5)):
        waited = asyncio.get_running_loop().time() - started
    assert waited < expiry + 0.5


async def test_a_dialog_held_by_one_instance_waits_in_the_other(new_client: ClientFactory) -> None:
    first, second = dialog_locks(new_client()), dialog_locks(new_client())
    order: list[str] = []
    held = asyncio.Event()

    async def holder() -> None:
        async with first.hold((5, 5)):
            held.set()
            await asyncio.sleep(0.3)
            order.append("first done")

    async def waiter() -> None:
        await held.wait()
        async with second.hold((5, 5)):
            order.append("second in")

    async with asyncio.timeout(5):
        await asyncio.gather(holder(), waiter())
    assert order == ["first done", "second in"]


async def test_other_dialogs_do_not_wait_for_a_held_one(new_client: ClientFactory) -> None:
    first, second = dialog_locks(new_client()), dialog_locks(new_client())
    async with first.hold((5, 5)):
        async with asyncio.timeout(1), second.hold((6, 6)):
            pass


async def test_flood_counters_are_one_count_across_instances(
    new_client: ClientFactory,
    redis_url: str,  # noqa: F811
) -> None:
    counters = [
        RedisFloodCounter(redis_limits_storage(redis_url), new_client(), limit=5, period=10)
        for _ in range(2)
    ]
    admitted = [await counters[n % 2].admit(42) for n in range(10)]
    assert admitted == [True] * 5 + [False] * 5  # alone, each would have let 5 through
    assert await counters[1].admit(43)  # someone else is not limited
    warned = [await counters[n % 2].first_drop(42) for n in range(4)]
    assert warned == [True, False, False, False]  # one warning per flood, whichever process


def _windows_over(times: list[float], limit: int, width: float) -> list[float]:
    """Starts of windows of `width` s holding more than `limit` of `times`."""
    times = sorted(times)
    return [t for i, t in enumerate(times) if sum(1 for u in times[i:] if u < t + width) > limit]


def test_two_processes_together_never_send_faster_than_the_limits(
    redis_url: str,  # noqa: F811
) -> None:
    per_second, count, chats = 10, 30, 10
    start_at = time.time() + 1.5  # after both have imported
    args = [redis_url, str(count), str(chats), str(per_second), str(start_at)]
    probes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integration.send_rate_probe", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [probe.communicate(timeout=60)[0] for probe in probes]
    assert all(probe.returncode == 0 for probe in probes)
    grants = [
        (float(at), int(chat))
        for out in outputs
        for at, chat in map(str.split, out.split("\n")[:-1])
    ]
    assert len(grants) == 2 * count
    times = [at for at, _ in grants]
    # The recorded times trail the grants by a few ms: a window a little short of a second.
    assert _windows_over(times, per_second, 0.95) == []  # each alone: 10/s, so 20/s together
    for chat in range(1, chats + 1):
        sent = sorted(at for at, to in grants if to == chat)
        # A private chat's burst: two at once at most, then one a second: any run of sends to
        # it holds at most the burst plus one per second it spans.
        assert all(
            j - i + 1 <= PRIVATE_CHAT_BURST + (sent[j] - sent[i]) + 0.05
            for i in range(len(sent))
            for j in range(i + 1, len(sent))
        ), (chat, sent)
    assert max(times) - min(times) >= 2 * count / per_second - 1.5


async def test_a_commit_in_one_process_wakes_the_sender_in_another(
    new_client: ClientFactory,
) -> None:
    publisher, listener = OutboxWakeups(new_client()), OutboxWakeups(new_client())
    woken = asyncio.Event()
    stop = asyncio.Event()
    calls = 0

    def wake() -> None:
        nonlocal calls
        calls += 1
        if calls > 1:  # the first is the one on subscribing
            woken.set()

    listening = asyncio.create_task(listener.listen(wake, stop))
    await asyncio.sleep(0.3)
    publisher.publish()
    async with asyncio.timeout(2):
        await woken.wait()
    stop.set()
    await listening
    await publisher.close()


class Loops:
    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    def start(self) -> None:
        self.running = True
        self.starts += 1

    async def stop(self) -> None:
        self.running = False


async def wait_until(check: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while True:  # a condition on other objects, not an event of ours
            if check():
                break
            await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_one_worker_runs_the_loops_and_a_standby_takes_over_when_it_dies(
    new_client: ClientFactory,
) -> None:
    first, second = Loops(), Loops()
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    leading = asyncio.create_task(
        RedisLeaderLease(new_client(), lease_seconds=1.5).lead(first, stop_first)
    )
    await wait_until(lambda: first.running, 2)
    standing_by = asyncio.create_task(
        RedisLeaderLease(new_client(), lease_seconds=1.5).lead(second, stop_second)
    )
    await asyncio.sleep(2)  # longer than a lease: renewed, so still the first's
    assert first.running and not second.running
    leading.cancel()  # dies: no stop, no release
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):  # a cancellation lost in a Redis call would hang here
            await leading
    took = await wait_until(lambda: second.running, 4)
    assert took < 1.5 + 1.2  # the lease left, and one standby retry
    stop_second.set()
    await standing_by
    assert not second.running


async def test_a_worker_that_loses_its_lease_stops_its_loops(new_client: ClientFactory) -> None:
    loops, stop = Loops(), asyncio.Event()
    client = new_client()
    leading = asyncio.create_task(RedisLeaderLease(client, lease_seconds=1.5).lead(loops, stop))
    await wait_until(lambda: loops.running, 2)
    other = new_client()
    await other.set(LEASE_KEY, "another worker", px=60_000)  # taken over behind its back
    await wait_until(lambda: not loops.running, 2)  # at its next renewal
    await asyncio.sleep(0.5)
    assert not loops.running and loops.starts == 1  # and it stands by
    await other.delete(LEASE_KEY)
    await wait_until(lambda: loops.running, 2)  # free again: it takes it
    stop.set()
    await leading


async def test_a_clean_stop_hands_the_lease_over_at_once(new_client: ClientFactory) -> None:
    first, second = Loops(), Loops()
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    leading = asyncio.create_task(
        RedisLeaderLease(new_client(), lease_seconds=30).lead(first, stop_first)
    )
    await wait_until(lambda: first.running, 2)
    standing_by = asyncio.create_task(
        RedisLeaderLease(new_client(), lease_seconds=30).lead(second, stop_second)
    )
    await asyncio.sleep(0.3)
    stop_first.set()
    await leading
    await wait_until(lambda: second.running, 2)  # not the 30 s lease
    stop_second.set()
    await standing_by


async def test_the_outbox_hint_follows_each_chats_window(redis_url: str) -> None:  # noqa: F811
    rates = RedisSendRates(redis_limits_storage(redis_url), per_group_minute=3)
    for _ in range(PRIVATE_CHAT_BURST):  # a private chat's burst, then one a second
        assert rates.can_send_now(5)
        await rates.acquire(5)
    assert not rates.can_send_now(5)
    for _ in range(2):  # a group's budget is per minute, and may be used at once
        await rates.acquire(-100)
        assert rates.can_send_now(-100)
    await rates.acquire(-100)
    assert not rates.can_send_now(-100)
    await asyncio.sleep(PRIVATE_CHAT_BURST + 0.05)
    assert rates.can_send_now(5) and not rates.can_send_now(-100)


async def test_a_worker_cut_off_from_redis_stops_its_loops_before_its_lease_ends(
    redis_server: RedisServer,  # noqa: F811
) -> None:
    loops, stop, lease = Loops(), asyncio.Event(), 1.5
    client = Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=1)
    leading = asyncio.create_task(RedisLeaderLease(client, lease_seconds=lease).lead(loops, stop))
    await wait_until(lambda: loops.running, 2)
    await asyncio.sleep(0.6)  # renewed once
    redis_server.stop()  # a standby that still reached Redis could take the lease after `lease`
    took = await wait_until(lambda: not loops.running, lease + 1)
    assert took < lease
    stop.set()
    await leading
    await client.aclose()
