"""Runs the unmodified bot (`python -m bot`) as a subprocess against the emulator."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from sandbox.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAE-e2e-TOKEN"
FAST_TIMINGS = {
    "CHECK_DELAY_SECONDS": "0.2",
    "STEP_DELAY_SECONDS": "0.2",
    "PAPER_PRINT_DELAY_SECONDS": "0.2",
    "POST_DELAY_SECONDS": "0.2",
    "PICKUP_DELAY_SECONDS": "0.2",
}


class BotProcess:
    def __init__(self, emulator: Emulator, data_dir: Path, env: Mapping[str, str] | None = None):
        self.emulator = emulator
        self.data_dir = data_dir
        self.extra_env = dict(env or {})
        self.process: asyncio.subprocess.Process | None = None
        self.log_path = data_dir / "bot.log"

    def environment(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_", "DATA_"))
        }
        env.update(
            {
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE": self.emulator.api_base,
                "DATA_DIR": str(self.data_dir),
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                **FAST_TIMINGS,
                **self.extra_env,
            }
        )
        return env

    async def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        polls_before = len(self.emulator.calls("getUpdates"))
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
        log.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Ready once it polls for updates after setting its commands.
        while len(self.emulator.calls("getUpdates")) <= polls_before:
            if self.process.returncode is not None:
                raise RuntimeError(f"bot exited early:\n{self.log()}")
            if loop.time() > deadline:
                raise TimeoutError(f"bot did not start polling:\n{self.log()}")
            await asyncio.sleep(0.05)

    async def stop(self, timeout: float = 15.0) -> int:
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGINT)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def log(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )
