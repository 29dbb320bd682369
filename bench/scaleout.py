"""Scale-out (issue 14, item 6): whole electronic journeys at saturation with 1, 2 and 3 webhook
workers (`python -m bot web`) and one `python -m bot worker`, on PostgreSQL and Redis.

Each configuration gets a fresh database on one PostgreSQL server started for the item (with
its durability settings on, as a deployment runs it; the tests' server turns them off) and a
fresh redis-server, both from tests/postgres_server.py and tests/redis_server.py. The emulator
is Telegram and the load balancer: it posts each update to the next web process in turn
(`emulator.webhooks.route`). N citizens go through the journey (/start .. submit) with no
pause; the application's processing is held back (SLOW_PROCESSING) so the figures are the
dialog's alone, as in item 1's saturated journeys.

Latency is from the emulator posting an update to the answer that completes the step arriving
(bench/tracker.py). CPU is summed over every bot process, with PostgreSQL's and Redis's beside
it. The order of the configurations alternates run by run, so a drift in the machine's load
does not always favour the same one.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.citizens import JOURNEY, Citizen
from bench.processes import SLOW_PROCESSING, WEBHOOK_ORIGIN, RoleProcess
from bench.procstat import cpu_seconds
from bench.session import Session, driver_collector_paused, settle
from bench.stats import latency_ms, median_of_runs
from bench.steps import warm_up
from tests import postgres_server
from tests.redis_server import RedisServer, launch_redis

# The tests' settings less their fsync=off: commits reach the disk as in production.
DURABLE = "-c max_connections=200 -c shared_buffers=128MB"


@dataclass(frozen=True)
class ScaleoutConfig:
    webs: tuple[int, ...] = (1, 2, 3)
    citizens: int = 200
    warmup: int = 20


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def postgres_cpu(cluster: Path) -> float:
    """CPU seconds of the PostgreSQL server: the postmaster and its children (backends come
    and go, so only those alive at both ends of a phase count in full)."""
    postmaster = int((cluster / "postmaster.pid").read_text().split()[0])
    total = cpu_seconds(postmaster)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            if parent == postmaster:
                total += cpu_seconds(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue  # ended while we looked
    return total


async def saturate(
    processes: list[RoleProcess],
    citizens: list[Citizen],
    redis: RedisServer,
    cluster: Path,
) -> dict[str, Any]:
    """Every citizen through the whole journey at once; figures over the phase."""
    for process in processes:
        await settle(process)

    def meter() -> dict[str, float]:
        return {
            **{p.name: p.cpu() for p in processes},
            "postgres": postgres_cpu(cluster),
            "redis": cpu_seconds(redis.process.pid),
            "driver": time.process_time(),
        }

    with driver_collector_paused():
        before = meter()
        await asyncio.gather(*(c.journey() for c in citizens))
    samples = [s for c in citizens for s in c.samples]
    span = max(s.answered for s in samples) - min(s.handed for s in samples)
    for process in processes:
        await settle(process)
    after = meter()
    used = {name: after[name] - before[name] for name in before}
    count = len(citizens)
    bot_cpu = sum(used[p.name] for p in processes)
    web_cpu = sum(used[p.name] for p in processes if p.role == "web")
    return {
        "journeys_per_s": count / span,
        "updates_per_s": count * len(JOURNEY) / span,
        "latency_ms": latency_ms([s.latency for s in samples]),
        "bot_cpu_ms_per_journey": bot_cpu * 1000 / count,
        "web_cpu_ms_per_journey": web_cpu * 1000 / count,
        "postgres_cpu_ms_per_journey": used["postgres"] * 1000 / count,
        "redis_cpu_ms_per_journey": used["redis"] * 1000 / count,
        # Cores the web processes kept busy, together: near their count when they are the limit.
        "web_cores_busy": web_cpu / span,
        "postgres_cores_busy": used["postgres"] / span,
        # The emulator and the citizens share the machine's cores with the bot.
        "driver_cpu_share": used["driver"] / span,
        "errors": sum(s.errors for s in samples),
    }


async def one_configuration(
    server: postgres_server.PostgresServer,
    cluster: Path,
    directory: Path,
    register: Path,
    register_size: int,
    webs: int,
    config: ScaleoutConfig,
) -> dict[str, Any]:
    database = await server.create_database()
    (directory / "redis").mkdir(parents=True)
    redis = RedisServer(*await asyncio.to_thread(launch_redis, directory / "redis"))
    try:
        async with Session() as session:
            env = {
                **SLOW_PROCESSING,
                "REGISTRY_PATH": str(register),
                "DATABASE_URL": database,
                "REDIS_URL": redis.url,
            }
            data_dir = directory / "data"
            # The worker first: it creates the data key the web processes then read.
            processes = [RoleProcess(session.emulator, data_dir, env, "worker", "worker")]
            try:
                await processes[0].start()
                for n in range(1, webs + 1):
                    processes.append(RoleProcess(session.emulator, data_dir, env, "web", f"web{n}"))
                    await processes[-1].start()
                bases = [p.web_base for p in processes if p.role == "web"]
                session.emulator.webhooks.route(WEBHOOK_ORIGIN, *bases)
                await warm_up(session, register_size, config.warmup)
                citizens = session.citizens(config.citizens, register_size)
                figures = await saturate(processes, citizens, redis, cluster)
            except BaseException:
                for process in processes:  # what the bot said, for whoever reads the failure
                    problems = [
                        line
                        for line in process.log_text().splitlines()
                        if " ERROR " in line or " WARNING " in line
                    ]
                    _log(f"{process.name}: {len(problems)} warnings and errors")
                    for line in problems[-8:]:
                        _log(f"  {line[:300]}")
                raise
            finally:
                codes = {p.name: await p.stop() for p in reversed(processes)}
            broken = {name: code for name, code in codes.items() if code != 0}
            logs = {p.name: p.log_text() for p in processes}
            crashed = [name for name, text in logs.items() if "Traceback" in text]
            if broken or crashed:
                name = next(iter(broken), crashed[0] if crashed else "")
                raise RuntimeError(f"{name}: exit codes {codes}:\n{logs[name][-4000:]}")
    finally:
        await asyncio.to_thread(redis.stop)
        await server.drop_database(database)
    return figures


async def run_scaleout(
    work: Path, register: Path, register_size: int, config: ScaleoutConfig, runs: int
) -> dict[str, Any]:
    state_dir = postgres_server.new_state_dir()
    server = await asyncio.to_thread(postgres_server.launch, state_dir, DURABLE)
    measured: dict[int, list[dict[str, Any]]] = {n: [] for n in config.webs}
    try:
        for index in range(runs):
            order = config.webs if index % 2 == 0 else tuple(reversed(config.webs))
            for webs in order:
                _log(f"scaleout: run {index + 1}/{runs}, {webs} web")
                directory = work / f"scaleout-{index}-{webs}"
                measured[webs].append(
                    await one_configuration(
                        server,
                        state_dir / "cluster",
                        directory,
                        register,
                        register_size,
                        webs,
                        config,
                    )
                )
    finally:
        await asyncio.to_thread(postgres_server.stop, state_dir)
    summary = {str(n): median_of_runs(measured[n]) for n in config.webs}
    first = summary[str(config.webs[0])]["journeys_per_s"]
    for figures in summary.values():
        figures["speedup"] = figures["journeys_per_s"] / first
    return {
        "citizens": config.citizens,
        "runs_each": runs,
        "postgres_settings": DURABLE,
        "webs": summary,
        "runs": {str(n): measured[n] for n in config.webs},
    }
