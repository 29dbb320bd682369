"""A throwaway redis-server for the tests: Debian's binary (scripts/install-redis.sh) on
127.0.0.1 and a free port, nothing saved to disk, stopped after the test.

Without redis-server the tests that need it skip, saying how to get it; under CI (env CI set)
they fail instead, so a CI machine can never pass by skipping them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

MISSING = (
    "redis-server is not installed: run scripts/install-redis.sh as root"
    " (apt-get install redis-server); `make test` does"
)


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _pairs(options: dict[str, str]) -> list[str]:
    return [part for name, value in options.items() for part in (f"--{name}", value)]


def launch_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """redis-server on 127.0.0.1 and a free port, for whoever needs one (the tests, the
    benchmark): FileNotFoundError when it is not installed, RuntimeError when it does not
    start."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError(MISSING)
    port = _free_port()
    options = {"bind": "127.0.0.1", "port": str(port), "save": "", "appendonly": "no"}
    process = subprocess.Popen(
        [binary, *_pairs(options), "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"redis-server did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    return process, f"redis://127.0.0.1:{port}/0"


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """launch_redis for a test: skips without redis-server (fails under CI)."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    try:
        return launch_redis(directory)
    except RuntimeError as error:
        pytest.fail(str(error))


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        """Stops the server (a test may do so itself, to take Redis away)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this test's own."""
    server = RedisServer(*start_redis(tmp_path_factory.mktemp("redis")))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of a redis-server of this test's own."""
    return redis_server.url
