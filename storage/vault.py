"""Passport scans on disk under generated names, written atomically, off the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import uuid
from pathlib import Path

from core.models import StoredFile

# Only names this vault generates are accepted back, so "../" and absolute paths cannot reach
# get() or delete(): the check is on the name itself, before any path is built.
_NAME = re.compile(r"[0-9a-f]{32}(?:\.[a-z0-9]{1,8})?")
_SUFFIX = re.compile(r"(?:\.[a-z0-9]{1,8})?")


class InvalidFileName(ValueError):
    pass


class DiskFileVault:
    """core.ports.FileVault on a directory created with mode 0700; files are 0600."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root)

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
        digest = await asyncio.to_thread(self._write, name, data)
        return StoredFile(name=name, sha256=digest, size=len(data))

    async def get(self, name: str) -> bytes:
        """The file's content; FileNotFoundError if it is gone."""
        return await asyncio.to_thread(self._path(name).read_bytes)

    async def delete(self, name: str) -> None:
        """Remove the file; deleting a missing file is not an error (retention jobs repeat)."""
        await asyncio.to_thread(self._path(name).unlink, missing_ok=True)

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise InvalidFileName("not a vault file name")
        return self._root / name

    def _ensure_root(self) -> None:
        if not self._root.is_dir():
            # mode is filtered by umask, hence the explicit chmod for a directory we created.
            self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._root.chmod(0o700)

    def _write(self, name: str, data: bytes) -> str:
        self._ensure_root()
        digest = hashlib.sha256(data).hexdigest()
        # mkstemp creates the file 0600 in the same directory, so the rename below is atomic:
        # a reader sees the whole file or none.
        fd, temp_name = tempfile.mkstemp(dir=self._root, prefix=".incoming-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, self._root / name)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return digest
