"""`python -m bot` under pyinstrument, for bench/profile.py: SIGUSR1 starts sampling, SIGUSR2
stops it and writes the profile to $BENCH_PROFILE_DIR/<n>.txt (n = 1, 2, ...). The bot itself
is unchanged: this calls the same entry point `python -m bot` does.

BENCH_PROFILE_INTERVAL (seconds, default 0.0005) sets the sampling interval; 0 samples nothing and
leaves the CPU, round-trip and collector figures free of the sampler's cost (its hook runs on every
call, whatever the interval).

Needs the bench extra: `.venv/bin/pip install -e '.[bench]'`.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

OUT = Path(os.environ.get("BENCH_PROFILE_DIR", "."))
_state: dict[str, Any] = {"profiler": None, "count": 0}
_NO_SAMPLER = object()
# Time in the cyclic garbage collector per generation while sampling: pyinstrument charges a
# collection to whatever line allocated when it started, so it is measured apart.
_gc: dict[str, Any] = {"started": 0.0, "seconds": [0.0, 0.0, 0.0], "runs": [0, 0, 0]}
# Round trips to aiosqlite's worker thread (every execute, fetch and cursor close is one) and
# the CPU that thread spent on them; CPU of the whole process and of the event loop's thread.
_io: dict[str, Any] = {"sql_calls": 0, "sql_thread_s": 0.0, "process_s": 0.0, "loop_s": 0.0}


def _count_sqlite_round_trips() -> None:
    import aiosqlite.core

    original = aiosqlite.core.Connection._execute

    async def _execute(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if _state["profiler"] is None:
            return await original(self, fn, *args, **kwargs)
        _io["sql_calls"] += 1

        def timed(*a: Any, **k: Any) -> Any:
            started = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                _io["sql_thread_s"] += time.thread_time() - started

        return await original(self, timed, *args, **kwargs)

    aiosqlite.core.Connection._execute = _execute  # type: ignore[method-assign]


def _gc_callback(phase: str, info: dict[str, int]) -> None:
    if _state["profiler"] is None:
        return
    if phase == "start":
        _gc["started"] = time.perf_counter()
    else:
        generation = info["generation"]
        _gc["seconds"][generation] += time.perf_counter() - _gc["started"]
        _gc["runs"][generation] += 1


def _start(*_: object) -> None:
    if _state["profiler"] is None:
        # async_mode disabled: sample whatever the main thread runs, across all tasks.
        interval = float(os.environ.get("BENCH_PROFILE_INTERVAL", "0.0005"))
        # 0: no sampler at all, its hook runs on every call whatever the interval.
        profiler = Profiler(interval=interval, async_mode="disabled") if interval else _NO_SAMPLER
        _gc.update(seconds=[0.0, 0.0, 0.0], runs=[0, 0, 0])
        _io.update(
            sql_calls=0, sql_thread_s=0.0, process_s=time.process_time(), loop_s=time.thread_time()
        )
        if profiler is not _NO_SAMPLER:
            profiler.start()
        _state["profiler"] = profiler


def _stop(*_: object) -> None:
    profiler = _state["profiler"]
    if profiler is None:
        return
    _state["profiler"] = None
    _state["count"] += 1
    text = "(not sampled)\n"
    if profiler is not _NO_SAMPLER:
        profiler.stop()
        text = profiler.output_text(
            unicode=True, color=False, show_all=os.environ.get("BENCH_PROFILE_ALL") == "1"
        )
    collections = ", ".join(
        f"gen{g}: {_gc['runs'][g]} runs {_gc['seconds'][g] * 1000:.1f} ms" for g in range(3)
    )
    process = time.process_time() - _io["process_s"]
    loop = time.thread_time() - _io["loop_s"]
    counts = (
        f"CPU: process {process * 1000:.0f} ms, event loop thread {loop * 1000:.0f} ms; "
        f"aiosqlite: {_io['sql_calls']} round trips, {_io['sql_thread_s'] * 1000:.0f} ms CPU in "
        "its thread"
    )
    text = f"{counts}\nGarbage collector while sampling: {collections}\n{text}"
    if profiler is not _NO_SAMPLER and profiler.last_session is not None:
        profiler.last_session.save(str(OUT / f"{_state['count']}.pyisession"))
    # Written last: its presence tells bench/profile.py both files are complete.
    (OUT / f"{_state['count']}.txt").write_text(text, encoding="utf-8")


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    gc.callbacks.append(_gc_callback)
    _count_sqlite_round_trips()
    from bot.__main__ import main as bot_main

    return bot_main()


if __name__ == "__main__":
    sys.exit(main())
