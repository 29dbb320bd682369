"""Scans coming in: the download stops past the cap, and at most two checks run at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import GetFile, TelegramMethod
from aiogram.types import File

from bot.uploads import ScanChecker, download_scan
from core.scan_check import ScanInfo, ScanKind, ScanProblem, ScanRejected
from tests.fixtures_scans import make_jpeg, make_png

CHUNK = 64 * 1024
CAP = 10 * CHUNK


class FakeFiles(BaseSession):
    """Answers getFile with `file_size` (None: not stated) and streams `total` bytes, or
    without end when `total` is None, counting what the caller took."""

    def __init__(self, file_size: int | None, total: int | None) -> None:
        super().__init__()
        self.file_size, self.total = file_size, total
        self.chunks_taken = 0
        self.closed_early = False
        self.streamed = False

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        assert isinstance(method, GetFile)
        return File(
            file_id=method.file_id,
            file_unique_id="u",
            file_size=self.file_size,
            file_path="documents/file_1.pdf",
        )

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        self.streamed = True
        sent = 0
        try:
            while self.total is None or sent < self.total:
                size = chunk_size if self.total is None else min(chunk_size, self.total - sent)
                self.chunks_taken += 1
                sent += size
                yield b"x" * size
        except GeneratorExit:
            self.closed_early = True
            raise

    async def close(self) -> None:
        pass


def bot_with(session: FakeFiles) -> Bot:
    return Bot("123456:ABC", session=session)


async def test_a_download_without_a_stated_size_is_cut_past_the_cap() -> None:
    session = FakeFiles(file_size=None, total=None)  # would never end
    with pytest.raises(ScanRejected) as caught:
        await download_scan(bot_with(session), "file", max_bytes=CAP)
    assert caught.value.code is ScanProblem.TOO_LARGE
    assert caught.value.limit == CAP
    assert session.chunks_taken == CAP // CHUNK + 1  # one chunk past the cap, no more
    assert session.closed_early  # the response is closed at once, not left to the collector


async def test_a_stated_size_over_the_cap_is_refused_without_downloading() -> None:
    session = FakeFiles(file_size=CAP + 1, total=CAP + 1)
    with pytest.raises(ScanRejected) as caught:
        await download_scan(bot_with(session), "file", max_bytes=CAP)
    assert (caught.value.code, caught.value.actual) == (ScanProblem.TOO_LARGE, CAP + 1)
    assert not session.streamed


@pytest.mark.parametrize("file_size", [None, CAP])
async def test_a_file_up_to_the_cap_arrives_whole(file_size: int | None) -> None:
    session = FakeFiles(file_size=file_size, total=CAP)
    data = await download_scan(bot_with(session), "file", max_bytes=CAP)
    assert data == b"x" * CAP


async def test_at_most_two_checks_run_at_once() -> None:
    running = peak = 0
    lock = threading.Lock()
    threads: set[int] = set()

    def slow_check(data: bytes, *, max_bytes: int, telegram_photo: bool) -> ScanInfo:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            threads.add(threading.get_ident())
        time.sleep(0.1)
        with lock:
            running -= 1
        return ScanInfo(kind=ScanKind.PDF, size=len(data), pages=1)

    checker = ScanChecker(limit=2, check=slow_check)
    started = time.perf_counter()
    results = await asyncio.gather(*(checker.check(b"%PDF-" * n, max_bytes=CAP) for n in range(6)))
    elapsed = time.perf_counter() - started
    assert peak == 2
    assert [r.size for r in results] == [5 * n for n in range(6)]
    assert elapsed >= 0.3  # six checks, two at a time, 0.1 s each
    assert threading.get_ident() not in threads  # off the event loop


async def test_a_refused_check_frees_its_slot() -> None:
    def refuse(data: bytes, *, max_bytes: int, telegram_photo: bool) -> ScanInfo:
        raise ScanRejected(ScanProblem.EMPTY)

    checker = ScanChecker(limit=1, check=refuse)
    for _ in range(3):  # would wait forever if a refusal kept the only slot
        with pytest.raises(ScanRejected):
            await asyncio.wait_for(checker.check(b"", max_bytes=CAP), 5)


async def test_only_a_telegram_jpeg_is_checked_without_a_worker_thread() -> None:
    seen: list[tuple[bool, bool]] = []  # (telegram_photo, on the event loop's thread)
    loop_thread = threading.get_ident()

    def record(data: bytes, *, max_bytes: int, telegram_photo: bool) -> ScanInfo:
        seen.append((telegram_photo, threading.get_ident() == loop_thread))
        return ScanInfo(kind=ScanKind.JPEG, size=len(data), width=1200, height=800)

    checker = ScanChecker(check=record)
    jpeg, png = make_jpeg(1200, 800), make_png(1200, 800)
    await checker.check(jpeg, max_bytes=CAP, telegram_photo=True)  # header only: in place
    await checker.check(jpeg, max_bytes=CAP)  # a document is decoded: a worker thread
    await checker.check(png, max_bytes=CAP, telegram_photo=True)  # not Telegram's JPEG
    assert seen == [(True, True), (False, False), (True, False)]
