"""The background loops: a wake or a stop that arrives while a run is going on is never lost."""

from __future__ import annotations

import asyncio

from bot.workers import PeriodicTask


async def test_a_stop_during_a_run_ends_the_loop_at_once_whatever_the_interval() -> None:
    started = asyncio.Event()

    async def job() -> None:
        started.set()
        await asyncio.sleep(0.05)

    task = PeriodicTask("slow", job, interval=3600)
    task.start()
    await started.wait()
    async with asyncio.timeout(1):  # was: waited out the hour-long interval
        await task.stop()


async def test_a_wake_during_a_run_starts_the_next_run_at_once() -> None:
    runs = 0
    first_started, second_started = asyncio.Event(), asyncio.Event()

    async def job() -> None:
        nonlocal runs
        runs += 1
        (first_started if runs == 1 else second_started).set()
        await asyncio.sleep(0.05)

    task = PeriodicTask("outbox", job, interval=3600)
    task.start()
    await first_started.wait()
    task.wake()  # e.g. a commit queued a notification while the sender was busy
    async with asyncio.timeout(1):
        await second_started.wait()
    await task.stop()
