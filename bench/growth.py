"""Item 6: does the bot slow down as applications pile up? With 1,000, 10,000 and 100,000
finished applications already stored (seeded, bench/seed.py), every delay at 0:

* cost per update: CPU of the bot per update while M citizens go from /start to the summary
  at saturation, the median of three such groups (the submit is left out: with no delays it
  sets off the processing and the PDF, which the next figure times);
* time to the policy: K of them submit one at a time; from submit to the PDF in the chat.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.policy_time import TO_SUMMARY, submit_and_wait_pdf
from bench.processes import NO_DELAYS, BotUnderTest
from bench.seed import seed
from bench.session import CpuMeter, Session, driver_collector_paused, settle
from bench.stats import median


@dataclass(frozen=True)
class GrowthConfig:
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    citizens: int = 200
    # Cost per update: the median of this many groups of `citizens`. A group's figure varies by
    # 10-15% from one to the next (how updates bunch up at saturation): five, not three.
    rounds: int = 5
    policies: int = 10  # a median of tens of milliseconds: more than a few
    warmup: int = 20


async def one_size(
    work: Path, register: Path, register_size: int, stored: int, config: GrowthConfig
) -> dict[str, Any]:
    data_dir = work / f"growth-{stored}"
    started = time.perf_counter()
    await seed(data_dir / "bot.sqlite3", register, register_size, applications=stored)
    seeded_s = time.perf_counter() - started
    async with Session() as session:
        process = BotUnderTest(
            session.emulator, data_dir, {**NO_DELAYS, "REGISTRY_PATH": str(register)}
        )
        await process.start()
        try:
            warm = session.citizens(config.warmup, register_size)
            await asyncio.gather(*(c.journey(TO_SUMMARY) for c in warm))
            # One policy end to end warms the PDF path; waiting for it leaves no backlog.
            await submit_and_wait_pdf(session, warm[0], 60.0)
            await settle(process)
            costs = []
            for _ in range(config.rounds):
                citizens = session.citizens(config.citizens, register_size)
                with driver_collector_paused():
                    meter = CpuMeter(process)
                    meter.start()
                    await asyncio.gather(*(c.journey(TO_SUMMARY) for c in citizens))
                await settle(process)
                used = meter.stop()
                costs.append(used["bot_cpu_s"] * 1000 / (len(citizens) * len(TO_SUMMARY)))
            seconds = []
            with driver_collector_paused():
                for citizen in citizens[: config.policies]:
                    handed, arrived, _wait = await submit_and_wait_pdf(session, citizen, 60.0)
                    seconds.append(arrived - handed)
        finally:
            await process.stop()
    return {
        "stored": stored,
        "cpu_ms_per_update": median(costs),
        "cpu_ms_per_update_rounds": costs,
        "submit_to_pdf_s": median(seconds),
        "seed_s": seeded_s,
    }


async def run_growth(
    work: Path, register: Path, register_size: int, config: GrowthConfig
) -> dict[str, Any]:
    sizes = {}
    for stored in config.sizes:
        sizes[str(stored)] = await one_size(work, register, register_size, stored, config)
    first, last = sizes[str(config.sizes[0])], sizes[str(config.sizes[-1])]
    return {
        "sizes": sizes,
        "cpu_change": last["cpu_ms_per_update"] / first["cpu_ms_per_update"] - 1,
        "time_to_policy_change": last["submit_to_pdf_s"] / first["submit_to_pdf_s"] - 1,
    }
