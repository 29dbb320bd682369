"""The keys that encrypt passport scans at rest: DATA_KEY, or a key generated into DATA_DIR.

DATA_KEY lists one or more keys, comma-separated, the current one first; each is the base64 of
32 random bytes, optionally labelled `id:base64`. New files are encrypted under the first key;
the others only decrypt, so files written before a rotation stay readable while their key is
listed. A key without a label gets its fingerprint as id, so `DATA_KEY=<new>,<old>` rotates
without naming keys; a labelled key must keep its label, files name their key by it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")


class DataKeyError(ValueError):
    """DATA_KEY or the key file is malformed; the message never holds key material."""


@dataclass(frozen=True, slots=True)
class DataKey:
    id: str
    secret: bytes = field(repr=False)


class DataKeys:
    """The configured keys: `current` encrypts, every listed key decrypts."""

    def __init__(self, keys: Iterable[DataKey]) -> None:
        self._keys = tuple(keys)
        if not self._keys:
            raise DataKeyError("expected at least one key")
        ids = [key.id for key in self._keys]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise DataKeyError(f"key id listed twice: {', '.join(duplicates)}")
        self._by_id = {key.id: key for key in self._keys}

    @property
    def current(self) -> DataKey:
        return self._keys[0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key.id for key in self._keys)

    def get(self, key_id: str) -> DataKey | None:
        return self._by_id.get(key_id)

    def __repr__(self) -> str:
        return f"DataKeys(ids={self.ids!r})"


def fingerprint(secret: bytes) -> str:
    """The id of a key written without one. A truncated hash of 256 random bits gives nothing
    away about the key; the prefix keeps it apart from the raw key's own hash."""
    return hashlib.sha256(b"oms-data-key-id\x00" + secret).hexdigest()[:12]


def parse_data_keys(text: str) -> DataKeys:
    """`base64`, `id:base64`, or several of either, comma-separated, the current key first."""
    keys = []
    for position, entry in enumerate((part.strip() for part in text.split(",")), start=1):
        if not entry:
            continue
        key_id, _, encoded = entry.rpartition(":")  # base64 has no colon
        if key_id and not _KEY_ID.fullmatch(key_id):
            raise DataKeyError(
                f"key {position}: the id before ':' must be 1-32 letters, digits, '_', '.', '-'"
            )
        try:
            secret = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise DataKeyError(f"key {position}: expected base64 of {KEY_BYTES} bytes") from None
        if len(secret) != KEY_BYTES:
            raise DataKeyError(
                f"key {position}: expected base64 of {KEY_BYTES} bytes, got {len(secret)} bytes"
            )
        keys.append(DataKey(key_id or fingerprint(secret), secret))
    if not keys:
        raise DataKeyError(f"expected base64 of {KEY_BYTES} random bytes")
    return DataKeys(keys)


def new_key_text() -> str:
    """A fresh key as DATA_KEY takes it."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def load_data_keys(configured: str | None, key_file: Path) -> DataKeys:
    """The keys from DATA_KEY when set (the key file is then ignored); otherwise the key in
    `key_file`, generated with mode 0600 on first start."""
    if configured is not None and configured.strip():
        return parse_data_keys(configured)
    try:
        return _read_key_file(key_file)
    except FileNotFoundError:
        pass
    text = new_key_text()
    try:
        # O_EXCL: of two processes starting at once, one writes and the other reads its key.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(key_file)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(text + "\n")
        file.flush()
        os.fsync(file.fileno())
    log.warning(
        "DATA_KEY is not set: generated the key that encrypts passport scans into %s. "
        "Without it the scans cannot be read: back it up, ideally apart from the data, "
        "or move it into DATA_KEY",
        key_file,
    )
    return parse_data_keys(text)


def _read_key_file(key_file: Path) -> DataKeys:
    text = key_file.read_text(encoding="ascii")
    if key_file.stat().st_mode & 0o077:
        key_file.chmod(0o600)  # a copy restored by hand may have come back readable to others
    try:
        return parse_data_keys(text)
    except DataKeyError as error:
        raise DataKeyError(f"{key_file}: {error}") from None
