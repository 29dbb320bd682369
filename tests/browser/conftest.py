"""The sandbox run the way `make run` runs it: `python -m bot` with no BOT_TOKEN, as a process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from tests.e2e.harness import FAST_TIMINGS

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = re.compile(r"Sandbox ready: open (http://\S+) in a browser")
BOT_PID = re.compile(r"starting the bot \(pid (\d+)\)")
API_BASE = re.compile(r"emulator listening on (http://\S+)")


Launch = Callable[..., "Launcher"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Launcher:
    """One sandbox process; its output is collected line by line on a thread."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        env: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        """``command`` replaces ``python -m bot`` (a `make run`-like parent); it then runs in a
        process group of its own, as a service manager starts it."""
        self.port = port
        self.lines: list[str] = []
        self._changed = threading.Condition()
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))
        }
        environment.update(
            {
                "BOT_TOKEN": "",  # wins over a developer's .env: always the sandbox
                "SANDBOX_HOST": "127.0.0.1",
                "SANDBOX_PORT": str(port),
                "DATA_DIR": str(data_dir),
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                **FAST_TIMINGS,
                **(env or {}),
            }
        )
        self.process = subprocess.Popen(
            list(command or [sys.executable, "-m", "bot"]),
            cwd=ROOT,
            start_new_session=command is not None,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if found := pattern.search(line):
                        return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (
                    self.process.poll() is not None and not self._reader.is_alive()
                ):
                    raise AssertionError(f"no line matching {pattern.pattern!r}:\n{self.output}")
                self._changed.wait(min(remaining, 0.5))

    def wait_ready(self, timeout: float = 60.0) -> str:
        return self.wait_for(READY_LINE, timeout).group(1)

    @property
    def bot_pid(self) -> int:
        return int(self.wait_for(BOT_PID).group(1))

    @property
    def api_base(self) -> str:
        return self.wait_for(API_BASE).group(1)

    def stop(self, timeout: float = 30.0) -> int:
        """Ctrl+C, as a person at the terminal would; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.wait_exit(timeout)

    def wait_exit(self, timeout: float = 30.0) -> int:
        try:
            code = self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        return code


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    """Start sandboxes in a test; whatever is still running afterwards is killed."""
    started: list[Launcher] = []

    def start(
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        data_dir: Path | None = None,
    ) -> Launcher:
        launcher = Launcher(data_dir or tmp_path / "data", port or free_port(), env)
        started.append(launcher)
        return launcher

    yield start
    for launcher in started:
        if launcher.process.poll() is None:
            launcher.process.kill()
            launcher.process.wait()
