"""Passport scans on disk under generated names, encrypted, written atomically, off the event loop.

A file is `MAGIC, key id length, key id, nonce, AES-GCM ciphertext with its tag`. The header and
the file's name are authenticated with the content, so a file cannot be swapped for another
one or pointed at another key unnoticed. Scans are decrypted only in memory, for `get`.
Files written before encryption (no header) stay readable and are encrypted by
`encrypt_stale_files` at start-up, together with files still under an older key.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.models import StoredFile, VaultEntry
from storage.keys import DataKey, DataKeys

log = logging.getLogger(__name__)

# Only names this vault generates are accepted back, so "../" and absolute paths cannot reach
# get() or delete(): the check is on the name itself, before any path is built.
_NAME = re.compile(r"[0-9a-f]{32}(?:\.[a-z0-9]{1,8})?")
_TEMPORARY_PREFIX, _TEMPORARY_SUFFIX = ".incoming-", ".tmp"
# What mkstemp makes of them (its random part is letters, digits and "_").
_TEMPORARY = re.compile(r"\.incoming-[A-Za-z0-9_]{1,32}\.tmp")
_SUFFIX = re.compile(r"(?:\.[a-z0-9]{1,8})?")

MAGIC = b"OMSVAULT\x01"  # the last byte is the format version
_NONCE_BYTES = 12  # AES-GCM's standard nonce, random per file
# The longest header: magic, id length, a 255-byte id, nonce; enough to read a file's key id.
_MAX_HEADER = len(MAGIC) + 1 + 255 + _NONCE_BYTES


class InvalidFileName(ValueError):
    pass


class VaultFileUnreadable(ValueError):
    """A stored file's key is not configured, or its content was altered or cut."""


@dataclass(frozen=True, slots=True)
class _Header:
    key_id: str
    nonce: bytes
    raw: bytes


class DiskFileVault:
    """core.ports.FileVault on a directory created with mode 0700; files are 0600 and encrypted
    under the current key of `keys`."""

    def __init__(self, root: Path, keys: DataKeys) -> None:
        self._root = Path(root)
        self._keys = keys

    @property
    def root(self) -> Path:
        return self._root

    async def put(self, data: bytes, suffix: str) -> StoredFile:
        """Store `data` under a fresh name; `suffix` like ".jpg" (a missing dot is added)."""
        suffix = suffix.lower()
        if suffix and not suffix.startswith("."):
            suffix = f".{suffix}"
        if not _SUFFIX.fullmatch(suffix):
            raise InvalidFileName("suffix must be a dot and up to 8 letters or digits")
        name = f"{uuid.uuid4().hex}{suffix}"
        # Hashing a scan of a few megabytes takes milliseconds: in the worker thread too.
        digest = await asyncio.to_thread(self._write_and_hash, name, data)
        return StoredFile(name=name, sha256=digest, size=len(data))

    async def get(self, name: str) -> bytes:
        """The file's content, decrypted in memory; FileNotFoundError if it is gone,
        VaultFileUnreadable if its key is not configured or it was tampered with."""
        path = self._path(name)
        return await asyncio.to_thread(self._read, path)

    async def delete(self, name: str) -> None:
        """Remove the file, or a temporary file an interrupted write left; deleting a missing
        file is not an error (retention jobs repeat)."""
        path = self._root / name if _TEMPORARY.fullmatch(name) else self._path(name)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def inventory(self) -> list[VaultEntry]:
        """Stored files and temporary ones, with their modification times; nothing else."""
        return await asyncio.to_thread(self._inventory)

    def _inventory(self) -> list[VaultEntry]:
        if not self._root.is_dir():
            return []
        entries = []
        for path in self._root.iterdir():
            temporary = bool(_TEMPORARY.fullmatch(path.name))
            if not (temporary or _NAME.fullmatch(path.name)):
                continue
            try:
                modified = path.stat().st_mtime
            except FileNotFoundError:
                continue  # deleted meanwhile
            entries.append(
                VaultEntry(path.name, datetime.fromtimestamp(modified, UTC), temporary=temporary)
            )
        return entries

    async def encrypt_stale_files(self) -> int:
        """Re-encrypt under the current key every file that is plaintext (written before
        encryption) or under an older key; returns how many. Run at start-up: afterwards an
        older key can be dropped from DATA_KEY. Files under unknown keys are left as they are."""
        return await asyncio.to_thread(self._encrypt_stale_files)

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise InvalidFileName("not a vault file name")
        return self._root / name

    def _ensure_root(self) -> None:
        if not self._root.is_dir():
            # mode is filtered by umask, hence the explicit chmod for a directory we created.
            self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._root.chmod(0o700)

    # --- format -------------------------------------------------------------------------

    def _seal(self, name: str, data: bytes) -> bytes:
        key = self._keys.current
        key_id = key.id.encode("ascii")
        header = MAGIC + bytes([len(key_id)]) + key_id + secrets.token_bytes(_NONCE_BYTES)
        nonce = header[-_NONCE_BYTES:]
        return header + AESGCM(key.secret).encrypt(nonce, data, _aad(header, name))

    def _open(self, name: str, blob: bytes) -> bytes:
        header = _parse_header(blob)
        if header is None:
            return blob  # written before encryption: read as it is until re-encrypted
        key = self._key(header)
        try:
            return AESGCM(key.secret).decrypt(
                header.nonce, blob[len(header.raw) :], _aad(header.raw, name)
            )
        except InvalidTag:
            raise VaultFileUnreadable(f"{name}: altered or incomplete") from None

    def _key(self, header: _Header) -> DataKey:
        key = self._keys.get(header.key_id)
        if key is None:
            raise VaultFileUnreadable(
                f"encrypted under key id {header.key_id!r}, which DATA_KEY does not list"
            )
        return key

    # --- disk ---------------------------------------------------------------------------

    def _read(self, path: Path) -> bytes:
        return self._open(path.name, path.read_bytes())

    def _write_and_hash(self, name: str, data: bytes) -> str:
        self._write(name, data)
        return hashlib.sha256(data).hexdigest()

    def _write(self, name: str, data: bytes) -> None:
        self._ensure_root()
        blob = self._seal(name, data)
        # mkstemp creates the file 0600 in the same directory, so the rename below is atomic:
        # a reader sees the whole file or none.
        fd, temp_name = tempfile.mkstemp(
            dir=self._root, prefix=_TEMPORARY_PREFIX, suffix=_TEMPORARY_SUFFIX
        )
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(blob)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, self._root / name)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def _encrypt_stale_files(self) -> int:
        if not self._root.is_dir():
            return 0
        done = unknown = 0
        current = self._keys.current.id
        for path in sorted(self._root.iterdir()):
            if not _NAME.fullmatch(path.name):
                continue  # temporary files of an interrupted write, anything not ours
            try:
                with path.open("rb") as file:
                    header = _parse_header(file.read(_MAX_HEADER))
                if header is not None and header.key_id == current:
                    continue
                if header is not None and self._keys.get(header.key_id) is None:
                    unknown += 1
                    continue
                self._write(path.name, self._read(path))
            except FileNotFoundError:
                continue  # deleted meanwhile
            except VaultFileUnreadable:
                unknown += 1
                continue
            done += 1
        if done:
            log.info("re-encrypted %d stored files under the current key", done)
        if unknown:
            log.warning(
                "%d stored files cannot be read with the keys in DATA_KEY (an older key not listed,"
                " or the file damaged)",
                unknown,
            )
        return done


def _aad(header: bytes, name: str) -> bytes:
    return header + name.encode("ascii")


def _parse_header(blob: bytes) -> _Header | None:
    """The header of an encrypted file, or None for a file without one (plaintext)."""
    if not blob.startswith(MAGIC):
        return None
    at = len(MAGIC)
    if len(blob) <= at:
        raise VaultFileUnreadable("header cut short")
    length = blob[at]
    end = at + 1 + length + _NONCE_BYTES
    if length == 0 or len(blob) < end:
        raise VaultFileUnreadable("header cut short")
    try:
        key_id = blob[at + 1 : at + 1 + length].decode("ascii")
    except UnicodeDecodeError:
        raise VaultFileUnreadable("header damaged") from None
    return _Header(key_id=key_id, nonce=blob[end - _NONCE_BYTES : end], raw=blob[:end])
