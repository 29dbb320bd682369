"""Item 5: what a dialog left half-way costs: the bot's resident memory and its database's growth
over N citizens who stop mid-dialog (after /start and consent: the bot waits for the phone).

RSS is VmRSS of the bot process after it has settled; the database's size is its page count
(read-only, through the write-ahead log, so it is the committed size whatever the WAL holds).
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.citizens import JOURNEY, Citizen
from bench.processes import SLOW_PROCESSING, BotUnderTest
from bench.session import Session, settle

PARK_AFTER = JOURNEY[:2]  # /start, consent: parked at the contact step


@dataclass(frozen=True)
class ParkedConfig:
    citizens: int = 10_000
    batch: int = 250
    warmup: int = 100


def database_size(path: Path) -> int:
    uri = f"file:{path}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
    return int((pages - free) * size)


async def _park(citizens: list[Citizen], batch: int) -> None:
    for start in range(0, len(citizens), batch):
        await asyncio.gather(*(c.journey(PARK_AFTER) for c in citizens[start : start + batch]))


async def run_parked(
    work: Path, register: Path, register_size: int, config: ParkedConfig
) -> dict[str, Any]:
    async with Session() as session:
        process = BotUnderTest(
            session.emulator,
            work / "parked",
            {**SLOW_PROCESSING, "REGISTRY_PATH": str(register)},
        )
        await process.start()
        try:
            await _park(session.citizens(config.warmup, register_size), config.batch)
            await settle(process)
            rss_before = process.memory()["VmRSS"]
            db_before = database_size(process.database_path)
            await _park(session.citizens(config.citizens, register_size), config.batch)
            await settle(process)
            await asyncio.sleep(1.0)
            rss_after = process.memory()["VmRSS"]
            db_after = database_size(process.database_path)
        finally:
            await process.stop()
    count = config.citizens
    return {
        "citizens": count,
        "parked_at": "contact (after /start and consent)",
        "rss_mb_before": rss_before / 1024,
        "rss_mb_after": rss_after / 1024,
        "rss_bytes_per_dialog": (rss_after - rss_before) * 1024 / count,
        "db_bytes_per_dialog": (db_after - db_before) / count,
        "bytes_per_dialog": ((rss_after - rss_before) * 1024 + db_after - db_before) / count,
    }
