"""One measured run: a fresh emulator on 127.0.0.1, its tracker and its citizens, and helpers to
read a bot process's CPU around a phase."""

from __future__ import annotations

import asyncio
import copy
import gc
import importlib
import itertools
import os
import signal
import tempfile
import time
import types
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.citizens import JOURNEY, Citizen, Driver, Step
from bench.processes import SLOW_PROCESSING, BotUnderTest
from bench.register import write_register
from bench.tracker import Tracker
from bot.i18n import Texts, create_texts
from sandbox.emulator import Emulator

_TEXTS: Texts | None = None
_COPYING_MODULES = ("actions", "control", "messaging", "methods_chats", "methods_messages", "state")


def _json_copy(value: Any, memo: Any = None) -> Any:
    """copy.deepcopy for the emulator's JSON-shaped objects, several times faster."""
    kind = type(value)
    if kind is dict:
        return {k: _json_copy(v) for k, v in value.items()}
    if kind is list:
        return [_json_copy(v) for v in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value, memo)


def lighten_emulator() -> None:
    """The emulator shares this process with the driver and, at saturation, its copying of
    every message becomes the limit on both bots' throughput. Its modules copy only JSON
    values, so a JSON-shaped copy does the same work faster (this process only)."""
    fast = types.SimpleNamespace(deepcopy=_json_copy, copy=copy.copy)
    for name in _COPYING_MODULES:
        module = importlib.import_module(f"sandbox.emulator.{name}")
        if getattr(module, "copy", None) is copy:
            module.copy = fast  # type: ignore[attr-defined]


@contextmanager
def driver_collector_paused() -> Iterator[None]:
    """No garbage collection in this process (the emulator and the citizens) while a phase is
    measured; a full one before it instead. The emulator keeps every message, and the
    collector's full passes over them stalled it for 200-280 ms twice a phase: every update in
    flight then waited that long, bot or bare alike, and the p99 of a step depended on where
    the pauses fell (scan upload: p99 41-54 ms without them, 160-393 ms with). Start a phase's
    meters inside the block, after that collection."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def texts() -> Texts:
    global _TEXTS
    if _TEXTS is None:
        _TEXTS = create_texts()
    return _TEXTS


class Session:
    """`async with Session() as s:` an emulator, a tracker and a driver, torn down after."""

    def __init__(self, *, first_user_id: int = 10_000_000) -> None:
        self.emulator = Emulator()
        self._ids = itertools.count(first_user_id)
        self.tracker: Tracker
        self.driver: Driver

    async def __aenter__(self) -> Session:
        lighten_emulator()
        await self.emulator.start()
        self.tracker = Tracker(self.emulator)
        self.driver = Driver(self.emulator, self.tracker, texts())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.tracker.close()
        await self.emulator.stop()

    def citizens(self, count: int, register_size: int) -> list[Citizen]:
        made = []
        for _ in range(count):
            user_id = next(self._ids)
            made.append(self.driver.citizen(user_id, user_id % register_size))
        return made


@dataclass
class CpuMeter:
    """CPU seconds of the bot process and of this (driver + emulator) process over a phase."""

    process: BotUnderTest
    bot_start: float = 0.0
    own_start: float = 0.0
    wall_start: float = 0.0
    marks: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.bot_start = self.process.cpu()
        self.own_start = time.process_time()
        self.wall_start = time.perf_counter()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self.wall_start
        return {
            "bot_cpu_s": self.process.cpu() - self.bot_start,
            "driver_cpu_s": time.process_time() - self.own_start,
            "wall_s": wall,
        }


async def settle(process: BotUnderTest, *, idle_ms: float = 3.0, limit: float = 3.0) -> None:
    """Wait until the process is idle: under `idle_ms` of CPU in 100 ms (its timers excepted)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    before = process.cpu()
    while loop.time() < deadline:
        await asyncio.sleep(0.1)
        now = process.cpu()
        if (now - before) * 1000 < idle_ms:
            return
        before = now


async def signalled_steps(
    process: BotUnderTest, people: Sequence[Citizen], work: Path, suffix: str
) -> AsyncIterator[tuple[int, Step, Path]]:
    """Each step of the journey taken by `people` at once, between SIGUSR1 and SIGUSR2 to the
    bot (which starts and stops recording then, e.g. bench/profiled_bot.py, bench/counted_bot.py)
    and once the bot has written `work/<step number>.<suffix>`; yields the step and that file."""
    for index, step in enumerate(JOURNEY, start=1):
        await settle(process)
        os.kill(process.pid, signal.SIGUSR1)
        await asyncio.sleep(0.05)
        await asyncio.gather(*(c.step(step) for c in people))
        await settle(process)
        os.kill(process.pid, signal.SIGUSR2)
        path = work / f"{index}.{suffix}"
        for _ in range(100):
            if path.exists():
                break
            await asyncio.sleep(0.05)
        yield index, step, path


STEPPED_REGISTER_SIZE = 2_000


async def stepped_bot(
    kind: Callable[[Emulator, Path, Mapping[str, str]], BotUnderTest],
    citizens: int,
    *,
    warm: int,
    suffix: str,
    out_env: str,
) -> AsyncIterator[tuple[int, Step, Path]]:
    """A recording bot (`kind`, writing its files into the directory named by `out_env`) over
    a fresh emulator and register, `warm` journeys first, then signalled_steps for `citizens`
    citizens; the bot is stopped when the iteration ends."""
    with tempfile.TemporaryDirectory(prefix="oms-steps-") as tmp:
        work = Path(tmp)
        register = write_register(work / "register.csv", STEPPED_REGISTER_SIZE)
        async with Session() as session:
            process = kind(
                session.emulator,
                work / "bot",
                {
                    **SLOW_PROCESSING,
                    "REGISTRY_PATH": str(register),
                    out_env: str(work),
                },
            )
            await process.start()
            try:
                warmers = session.citizens(warm, STEPPED_REGISTER_SIZE)
                await asyncio.gather(*(c.journey() for c in warmers))
                people = session.citizens(citizens, STEPPED_REGISTER_SIZE)
                async for item in signalled_steps(process, people, work, suffix):
                    yield item
            finally:
                await process.stop()
