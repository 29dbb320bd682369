"""DATA_KEY: its format, its errors (which never echo a key), and the generated key file."""

from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, describe_error
from storage.keys import (
    DataKeyError,
    fingerprint,
    load_data_keys,
    new_key_text,
    parse_data_keys,
)

# Parameters stay the same from one collection to the next (pytest-xdist compares them).
FIXED_KEY = base64.b64encode(bytes(range(32))).decode()


def test_one_bare_key_is_current_under_its_fingerprint() -> None:
    text = new_key_text()
    keys = parse_data_keys(text)
    secret = base64.b64decode(text)
    assert len(secret) == 32
    assert keys.current.secret == secret
    assert keys.ids == (fingerprint(secret),)
    assert text not in repr(keys)


def test_several_keys_the_first_is_current() -> None:
    new, old = new_key_text(), new_key_text()
    keys = parse_data_keys(f" 2025-b:{new} , 2025-a:{old},")
    assert keys.ids == ("2025-b", "2025-a")
    assert keys.current.id == "2025-b"
    assert keys.get("2025-a") is not None and keys.get("other") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected base64 of 32"),
        ("not base64!", "key 1: expected base64 of 32 bytes"),
        (base64.b64encode(b"short").decode(), "got 5 bytes"),
        ("bad id!:" + base64.b64encode(bytes(32)).decode(), "key 1: the id"),
        (f"a:{FIXED_KEY},a:{FIXED_KEY}", "key id listed twice: a"),
    ],
    ids=["empty", "not_base64", "short", "bad_id", "duplicate_id"],
)
def test_malformed_keys_are_named_without_echoing_them(text: str, message: str) -> None:
    with pytest.raises(DataKeyError, match=message) as caught:
        parse_data_keys(text)
    if text:
        assert text.split(":")[-1] not in str(caught.value)


def test_a_wrong_data_key_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = base64.b64encode(b"sixteen byte key").decode()
    monkeypatch.setenv("DATA_KEY", secret)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)  # type: ignore[call-arg]
    line = describe_error(caught.value)
    assert line.startswith("Invalid configuration: DATA_KEY: key 1: expected base64 of 32 bytes")
    assert secret not in line


def test_an_empty_data_key_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_KEY", "")
    assert Settings(_env_file=None).data_key is None  # type: ignore[call-arg]


def test_without_data_key_a_private_key_file_is_generated_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "data.key"
    with caplog.at_level(logging.WARNING, logger="storage.keys"):
        first = load_data_keys(None, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "DATA_KEY is not set" in caplog.text and str(key_file) in caplog.text
    assert key_file.read_text().strip() not in caplog.text
    caplog.clear()
    again = load_data_keys("", key_file)
    assert again.current == first.current
    assert caplog.text == ""  # warned once, when generated


def test_a_key_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    key_file = tmp_path / "data.key"
    key_file.write_text(new_key_text() + "\n")
    key_file.chmod(0o644)
    load_data_keys(None, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_data_key_wins_over_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "data.key"
    load_data_keys(None, key_file)
    configured = new_key_text()
    keys = load_data_keys(configured, key_file)
    assert keys.current.secret == base64.b64decode(configured)


def test_a_damaged_key_file_is_named(tmp_path: Path) -> None:
    key_file = tmp_path / "data.key"
    key_file.write_text("garbage\n")
    with pytest.raises(DataKeyError, match=r"data\.key: key 1"):
        load_data_keys(None, key_file)
