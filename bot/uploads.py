"""Passport scans coming in: downloaded with a byte cap, checked a few at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing
from pathlib import Path

from aiogram import Bot

from core.scan_check import ScanInfo, ScanProblem, ScanRejected, check_scan, decodes

DOWNLOAD_TIMEOUT_SECONDS = 60
_CHUNK_BYTES = 64 * 1024


async def download_scan(bot: Bot, file_id: str, *, max_bytes: int) -> bytes:
    """The file's bytes, or ScanRejected(TOO_LARGE) as soon as more than `max_bytes` arrive.

    Telegram does not always state a file's size (`file_size` is optional), so the cap is
    counted on the stream itself and the download aborted past it, not trusted from metadata.
    """
    file = await bot.get_file(file_id)
    if file.file_size is not None and file.file_size > max_bytes:
        raise ScanRejected(ScanProblem.TOO_LARGE, limit=max_bytes, actual=file.file_size)
    if file.file_path is None:
        raise ScanRejected(ScanProblem.EMPTY)
    if bot.session.api.is_local:  # a local Bot API server hands out paths on this machine
        local = Path(bot.session.api.wrap_local_file.to_local(file.file_path))
        return await asyncio.to_thread(_read_capped, local, max_bytes)
    url = bot.session.api.file_url(bot.token, file.file_path)
    received = bytearray()
    stream = bot.session.stream_content(
        url=url, timeout=DOWNLOAD_TIMEOUT_SECONDS, chunk_size=_CHUNK_BYTES, raise_for_status=True
    )
    # aclosing: leaving early closes the HTTP response now, not when the generator is collected.
    async with aclosing(stream):
        async for chunk in stream:
            received += chunk
            if len(received) > max_bytes:
                raise ScanRejected(ScanProblem.TOO_LARGE, limit=max_bytes, actual=len(received))
    return bytes(received)


def _read_capped(path: Path, max_bytes: int) -> bytes:
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ScanRejected(ScanProblem.TOO_LARGE, limit=max_bytes, actual=len(data))
    return data


class ScanChecker:
    """Runs core.scan_check.check_scan in worker threads, at most `limit` at once.

    A check may decode an image of up to ~200 MB; without a limit, every citizen uploading at
    the same moment would add one such buffer to the process.
    """

    def __init__(self, limit: int = 2, check: Callable[..., ScanInfo] = check_scan) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._check = check

    async def check(self, data: bytes, *, max_bytes: int, telegram_photo: bool = False) -> ScanInfo:
        """ScanInfo of an acceptable scan, or ScanRejected; waits for a free slot first.
        `telegram_photo`: see check_scan."""
        if not decodes(data, telegram_photo=telegram_photo):
            # Checked from its header and end marker, in microseconds: less than the hop to a
            # worker thread. Whatever must be decoded goes there.
            return self._check(data, max_bytes=max_bytes, telegram_photo=True)
        async with self._slots:
            return await asyncio.to_thread(
                self._check, data, max_bytes=max_bytes, telegram_photo=telegram_photo
            )
