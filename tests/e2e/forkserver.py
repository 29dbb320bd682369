"""Starts bot processes for the end-to-end tests without paying the imports each time.

`python -m bot` spends about four seconds importing aiogram (its types build pydantic models at
import). This server imports the bot's entry point once, then forks one child per test; the child
sets its environment and calls `bot.__main__.main()`, the very function `python -m bot` runs, so
what is tested is the unmodified bot. test_smoke.py and test_startup.py still start real
`python -m bot` subprocesses.

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
  {"cmd": "start", "env": {...}, "log": "<path>", "cwd": "<dir>", "args": [...]} -> {"pid": N}
  {"cmd": "poll", "pid": N} -> {"code": <exit code or null while running>}
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]


def _child(request: dict[str, Any]) -> None:
    """Runs in the forked child: never returns."""
    code = 1
    try:
        os.chdir(request["cwd"])
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [str(ROOT / "bot" / "__main__.py"), *request.get("args", [])]
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from bot.__main__ import main

        code = main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    import bot.__main__  # noqa: F401 - the expensive imports, done once before any fork

    children: dict[int, int | None] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["cmd"] == "start":
            pid = os.fork()
            if pid == 0:
                _child(request)
            children[pid] = None
            answer: dict[str, Any] = {"pid": pid}
        else:
            pid = int(request["pid"])
            if children.get(pid) is None:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    children[pid] = os.waitstatus_to_exitcode(status)
            answer = {"code": children.get(pid)}
        print(json.dumps(answer), flush=True)
    for pid, code in children.items():
        if code is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


class ForkServer:
    """The test side: one server per pytest session (per xdist worker)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.forkserver"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        stdin: IO[str] | None = self._process.stdin
        stdout: IO[str] | None = self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        answer: dict[str, Any] = json.loads(stdout.readline())
        return answer

    def start(self, env: dict[str, str], log: Path, args: Sequence[str] = ()) -> int:
        request = {"cmd": "start", "env": env, "log": str(log), "cwd": str(ROOT), "args": args}
        return int(self._ask(request)["pid"])

    def exit_code(self, pid: int) -> int | None:
        code = self._ask({"cmd": "poll", "pid": pid})["code"]
        return None if code is None else int(code)

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)


if __name__ == "__main__":
    serve()
