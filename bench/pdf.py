"""Item 2: the policy PDF, rendered in this process on one core: with the QR code, and the same
page without it, alternated call by call in the same run. Also the scan check the scan-upload
step runs on the demo passport photo."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any
from unittest import mock

from bench.session import texts
from bench.stats import percentile
from core import policy_document
from core.policy_document import POLICY_LABEL_KEYS, render_policy_pdf
from core.scan_check import check_scan
from sandbox.demo_scan import demo_passport_scan
from storage.register import DEMO_REGISTER_PATH, load_register


def _timed(work: Callable[[], bytes]) -> tuple[float, int]:
    started = time.perf_counter()
    out = work()
    return time.perf_counter() - started, len(out)


def run_pdf(renders: int) -> dict[str, Any]:
    labels = {key: texts().t(key, locale="ru") for key in POLICY_LABEL_KEYS}
    person = load_register(DEMO_REGISTER_PATH).people()[0]

    def render(i: int) -> bytes:
        return render_policy_pdf(
            person,
            application_number=f"2612-{i:06d}",
            issued_on=date(2026, 12, 1),
            labels=labels,
        )

    def without_qr(i: int) -> bytes:
        # The same page: encoding and drawing of the QR code left out, nothing else.
        with (
            mock.patch.object(policy_document, "qr_modules", lambda *_: []),
            mock.patch.object(policy_document, "_draw_qr", lambda *_: None),
        ):
            return render(i)

    for i in range(5):  # fonts, caches
        render(i), without_qr(i)
    with_times, without_times, sizes, plain_sizes = [], [], [], []
    for i in range(renders):
        seconds, size = _timed(lambda i=i: render(i))
        with_times.append(seconds)
        sizes.append(size)
        seconds, size = _timed(lambda i=i: without_qr(i))
        without_times.append(seconds)
        plain_sizes.append(size)
    scan = demo_passport_scan()
    scan_times: list[float] = []
    photo_times: list[float] = []
    for _ in range(max(10, renders // 10)):
        # As a document (decoded to the end), and as a photo Telegram re-encoded (its header).
        for times, photo in ((scan_times, False), (photo_times, True)):
            started = time.perf_counter()
            check_scan(scan, telegram_photo=photo)
            times.append(time.perf_counter() - started)
    with_ms = statistics.median(with_times) * 1000
    without_ms = statistics.median(without_times) * 1000
    return {
        "with_qr_ms": {"p50": with_ms, "p99": percentile(with_times, 99) * 1000},
        "without_qr_ms": {"p50": without_ms, "p99": percentile(without_times, 99) * 1000},
        "qr_ratio": with_ms / without_ms,
        "policies_per_s_one_core": 1000 / with_ms,
        "kb_per_file": statistics.median(sizes) / 1024,
        "kb_without_qr": statistics.median(plain_sizes) / 1024,
        "scan_check_ms": statistics.median(scan_times) * 1000,
        "photo_check_ms": statistics.median(photo_times) * 1000,
        "renders": renders,
    }
