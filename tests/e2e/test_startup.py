"""A wrong setting stops `python -m bot` with one line naming it, and no traceback."""

from __future__ import annotations

from pathlib import Path

from sandbox.emulator import Emulator
from tests.e2e.harness import ROOT, base_environment, run_until_exit


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
