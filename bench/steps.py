"""Item 1: every step of the electronic journey and whole journeys, the bot against the bare
aiogram baseline, each a real process polling the emulator over HTTP.

One run of one bot (a fresh process, a fresh emulator) goes through three phases, each with its
own fresh citizens:

* think time: N citizens walk the journey together, 1-3 s between a person's steps. Citizen c
  takes step k at 2k + b_c + j_ck seconds, b_c ~ U(0, 1.5) fixed per person, j_ck ~ U(-0.5,
  0.5): the pause between two steps is 2 s + (j_c,k+1 - j_ck), between 1 and 3 s, 2 s on
  average, so N citizens send N/2 updates per second, as N people pausing 1-3 s would. Step k's
  updates fall in [2k - 0.5, 2k + 2] with thin ramps at both ends; the bot's CPU between the
  middles of the overlaps (2k - 0.25 and 2k + 1.75) is charged to step k (a few percent of
  the updates at the edges fall on the neighbour's side, both ways).
* saturation, per step: N citizens take step k all at once; the next step starts when every
  answer is in and the bot is idle again.
* saturation, whole journeys: N citizens each go through the journey with no pause at all.

Latency is from getUpdates handing the update out to the arrival of the answer that completes
the step (bench/tracker.py). CPU is the bot process's, all threads (bench/procstat.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.citizens import JOURNEY, STEP_NAMES, Citizen, Sample
from bench.processes import BotUnderTest
from bench.session import CpuMeter, Session, driver_collector_paused, settle
from bench.stats import latency_ms, sleep_until


@dataclass(frozen=True)
class StepsConfig:
    citizens: int = 200
    warmup: int = 20
    window: float = 2.0  # seconds per step: the average pause
    spread: float = 1.5  # b_c ~ U(0, spread): where in the window a person acts
    jitter: float = 0.5  # j_ck ~ U(-jitter, jitter): the pause is window ± 2 * jitter
    seed: int = 7


def _step_figures(samples: list[Sample], bot_cpu: float, count: int) -> dict[str, Any]:
    latencies = [s.latency for s in samples]
    handed = min(s.handed for s in samples)
    answered = max(s.answered for s in samples)
    span = answered - handed
    return {
        "latency_ms": latency_ms(latencies),
        "cpu_ms_per_update": bot_cpu * 1000 / count,
        "updates_per_s": count / span if span > 0 else float("nan"),
        "errors": sum(s.errors for s in samples),
    }


async def think_phase(
    session: Session, process: BotUnderTest, citizens: list[Citizen], config: StepsConfig
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    rng = random.Random(config.seed)
    offsets = []
    for _ in citizens:
        base = rng.uniform(0, config.spread)
        offsets.append([base + rng.uniform(-config.jitter, config.jitter) for _ in JOURNEY])
    t0 = loop.time() + 1.0
    # Step k spans [kW - jitter, kW + spread + jitter], step k-1 ends at kW - W + spread +
    # jitter: the middle of their overlap is kW - (W - spread) / 2.
    edge = (config.window - config.spread) / 2
    late = 0
    by_step: dict[str, list[Sample]] = {name: [] for name in STEP_NAMES}

    async def walk(citizen: Citizen, mine: list[float]) -> None:
        nonlocal late
        for k, step in enumerate(JOURNEY):
            planned = t0 + k * config.window + mine[k]
            if loop.time() > planned + 0.05:
                late += 1
            await sleep_until(planned)
            by_step[step.name].append(await citizen.step(step))

    marks: list[tuple[float, float]] = []

    async def sample_cpu() -> None:
        await sleep_until(t0 - config.jitter - 0.1)
        marks.append((process.cpu(), time.process_time()))
        for k in range(1, len(JOURNEY)):
            await sleep_until(t0 + k * config.window - edge)
            marks.append((process.cpu(), time.process_time()))

    walks = (walk(c, o) for c, o in zip(citizens, offsets, strict=True))
    with driver_collector_paused():
        own_before = time.process_time()
        await asyncio.gather(sample_cpu(), *walks)
    await settle(process)
    marks.append((process.cpu(), time.process_time()))
    steps: dict[str, Any] = {}
    for k, name in enumerate(STEP_NAMES):
        cpu = marks[k + 1][0] - marks[k][0]
        figures = _step_figures(by_step[name], cpu, len(citizens))
        figures["updates_per_s"] = len(citizens) / config.window  # the offered rate
        figures["driver_cpu_share"] = (marks[k + 1][1] - marks[k][1]) / config.window
        steps[name] = figures
    total_cpu = marks[-1][0] - marks[0][0]
    journeys = {
        "cpu_ms_per_journey": total_cpu * 1000 / len(citizens),
        "cpu_ms_per_update": total_cpu * 1000 / (len(citizens) * len(JOURNEY)),
        "updates_per_s": len(citizens) * len(JOURNEY) / (len(JOURNEY) * config.window),
        "latency_ms": latency_ms([s.latency for v in by_step.values() for s in v]),
        "late_steps": late,
        "driver_cpu_s": time.process_time() - own_before,
    }
    return {"steps": steps, "journeys": journeys}


async def saturation_steps(
    session: Session, process: BotUnderTest, citizens: list[Citizen]
) -> dict[str, Any]:
    steps: dict[str, Any] = {}
    for step in JOURNEY:
        await settle(process)
        with driver_collector_paused():
            meter = CpuMeter(process)
            meter.start()
            samples = await asyncio.gather(*(c.step(step) for c in citizens))
        await settle(process)
        used = meter.stop()
        figures = _step_figures(list(samples), used["bot_cpu_s"], len(citizens))
        figures["driver_cpu_share"] = used["driver_cpu_s"] / max(
            max(s.answered for s in samples) - min(s.injected for s in samples), 1e-9
        )
        steps[step.name] = figures
    return steps


async def saturation_journeys(
    session: Session, process: BotUnderTest, citizens: list[Citizen]
) -> dict[str, Any]:
    await settle(process)
    with driver_collector_paused():
        meter = CpuMeter(process)
        meter.start()
        await asyncio.gather(*(c.journey() for c in citizens))
    samples = [s for c in citizens for s in c.samples]
    span = max(s.answered for s in samples) - min(s.handed for s in samples)
    await settle(process)
    used = meter.stop()
    count = len(citizens)
    updates = count * len(JOURNEY)
    per_step = {
        name: latency_ms([s.latency for s in samples if s.step == name]) for name in STEP_NAMES
    }
    return {
        "journeys_per_s": count / span,
        "updates_per_s": updates / span,
        "cpu_ms_per_journey": used["bot_cpu_s"] * 1000 / count,
        "cpu_ms_per_update": used["bot_cpu_s"] * 1000 / updates,
        "latency_ms": latency_ms([s.latency for s in samples]),
        "step_latency_ms": per_step,
        "driver_cpu_share": used["driver_cpu_s"] / span,
        "errors": sum(s.errors for s in samples),
    }


async def warm_up(session: Session, register_size: int, count: int) -> None:
    if count:
        await asyncio.gather(*(c.journey() for c in session.citizens(count, register_size)))


async def run_steps(
    session: Session, process: BotUnderTest, register_size: int, config: StepsConfig
) -> dict[str, Any]:
    """The three phases on a started process; returns this run's figures."""
    await warm_up(session, register_size, config.warmup)
    n = config.citizens
    think = await think_phase(session, process, session.citizens(n, register_size), config)
    saturated = await saturation_steps(session, process, session.citizens(n, register_size))
    journeys = await saturation_journeys(session, process, session.citizens(n, register_size))
    await settle(process)
    memory = process.memory()
    return {
        "think": think["steps"],
        "saturation": saturated,
        "journeys_think": think["journeys"],
        "journeys_saturation": journeys,
        "peak_rss_mb": memory.get("VmHWM", 0) / 1024,
        "applications": config.warmup + 3 * n,
    }


def database_bytes_after_stop(process: BotUnderTest) -> int:
    path: Path = process.database_path
    return path.stat().st_size if path.exists() else 0
