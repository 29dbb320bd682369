"""SQLite statements per update, step by step: the bot (bench/counted_bot.py) over the emulator
while N citizens take each step of the journey at once.

    .venv/bin/python -m bench.hops [citizens] [-v]

Prints statements per update for each step (background loops included, which is why the figures
are averaged over many citizens), and with -v each statement's first words and where it ran: on
the event loop (an update's own) or in aiosqlite's thread (background work).
"""

from __future__ import annotations

import asyncio
import json
import sys

from bench.processes import ROOT, BotUnderTest
from bench.session import stepped_bot


class CountedBot(BotUnderTest):
    name = "counted-bot"

    def command(self) -> list[str]:
        return [sys.executable, str(ROOT / "bench" / "counted_bot.py")]


async def count_hops(citizens: int) -> dict[str, dict[str, int]]:
    """Per step: hop label -> count over all citizens."""
    per_step: dict[str, dict[str, int]] = {}
    steps = stepped_bot(CountedBot, citizens, warm=5, suffix="json", out_env="BENCH_HOPS_DIR")
    async for _, step, path in steps:
        per_step[step.name] = json.loads(path.read_text(encoding="utf-8"))
    return per_step


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "-v"]
    citizens = int(args[0]) if args else 50
    per_step = asyncio.run(count_hops(citizens))
    for step, hops in per_step.items():
        print(f"{step:<16} {sum(hops.values()) / citizens:6.2f} statements/update")
        if "-v" in sys.argv:
            for label, count in sorted(hops.items(), key=lambda item: -item[1]):
                print(f"    {count / citizens:6.2f}  {label}")


if __name__ == "__main__":
    main()
