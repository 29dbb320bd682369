"""A wrong setting stops `python -m bot` with one line naming it, and no traceback."""

from __future__ import annotations

import base64
from pathlib import Path

from bot.__main__ import retry_delays
from sandbox.emulator import Emulator
from tests.e2e.conftest import StartBot
from tests.e2e.harness import ROOT, TOKEN, base_environment, free_port, run_until_exit

CONFIGURED_KEY = base64.b64encode(bytes(range(32))).decode()


async def test_garbage_bot_token_stops_start_up_with_one_line(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = base_environment(emulator.api_base, tmp_path / "data")
    env["BOT_TOKEN"] = "garbage"
    result = await run_until_exit(env)
    assert result.code != 0
    assert len(result.lines) == 1, result.output
    assert "BOT_TOKEN" in result.lines[0]
    assert "garbage" not in result.output  # a secret, even a wrong one, is not echoed
    assert "Traceback" not in result.output


async def test_register_with_bad_rows_stops_start_up_naming_the_lines(
    emulator: Emulator, tmp_path: Path
) -> None:
    demo = (ROOT / "storage" / "demo" / "register.csv").read_text(encoding="utf-8")
    header, first, *_ = demo.splitlines()
    register = tmp_path / "register.csv"
    register.write_text(
        "\n".join(
            [
                header,  # line 1
                first,  # line 2: good
                first.replace(first.split(",")[0], "1234", 1),  # line 3: ENP of 4 digits
                "not,enough,columns",  # line 4
                first.replace("1985-06-12", "1990-13-01"),  # line 5: no 13th month
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    env = base_environment(emulator.api_base, tmp_path / "data")
    env["REGISTRY_PATH"] = str(register)
    result = await run_until_exit(env)
    assert result.code != 0
    assert len(result.lines) == 1, result.output
    line = result.lines[0]
    assert "REGISTRY_PATH" in line
    assert "line 3" in line and "line 4" in line and "3 bad row" in line
    # Each problem says why, not just "invalid".
    assert "line 3: enp: expected 16 digits" in line
    assert "line 5: birth_date: 1990-13-01 is not a date (expected YYYY-MM-DD)" in line
    assert "Traceback" not in result.output
    assert emulator.calls() == []  # it stopped before talking to Telegram


async def test_unreachable_telegram_stops_start_up_with_one_line_after_retrying(
    tmp_path: Path,
) -> None:
    api_base = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = base_environment(api_base, tmp_path / "data")
    env["STARTUP_RETRY_SECONDS"] = "1"  # one retry after 1 s; 15 s (1, 2, 4, 8) by default
    env["DATA_KEY"] = CONFIGURED_KEY  # a configured deployment: no "key generated" warning
    result = await run_until_exit(env)
    assert result.code == 2
    assert "Traceback" not in result.output
    assert TOKEN not in result.output
    retry, final = result.lines
    assert "WARNING" in retry and "retrying in 1 s" in retry
    assert final.startswith("Telegram unreachable: getMe failed 2 time(s)")
    assert "check the network and TELEGRAM_API_BASE=" + api_base in final


async def test_a_network_error_at_start_up_is_retried(
    start_bot: StartBot, emulator: Emulator
) -> None:
    emulator.drop_next("getMe")  # the connection closes with no answer
    bot = await start_bot()
    assert "Telegram unreachable" in bot.log() and "retrying in 1 s" in bot.log()


async def test_a_revoked_token_stops_start_up_with_one_line(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.fail_next("getMe", status=401)
    env = base_environment(emulator.api_base, tmp_path / "data")
    env["DATA_KEY"] = CONFIGURED_KEY  # a configured deployment: no "key generated" warning
    result = await run_until_exit(env)
    assert result.code == 2
    assert result.lines == [
        "BOT_TOKEN: Telegram rejected the token (401 Unauthorized);"
        " if it was revoked, @BotFather shows the current one"
    ]


def test_start_up_retries_back_off_within_the_budget() -> None:
    assert retry_delays(15) == [1, 2, 4, 8]
    assert retry_delays(0) == []
    assert retry_delays(2.5) == [1, 1.5]
    assert retry_delays(120) == [1, 2, 4, 8, 16, 30, 30, 29]


async def test_a_folder_as_the_register_is_named_as_a_folder(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = base_environment(emulator.api_base, tmp_path / "data")
    env["REGISTRY_PATH"] = str(tmp_path)
    result = await run_until_exit(env)
    assert result.code != 0
    assert result.lines == [
        f"Invalid configuration: REGISTRY_PATH: {tmp_path} is a directory, expected a CSV file"
    ], result.output
    assert emulator.calls() == []


async def test_a_missing_office_list_is_named(emulator: Emulator, tmp_path: Path) -> None:
    env = base_environment(emulator.api_base, tmp_path / "data")
    env["OFFICES_PATH"] = str(tmp_path / "offices.csv")
    result = await run_until_exit(env)
    assert result.code != 0
    assert result.lines == [
        f"Invalid configuration: OFFICES_PATH: no such file: {tmp_path / 'offices.csv'}"
    ], result.output
