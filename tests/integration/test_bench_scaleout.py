"""The benchmark's scale-out item (bench/scaleout.py) end to end in its smallest configuration:
real web and worker processes on PostgreSQL and Redis, so a change to the roles or their
settings fails here rather than in `make bench`."""

from __future__ import annotations

from pathlib import Path

from bench.register import write_register
from bench.scaleout import ScaleoutConfig, run_scaleout
from tests import postgres_server
from tests.redis_server import redis_server  # noqa: F401 - the fixture


async def test_scaleout_item_runs_journeys_through_two_web_processes(
    tmp_path: Path,
    redis_server: object,  # noqa: F811 - only its skip (or failure, under CI) without redis
) -> None:
    postgres_server.postgres_server()  # the same: skips, or fails under CI, without PostgreSQL
    register = write_register(tmp_path / "register.csv", 20)
    config = ScaleoutConfig(webs=(2,), citizens=3, warmup=0)
    figures = await run_scaleout(tmp_path, register, 20, config, runs=1)
    two = figures["webs"]["2"]
    assert two["latency_ms"]["n"] == 3 * 9 and two["errors"] == 0
    assert two["journeys_per_s"] > 0 and two["bot_cpu_ms_per_journey"] > 0
    assert two["speedup"] == 1.0
