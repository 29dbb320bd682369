"""Where the bot spends its time, step by step: the bot under pyinstrument (bench/profiled_bot.py)
while N citizens take each step of the journey at once, one profile per step.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python -m bench.profile [citizens] [out-dir]

Writes <out-dir>/<n>-<step>.txt: the main thread's samples summed by package (self time) and by
the project's own functions (inclusive), the time in the garbage collector, then pyinstrument's
call tree. Worker threads (aiosqlite's, asyncio.to_thread's) are not sampled: their work shows
as the awaits that wait for it. Beside each, <n>-<step>.pyisession keeps the samples for
`pyinstrument --load=... --show-all` and its other renderers.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path

from pyinstrument.frame import Frame
from pyinstrument.session import Session as ProfileSession

from bench.processes import ROOT, BotUnderTest
from bench.session import stepped_bot

PACKAGES = (
    "bot/",
    "core/",
    "storage/",
    "aiogram/",
    "aiohttp/",
    "pydantic",
    "asyncio/",
    "logging/",
    "json/",
    "aiosqlite/",
    "sqlite3",
    "multidict",
    "yarl/",
    "babel/",
    "aiolimiter/",
)


def _package(path: str) -> str:
    for name in PACKAGES:
        if name in path:
            return name.rstrip("/")
    return "other"


def summarize(session: ProfileSession, citizens: int, top: int = 25) -> str:
    """Self time per package, and inclusive time of the project's functions, per update."""
    root = session.root_frame()
    if root is None:
        return "no samples\n"
    by_package: Counter[str] = Counter()
    own: Counter[str] = Counter()

    def walk(frame: Frame, seen: frozenset[str]) -> None:
        path = frame.file_path or ""
        by_package[_package(path)] += frame.total_self_time
        key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        project = any(f"/{p}" in path for p in ("bot/", "core/", "storage/"))
        if project and key not in seen:
            own[key] += frame.time
            seen = seen | {key}
        for child in frame.children:
            walk(child, seen)

    walk(root, frozenset())
    idle = sum(t for name, t in by_package.items() if name == "other")
    lines = [
        f"main thread: {root.time * 1000:.0f} ms sampled over {citizens} updates "
        f"({root.time * 1000 / citizens:.2f} ms/update, idle waiting included in 'other': "
        f"{idle * 1000:.0f} ms)",
        "self time by package, ms per update:",
    ]
    for name, seconds in by_package.most_common():
        lines.append(f"  {name:<12} {seconds * 1000 / citizens:7.3f}")
    lines.append(f"project functions, inclusive ms per update (top {top}):")
    for name, seconds in own.most_common(top):
        lines.append(f"  {seconds * 1000 / citizens:7.3f}  {name}")
    return "\n".join(lines) + "\n"


class ProfiledBot(BotUnderTest):
    name = "profiled-bot"

    def command(self) -> list[str]:
        return [sys.executable, str(ROOT / "bench" / "profiled_bot.py")]


async def profile(citizens: int, out: Path) -> None:
    steps = stepped_bot(
        ProfiledBot,
        citizens,
        warm=20,
        suffix="txt",
        out_env="BENCH_PROFILE_DIR",
    )
    async for index, step, path in steps:
        name = step.name.replace("/", "").replace(" ", "_")
        text = path.read_text(encoding="utf-8")
        samples = path.with_suffix(".pyisession")
        if samples.exists():  # not with BENCH_PROFILE_INTERVAL=0
            saved = ProfileSession.load(str(samples))
            text = summarize(saved, citizens) + "\n" + text
            saved.save(str(out / f"{index}-{name}.pyisession"))
        (out / f"{index}-{name}.txt").write_text(text, encoding="utf-8")
        print(f"{step.name}: {out / f'{index}-{name}.txt'}", flush=True)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("bench/profiles")
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(profile(count, target))
