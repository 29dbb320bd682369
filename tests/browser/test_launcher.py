"""The launcher's contract, in-process with a stand-in bot (fast; the real bot runs in
test_sandbox_page.py): what the bot is given, clean stops, and clear failures."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from bot.settings import Settings
from sandbox.launcher import (
    DEFAULT_SUPPORT_CHAT_ID,
    OPERATOR_USER_ID,
    SANDBOX_TOKEN,
    SECOND_OPERATOR_USER_ID,
    STOP_TIMEOUT_SECONDS,
    run_sandbox,
)
from tests.browser.conftest import Launcher, free_port, process_alive

# A stand-in for `python -m bot`: reports what it was given and what the emulator holds, then
# behaves as asked: "crash" before polling, "die" after it, or "serve" until told to stop (having
# asked the launcher to stop with SIGTERM, as a service manager would); "term-twice" repeats that
# SIGTERM while it takes its time to stop, as `make` passing a group's SIGTERM on does; "stubborn"
# ignores SIGTERM and has the launcher interrupted twice, as an impatient person at a terminal.
FAKE_BOT = r"""
import json, os, signal, sys, time, urllib.request
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
mode = sys.argv[1]
if mode == "crash":
    print("fatal: the stand-in bot broke", flush=True)
    sys.exit(3)
base = os.environ["TELEGRAM_API_BASE"] + "/bot" + os.environ["BOT_TOKEN"]
def call(method, **params):
    request = urllib.request.Request(
        base + "/" + method, json.dumps(params).encode(), {"Content-Type": "application/json"}
    )
    return json.load(urllib.request.urlopen(request))["result"]
names = ("BOT_TOKEN", "DATA_DIR", "SUPPORT_CHAT_ID", "OPERATOR_IDS")
group = int(os.environ["SUPPORT_CHAT_ID"])
report = {name: os.environ[name] for name in names}
report["is_forum"] = call("getChat", chat_id=group).get("is_forum")
report["operator_status"] = [
    call("getChatMember", chat_id=group, user_id=int(user_id))["status"]
    for user_id in os.environ["OPERATOR_IDS"].split(",")
]
print("report " + json.dumps(report), flush=True)
# A long poll, as aiogram's: the launcher is ready when it begins, well before it ends.
call("getUpdates", timeout=1)
if mode == "die":
    print("the stand-in bot gives up", flush=True)
    sys.exit(4)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.kill(os.getppid(), signal.SIGINT)
    time.sleep(0.5)
    os.kill(os.getppid(), signal.SIGINT)
    while True:
        time.sleep(1)
os.kill(os.getppid(), signal.SIGTERM)
while not stop:
    call("getUpdates", timeout=1)
if mode == "term-twice":
    os.kill(os.getppid(), signal.SIGTERM)
    time.sleep(1.0)  # finishing the updates in hand, as the real bot does
print("stand-in bot stopped by SIGTERM", flush=True)
"""


def fake_bot(mode: str) -> list[str]:
    return [sys.executable, "-c", FAKE_BOT, mode]


def reported(text: str) -> dict[str, object]:
    report: dict[str, object] = json.loads(text.split("report ", 1)[1].splitlines()[0])
    return report


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=None,
        data_dir=tmp_path / "data",
        sandbox_host="127.0.0.1",
        sandbox_port=free_port(),
        support_chat_id=None,
    )


def test_the_bot_gets_the_sandbox_and_stops_first_on_sigterm(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_sandbox(settings, bot_command=fake_bot("serve")) == 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert reported(text) == {
        "BOT_TOKEN": SANDBOX_TOKEN,
        "DATA_DIR": str((settings.data_dir / "sandbox").resolve()),
        "SUPPORT_CHAT_ID": str(DEFAULT_SUPPORT_CHAT_ID),
        "OPERATOR_IDS": f"{OPERATOR_USER_ID},{SECOND_OPERATOR_USER_ID}",
        "is_forum": True,
        "operator_status": ["administrator", "administrator"],
    }
    ready = f"Sandbox ready: open http://127.0.0.1:{settings.sandbox_port} in a browser"
    assert ready in out.out
    # The bot is stopped before the launcher says it has stopped.
    assert text.index("stopping the bot") < text.index("stand-in bot stopped by SIGTERM")
    assert out.out.rstrip().endswith("sandbox: stopped")
    assert "Traceback" not in text
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", settings.sandbox_port)) != 0


def test_a_repeated_sigterm_still_stops_the_bot_gracefully(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A supervisor's SIGTERM to `make run`'s process group reaches the launcher twice."""
    assert run_sandbox(settings, bot_command=fake_bot("term-twice")) == 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert "stand-in bot stopped by SIGTERM" in text
    assert "exited with code" not in text and "not waiting" not in text
    assert out.out.rstrip().endswith("sandbox: stopped")


def test_a_second_ctrl_c_stops_waiting_for_the_bot(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    run_sandbox(settings, bot_command=fake_bot("stubborn"))
    # Well before the graceful stop's own time limit.
    assert time.monotonic() - started < STOP_TIMEOUT_SECONDS
    out = capsys.readouterr().out
    assert "second Ctrl+C: not waiting for the bot any longer" in out
    assert "did not stop in time" not in out
    assert out.rstrip().endswith("sandbox: stopped")


def test_a_bot_that_dies_while_starting_is_reported(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_sandbox(settings, bot_command=fake_bot("crash")) == 1
    out = capsys.readouterr().out
    assert "the bot stopped unexpectedly (exit code 3); its last lines:" in out
    assert "  | fatal: the stand-in bot broke" in out
    assert "Sandbox ready" not in out


def test_a_bot_that_dies_later_is_reported(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_sandbox(settings, bot_command=fake_bot("die")) == 1
    out = capsys.readouterr().out
    assert "Sandbox ready" in out
    assert "the bot stopped unexpectedly (exit code 4); its last lines:" in out
    assert "  | the stand-in bot gives up" in out


def test_a_busy_port_is_explained(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", settings.sandbox_port))
        busy.listen()
        assert run_sandbox(settings, bot_command=fake_bot("serve")) == 1
    out = capsys.readouterr().out
    assert f"cannot serve the page on 127.0.0.1:{settings.sandbox_port}" in out
    assert "set SANDBOX_PORT to a free port" in out
    assert "starting the bot" not in out


def test_a_folder_it_did_not_create_is_never_wiped(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = settings.data_dir / "sandbox" / "precious.txt"
    precious.parent.mkdir(parents=True)
    precious.write_text("not the sandbox's", encoding="utf-8")
    assert run_sandbox(settings, bot_command=fake_bot("serve")) == 1
    assert "holds files the sandbox did not create" in capsys.readouterr().out
    assert precious.read_text(encoding="utf-8") == "not the sandbox's"


def test_a_second_run_starts_afresh_with_the_configured_support_chat(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_sandbox(settings, bot_command=fake_bot("serve")) == 0
    leftover = settings.data_dir / "sandbox" / "bot.sqlite3"
    leftover.write_text("from the previous run", encoding="utf-8")
    capsys.readouterr()
    settings.support_chat_id = -1009999999999
    assert run_sandbox(settings, bot_command=fake_bot("serve")) == 0
    # The emulator's world is new each run, so the bot's saved state must not outlive it.
    assert not leftover.exists()
    assert (settings.data_dir / "sandbox" / ".oms-sandbox").exists()
    out = capsys.readouterr()
    report = reported(out.out + out.err)
    assert report["SUPPORT_CHAT_ID"] == "-1009999999999"
    assert report["is_forum"] is True


def test_ctrl_c_while_the_real_bot_is_still_starting(tmp_path: Path) -> None:
    """The impatient newcomer: `make run`, then Ctrl+C at once. No traceback, nothing left."""
    sandbox = Launcher(tmp_path / "data", free_port())
    try:
        bot_pid = sandbox.bot_pid  # the bot has just been started: it is still importing
        assert sandbox.stop() == 0, sandbox.output
        assert "Traceback" not in sandbox.output, sandbox.output
        assert "Sandbox ready" not in sandbox.output
        assert "exited with code" not in sandbox.output
        assert not process_alive(bot_pid)
    finally:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.wait()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_sigterm_to_the_process_group_of_make_run_stops_everything_gracefully(
    tmp_path: Path,
) -> None:
    """What a service manager does to `make run`: SIGTERM to the whole group. make passes it on
    to the launcher, which so gets it twice; the real bot must still stop gracefully."""
    makefile = tmp_path / "Makefile"
    # The recipe of `make run`, with this interpreter; no shell metacharacters, so make runs it
    # as its own child, exactly as with the project's Makefile.
    makefile.write_text(f"run:\n\t{shlex.quote(sys.executable)} -m bot\n", encoding="utf-8")
    sandbox = Launcher(
        tmp_path / "data", free_port(), command=["make", "-s", "-f", str(makefile), "run"]
    )
    try:
        sandbox.wait_ready()
        bot_pid = sandbox.bot_pid
        os.killpg(sandbox.process.pid, signal.SIGTERM)
        sandbox.wait_exit()
        output = sandbox.output
        assert "stopping the bot" in output, output
        assert "exited with code" not in output, output  # was: "the bot exited with code -9"
        assert "did not stop in time" not in output and "Traceback" not in output, output
        assert output.rstrip().endswith("sandbox: stopped"), output
        assert not process_alive(bot_pid)
    finally:
        if sandbox.process.poll() is None:
            os.killpg(sandbox.process.pid, signal.SIGKILL)
            sandbox.process.wait()
