"""`make bench` (or `python -m bench [--quick] [--only ...]`): the bot over HTTP, as Telegram talks
to it, next to a bare aiogram bot, against the local Bot API emulator on 127.0.0.1.

Items (the issue's numbering):
  steps     1. every step and whole journeys, with think time and at saturation: the bot and the
               bare aiogram baseline as real processes, alternated run by run, medians of --runs
  pdf       2. the policy PDF with and without the QR code, alternated in the same run
  policy    3. submit -> PDF with every delay at 0: one at a time, and 200 at once
  delivery  4. 10,000 notifications through the outbox against Telegram's flood limits
  parked    5. RSS and database growth over 10,000 dialogs stopped half-way
  growth    6. cost per update and time to the policy with 1k/10k/100k applications stored
  scaleout  whole journeys at saturation with 1, 2 and 3 webhook workers and one worker
               process, on PostgreSQL and Redis (issue 14); medians of --runs

Prints Markdown tables and writes bench/results.json; with --only, the items measured replace
theirs in the saved file and the others are kept. --quick is a ~5 minute version with
smaller counts (the figures are then rougher; the full run takes about 25-30 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiogram

from bench.calibration import record_journey, sends_per_step
from bench.growth import GrowthConfig, run_growth
from bench.outbox import DeliveryConfig, run_delivery
from bench.parked import ParkedConfig, run_parked
from bench.pdf import run_pdf
from bench.policy_time import PolicyConfig, run_policy_time
from bench.processes import NO_DELAYS, SLOW_PROCESSING, BaselineBot, BotUnderTest
from bench.procstat import machine
from bench.register import write_register
from bench.report import render, summarize_steps, targets
from bench.scaleout import ScaleoutConfig, run_scaleout
from bench.session import Session
from bench.steps import StepsConfig, run_steps

ITEMS = ("steps", "pdf", "policy", "delivery", "parked", "growth", "scaleout")
RESULTS = Path(__file__).with_name("results.json")
REGISTER_SIZE = 2_000


@dataclass(frozen=True)
class Plan:
    # Item 1's runs of each bot, alternated. A step's CPU ratio moved by 0.2-0.3 between
    # single runs: five give a steadier median than three.
    runs: int = 5
    steps: StepsConfig = field(default_factory=StepsConfig)
    renders: int = 200
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    parked: ParkedConfig = field(default_factory=ParkedConfig)
    growth: GrowthConfig = field(default_factory=GrowthConfig)
    scaleout: ScaleoutConfig = field(default_factory=ScaleoutConfig)


QUICK = Plan(
    runs=1,
    steps=StepsConfig(citizens=50, warmup=10),
    renders=40,
    policy=PolicyConfig(one_at_a_time=2, at_once=10, budget=10, min_samples=2, crowd_cap=15),
    delivery=DeliveryConfig(notifications=300, chats=100, stall_seconds=10),
    parked=ParkedConfig(citizens=300, warmup=30),
    growth=GrowthConfig(sizes=(1_000, 10_000), citizens=20, rounds=1, policies=1, warmup=5),
    scaleout=ScaleoutConfig(citizens=60, warmup=10),
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def bench_steps(work: Path, register: Path, plan: Plan) -> dict[str, Any]:
    """Bot and baseline alternated, run by run; the first bot run also records the calls the
    baseline replays."""
    runs: dict[str, Any] = {"bot": [], "baseline": []}
    script_path = work / "baseline-script.json"
    for index in range(plan.runs):
        for kind in ("bot", "baseline"):
            async with Session() as session:
                data_dir = work / f"steps-{kind}-{index}"
                if kind == "bot":
                    process: BotUnderTest = BotUnderTest(
                        session.emulator,
                        data_dir,
                        {**SLOW_PROCESSING, "REGISTRY_PATH": str(register)},
                    )
                else:
                    process = BaselineBot(session.emulator, data_dir, script_path)
                await process.start()
                try:
                    if kind == "bot" and index == 0:
                        citizen = session.citizens(1, REGISTER_SIZE)[0]
                        script = await record_journey(session.tracker, citizen)
                        script_path.write_text(json.dumps(script, ensure_ascii=False))
                        runs["sends_per_step"] = sends_per_step(script)
                    log(f"steps: run {index + 1}/{plan.runs}, {kind}")
                    figures = await run_steps(session, process, REGISTER_SIZE, plan.steps)
                finally:
                    code = await process.stop()
                if code != 0:
                    raise RuntimeError(f"{kind} exited with {code}:\n{process.log()}")
                if kind == "bot":
                    size = process.database_path.stat().st_size
                    figures["db_bytes_per_application"] = size / (figures["applications"] + 1)
                runs[kind].append(figures)
    return {"runs": runs, "summary": summarize_steps(runs, plan.steps.citizens)}


async def bench_policy(work: Path, register: Path, plan: Plan) -> dict[str, Any]:
    async with Session() as session:
        process = BotUnderTest(
            session.emulator, work / "policy", {**NO_DELAYS, "REGISTRY_PATH": str(register)}
        )
        await process.start()
        try:
            figures = await run_policy_time(session, process, REGISTER_SIZE, plan.policy)
        finally:
            await process.stop()
        figures["stopped_by_kill"] = process.killed
        return figures


def _clean(value: Any) -> Any:
    """NaN is not JSON: null instead."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


async def collect(args: argparse.Namespace) -> dict[str, Any] | None:
    plan = QUICK if args.quick else Plan()
    if args.runs:
        plan = Plan(**{**plan.__dict__, "runs": args.runs})
    only = set(args.only.split(",")) if args.only else set(ITEMS)
    unknown = only - set(ITEMS)
    if unknown:
        print(f"unknown items {sorted(unknown)}; choose from {', '.join(ITEMS)}", file=sys.stderr)
        return None
    started = time.perf_counter()
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "command": command(args),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            **machine(),
            "python": platform.python_version(),
            "aiogram": aiogram.__version__,
        },
    }
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
        work = Path(tmp)
        register = write_register(work / "register.csv", REGISTER_SIZE)
        items: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
            "steps": lambda: bench_steps(work, register, plan),
            "pdf": lambda: asyncio.to_thread(run_pdf, plan.renders),
            "policy": lambda: bench_policy(work, register, plan),
            "delivery": lambda: run_delivery(work, register, REGISTER_SIZE, plan.delivery),
            "parked": lambda: run_parked(work, register, REGISTER_SIZE, plan.parked),
            "growth": lambda: run_growth(work, register, REGISTER_SIZE, plan.growth),
            "scaleout": lambda: run_scaleout(
                work, register, REGISTER_SIZE, plan.scaleout, plan.runs
            ),
        }
        for name in ITEMS:
            if name not in only:
                continue
            log(name)
            try:
                results[name] = await items[name]()
            except Exception as error:  # one broken item must not lose the others' figures
                log(f"{name} failed: {error!r}\n{traceback.format_exc()}")
                results.setdefault("errors", {})[name] = repr(error)
            # What is measured so far, in case a later item breaks the run.
            partial = json.dumps(_clean(results), ensure_ascii=False, indent=1)
            await asyncio.to_thread(out.with_suffix(".partial.json").write_text, partial)
    results["seconds"] = time.perf_counter() - started
    results["machine"]["load_average_after"] = machine()["load_average"]
    results["targets"] = targets(results)
    return results


def command(args: argparse.Namespace) -> str:
    """What reproduces this run."""
    given = (["--quick"] if args.quick else []) + (["--only", args.only] if args.only else [])
    given += ["--runs", str(args.runs)] if args.runs else []
    return "make bench" + (f' BENCH_ARGS="{" ".join(given)}"' if given else "")


def merge(saved: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    """A run of some items (--only) into the saved full run: its items replace the saved ones,
    the rest stay, and `partial_runs` says which items came from which run, on what machine."""
    measured = [name for name in ITEMS if name in results or name in results.get("errors", {})]
    merged = {key: value for key, value in saved.items() if key not in ("errors", "targets")}
    errors = {k: v for k, v in saved.get("errors", {}).items() if k not in measured}
    for name in measured:
        merged.pop(name, None)
        if name in results:
            merged[name] = results[name]
    errors.update(results.get("errors", {}))
    if errors:
        merged["errors"] = errors
    runs = [r for r in saved.get("partial_runs", []) if set(r["items"]) - set(measured)]
    info = {k: results[k] for k in ("mode", "command", "started", "machine", "seconds")}
    merged["partial_runs"] = [*runs, {"items": measured, **info}]
    merged["targets"] = targets(merged)
    return merged


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.render:
        # The tables again from a saved run (targets re-judged), without measuring anything.
        saved = json.loads(Path(args.render).read_text(encoding="utf-8"))
        saved["targets"] = targets(saved)
        print(render(saved))
        return 0
    results = asyncio.run(collect(args))
    if results is None:
        return 2
    print(render(results))
    seconds = results["seconds"]
    out = Path(args.out)
    if args.only and out.exists():
        results = merge(json.loads(out.read_text(encoding="utf-8")), results)
    out.write_text(json.dumps(_clean(results), ensure_ascii=False, indent=1) + "\n")
    out.with_suffix(".partial.json").unlink(missing_ok=True)
    log(f"wrote {out} in {seconds / 60:.1f} min")
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, about 5 minutes")
    parser.add_argument("--only", help=f"comma-separated items: {', '.join(ITEMS)}")
    parser.add_argument(
        "--runs",
        type=int,
        help="runs per bot for item 1, per configuration for scaleout (default 3)",
    )
    parser.add_argument("--out", default=str(RESULTS), help="where to write the JSON")
    parser.add_argument("--render", metavar="JSON", help="print the tables of a saved run")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
