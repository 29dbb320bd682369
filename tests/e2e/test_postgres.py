"""The unmodified bot on PostgreSQL (DATABASE_URL), and what a wrong DATABASE_URL does."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from pypdf import PdfReader

from bot.i18n import Texts
from sandbox.client import SandboxClient
from sandbox.emulator import Emulator
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess, base_environment, run_until_exit
from tests.e2e.journey import IVANOV, new_citizen


@pytest.fixture
async def bot(postgres_url: str, start_bot: StartBot) -> BotProcess:
    # postgres_url first: its database is dropped only after the bot has stopped.
    return await start_bot({"DATABASE_URL": postgres_url})


async def test_the_electronic_journey_runs_on_postgresql(
    bot: BotProcess, client: SandboxClient, texts: Texts, postgres_url: str
) -> None:
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    number = await c.submit()
    for status in ("processing", "approved", "ready"):
        await c.wait_status(status)
    document = await c.user.wait_for(lambda m: "document" in m, timeout=15)
    pdf = PdfReader(io.BytesIO(await c.user.download(document["document"]["file_id"])))
    assert number in pdf.pages[0].extract_text()

    connection = await asyncpg.connect(postgres_url)
    try:
        row = await connection.fetchrow(
            "SELECT status, policy_file_id FROM applications WHERE number = $1", number
        )
        changes = await connection.fetchval("SELECT count(*) FROM status_changes")
    finally:
        await connection.close()
    assert row is not None and row["status"] == "ready" and row["policy_file_id"]
    assert changes == 4  # submitted, processing, approved, ready
    assert not (bot.data_dir / "bot.sqlite3").exists()  # nothing went to the embedded default
    async with aiohttp.ClientSession() as http, http.get(bot.web_base + "/healthz") as answer:
        assert answer.status == 200
        assert (await answer.json())["database"] == "ok"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://bot:hunter2@db/oms", "expected sqlite:///"),
        ("postgresql://bot:hunter2@127.0.0.1:1/oms", "cannot connect to"),
    ],
    ids=["not-a-database-url", "server-unreachable"],
)
async def test_a_wrong_database_url_stops_start_up_with_one_line(
    emulator: Emulator, tmp_path: Path, url: str, says: str
) -> None:
    env = base_environment(emulator.api_base, tmp_path / "data")
    env.update({"DATABASE_URL": url, "STARTUP_RETRY_SECONDS": "0"})
    result = await run_until_exit(env)
    assert result.code == 2
    assert len(result.lines) == 1, result.output
    assert result.lines[0].startswith(("DATABASE_URL", "Invalid configuration: DATABASE_URL"))
    assert says in result.lines[0]
    assert "hunter2" not in result.output  # the password is never echoed
    assert emulator.calls() == []  # it stopped before talking to Telegram
