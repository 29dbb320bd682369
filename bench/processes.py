"""The two bots as real processes polling the emulator: `python -m bot`, unmodified, and the bare
aiogram baseline (bench/baseline_bot.py); and the bot's roles for the scale-out item (`python -m
bot web` taking the emulator's webhook, `python -m bot worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

from bench.procstat import cpu_seconds, memory_kb
from sandbox.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAE-bench-TOKEN"
# The dialog benchmarks keep the background processing out of the way; the time-to-policy
# benchmark sets every delay to 0.
SLOW_PROCESSING = {
    "CHECK_DELAY_SECONDS": "3600",
    "STEP_DELAY_SECONDS": "3600",
    "PAPER_PRINT_DELAY_SECONDS": "3600",
    "POST_DELAY_SECONDS": "3600",
    "PICKUP_DELAY_SECONDS": "3600",
}
NO_DELAYS = {name: "0" for name in SLOW_PROCESSING}
# The public webhook Telegram posts to; the emulator routes it to the web processes' ports.
WEBHOOK_ORIGIN = "https://oms-bot.bench.invalid"
WEBHOOK_PATH = "/telegram/webhook"
WEBHOOK_SECRET = "bench-webhook-Secret_0123456789"
# Variables of the caller's environment that would configure the bot under test.
_BOT_SETTINGS = (
    *("BOT_", "TELEGRAM_", "DATA_", "DATABASE_", "PAPER_", "PAYMENT_", "SUPPORT_", "WEB_"),
    *("WEBHOOK_", "FLOOD_", "REDIS_", "WORKER_", "OUTBOX_"),
)


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotUnderTest:
    """A bot process: started, watched (CPU, RSS) and stopped by its pid."""

    name = "bot"

    def __init__(self, emulator: Emulator, data_dir: Path, env: Mapping[str, str]) -> None:
        self.emulator = emulator
        self.data_dir = data_dir
        self.extra_env = dict(env)
        self.process: asyncio.subprocess.Process | None = None
        self.killed = False
        self.log_path = data_dir / f"{self.name}.log"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bot"]

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_BOT_SETTINGS)}
        env.update(
            {
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE": self.emulator.api_base,
                "DATA_DIR": str(self.data_dir),
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        before = self._before_start()
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command(),
                cwd=ROOT,
                env=self.environment(),
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._ready(before):
            if self.process.returncode is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()}")
            if loop.time() > deadline:
                raise TimeoutError(f"{self.name} did not start polling:\n{self.log()}")
            await asyncio.sleep(0.05)

    def _before_start(self) -> object:
        return self.emulator.world.polling_generation

    def _ready(self, before: object) -> bool:
        """Once it polls for updates (after its start-up calls)."""
        assert isinstance(before, int)
        return self.emulator.world.polling_generation > before

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def memory(self) -> dict[str, int]:
        return memory_kb(self.pid)

    async def stop(self, timeout: float = 30.0) -> int:
        """SIGINT, and SIGKILL after `timeout` (then `killed` is set and -9 returned): the bot
        finishes its current outbox run before it exits, which takes long with a backlog."""
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else 0
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGINT)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.killed = True
            self.process.kill()
            return await self.process.wait()

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    @property
    def database_path(self) -> Path:
        return self.data_dir / "bot.sqlite3"

    def database_bytes(self) -> int:
        """The database with its write-ahead log, as it stands on disk."""
        return sum(
            p.stat().st_size
            for p in (self.database_path, Path(f"{self.database_path}-wal"))
            if p.exists()
        )


class BaselineBot(BotUnderTest):
    """The bare aiogram bot, answering with the calls recorded from the bot (`script`)."""

    name = "baseline"

    def __init__(self, emulator: Emulator, data_dir: Path, script: Path) -> None:
        super().__init__(emulator, data_dir, {})
        self.script = script

    def command(self) -> list[str]:
        return [sys.executable, str(ROOT / "bench" / "baseline_bot.py"), str(self.script)]


class RoleProcess(BotUnderTest):
    """`python -m bot web` (on a port of its own, taking the emulator's webhook) or `python -m
    bot worker`: one of several processes sharing DATABASE_URL and REDIS_URL in `env`."""

    def __init__(
        self, emulator: Emulator, data_dir: Path, env: Mapping[str, str], role: str, name: str
    ) -> None:
        self.name = name  # several share the data directory: a log each
        super().__init__(emulator, data_dir, env)
        self.role = role
        self.web_port = free_port()

    @property
    def web_base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bot", self.role]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.update({"WEB_HOST": "127.0.0.1", "WEB_PORT": str(self.web_port)})
        if self.role == "web":
            env["WEBHOOK_URL"] = WEBHOOK_ORIGIN + WEBHOOK_PATH
            env["WEBHOOK_SECRET"] = WEBHOOK_SECRET
        return env

    def _before_start(self) -> object:
        return (self.emulator.world.webhook, len(self.log_text()))

    def _ready(self, before: object) -> bool:
        assert isinstance(before, tuple)
        webhook, offset = before
        if self.role == "web":
            # setWebhook stores a new dict each time, even for the same URL.
            hook = self.emulator.world.webhook
            return hook is not None and hook is not webhook
        started = self.log_text()[offset:]
        return "worker: active" in started or "worker: standby" in started

    def log_text(self) -> str:
        """The whole log (log() keeps only its end)."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")
