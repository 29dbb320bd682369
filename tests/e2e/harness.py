"""Runs the unmodified bot against the emulator: `python -m bot` as a subprocess, or its entry
point forked from a pre-imported interpreter (tests/e2e/forkserver.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.emulator import Emulator
from storage.keys import load_data_keys
from storage.vault import DiskFileVault
from tests.e2e.forkserver import ForkServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAE-e2e-TOKEN"
# Webhook mode: Telegram's view of the bot; the emulator routes it to the bot's local port.
WEBHOOK_ORIGIN = "https://oms-bot.e2e.invalid"
WEBHOOK_PATH = "/telegram/webhook"
WEBHOOK_SECRET = "e2e-webhook-Secret_0123456789"
FAST_TIMINGS = {
    "CHECK_DELAY_SECONDS": "0.2",
    "STEP_DELAY_SECONDS": "0.2",
    "PAPER_PRINT_DELAY_SECONDS": "0.2",
    "POST_DELAY_SECONDS": "0.2",
    "PICKUP_DELAY_SECONDS": "0.2",
}


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Variables of the caller's environment that would configure the bot under test.
_BOT_SETTINGS = (
    *("BOT_", "TELEGRAM_", "DATA_", "DATABASE_", "PAPER_", "PAYMENT_", "SUPPORT_", "WEB_"),
    *("WEBHOOK_", "FLOOD_", "REDIS_"),
)


def base_environment(api_base: str, data_dir: Path, web_port: int | None = None) -> dict[str, str]:
    """The bot's environment: the caller's minus anything that configures the bot, plus ours:
    polling, /healthz on 127.0.0.1:`web_port` (a free port when not given), no flood control."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_BOT_SETTINGS)}
    env.update(
        {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": api_base,
            "DATA_DIR": str(data_dir),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(web_port or free_port()),
            # Tests act far faster than a person: flood control is off but in test_flood.py.
            "FLOOD_LIMIT": "0",
            **FAST_TIMINGS,
        }
    )
    return env


@dataclass(frozen=True)
class Exit:
    code: int
    output: str  # stdout and stderr together

    @property
    def lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.strip()]


async def run_until_exit(env: Mapping[str, str], timeout: float = 30.0) -> Exit:
    """`python -m bot` with `env` (complete, see base_environment), for start-up failures."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=ROOT,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Exit(process.returncode, output.decode("utf-8", errors="replace"))


class BotProcess:
    """The bot under test: `python -m bot` as a subprocess, or, given a fork server, the same
    entry point forked from an interpreter that has done the imports already.

    `webhook=True` runs it in webhook mode: it listens on 127.0.0.1:`web_port`, and the emulator
    posts updates there as Telegram would through a TLS proxy at WEBHOOK_ORIGIN."""

    def __init__(
        self,
        emulator: Emulator,
        data_dir: Path,
        env: Mapping[str, str] | None = None,
        *,
        forkserver: ForkServer | None = None,
        webhook: bool = False,
    ):
        self.emulator = emulator
        self.data_dir = data_dir
        self.extra_env = dict(env or {})
        self.forkserver = forkserver
        self.webhook = webhook
        self.web_port = free_port()  # kept across restarts: the emulator's route points here
        self.process: asyncio.subprocess.Process | None = None
        self.pid: int | None = None
        self.log_path = data_dir / "bot.log"

    @property
    def web_base(self) -> str:
        """The bot's own HTTP server: /healthz, and the webhook in webhook mode."""
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def webhook_url(self) -> str:
        return WEBHOOK_ORIGIN + WEBHOOK_PATH

    def environment(self) -> dict[str, str]:
        env = base_environment(self.emulator.api_base, self.data_dir, self.web_port)
        if self.webhook:
            env.update({"WEBHOOK_URL": self.webhook_url, "WEBHOOK_SECRET": WEBHOOK_SECRET})
        return {**env, **self.extra_env}

    async def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        world = self.emulator.world
        # A getUpdates call is recorded only when it returns (a long poll may wait seconds), so
        # readiness is the emulator seeing a new poll begin; in webhook mode, a new setWebhook
        # (the bot sets it once it listens).
        polls_before = world.polling_generation
        webhook_before = world.webhook
        if self.webhook:
            self.emulator.webhooks.route(WEBHOOK_ORIGIN, self.web_base)
        if self.forkserver is not None:
            self.pid = self.forkserver.start(self.environment(), self.log_path)
        else:
            log = self.log_path.open("ab")
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=ROOT,
                env=self.environment(),
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
            self.pid = self.process.pid
            log.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Ready once it polls for updates, or has set its webhook, after setting its commands.
        while not self._ready(polls_before, webhook_before):
            if self.exit_code() is not None:
                raise RuntimeError(f"bot exited early:\n{self.log()}")
            if loop.time() > deadline:
                raise TimeoutError(f"bot did not start polling:\n{self.log()}")
            await asyncio.sleep(0.05)

    def _ready(self, polls_before: int, webhook_before: dict[str, Any] | None) -> bool:
        world = self.emulator.world
        if not self.webhook:
            return world.polling_generation > polls_before
        # setWebhook stores a new dict each time, even for the same URL.
        return world.webhook is not None and world.webhook is not webhook_before

    def exit_code(self) -> int | None:
        if self.forkserver is not None and self.pid is not None:
            return self.forkserver.exit_code(self.pid)
        return self.process.returncode if self.process is not None else None

    async def stop(self, timeout: float = 15.0) -> int:
        if self.pid is None:
            return 0
        code = self.exit_code()
        if code is not None:
            return code
        os.kill(self.pid, signal.SIGINT)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (code := self.exit_code()) is None:
            if loop.time() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                raise TimeoutError(f"bot did not stop:\n{self.log()}")
            # The emulator runs on this loop: wait without blocking it.
            if self.process is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.process.wait(), 0.05)
            else:
                await asyncio.sleep(0.05)
        return code

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def kill(self, timeout: float = 10.0) -> int:
        """kill -9: the process ends wherever it is, with no shutdown of any kind. Returns the
        exit code (-9). A forked bot is the fork server's child, which reaps it."""
        assert self.pid is not None and self.exit_code() is None
        os.kill(self.pid, signal.SIGKILL)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (code := self.exit_code()) is None:
            if loop.time() > deadline:
                raise TimeoutError("the killed bot did not exit")
            if self.process is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.process.wait(), 0.02)
            else:
                await asyncio.sleep(0.02)
        return code

    def log(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )

    # --- what the bot left on disk ------------------------------------------------------

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    def stored_files(self) -> list[Path]:
        """Files in the scan vault (its temporary ".incoming-" files excluded)."""
        if not self.files_dir.is_dir():
            return []
        return sorted(p for p in self.files_dir.iterdir() if not p.name.startswith("."))

    async def read_scan(self, stored: Path) -> bytes:
        """A stored scan decrypted with the key the bot generated in its data directory."""
        keys = load_data_keys(None, self.data_dir / "data.key")
        return await DiskFileVault(self.files_dir, keys).get(stored.name)

    def query(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        """Read the bot's database (read-only, so the running bot is not disturbed)."""
        uri = f"file:{self.data_dir / 'bot.sqlite3'}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as connection:
            connection.row_factory = sqlite3.Row
            return list(connection.execute(sql, params))
