"""CPU-heavy work kept off the event loop: policy PDF rendering and scan checks, per call.

.venv/bin/python bench/documents.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.i18n import create_texts
from core.policy_document import POLICY_LABEL_KEYS, render_policy_pdf
from core.scan_check import check_scan
from storage.register import DEMO_REGISTER_PATH, load_register
from tests.fixtures_scans import make_jpeg, make_pdf


def timed(name: str, work: Callable[[], object], runs: int = 20) -> None:
    work()  # warm-up: fonts, codecs
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    print(f"{name:<34} median {statistics.median(samples):7.1f} ms   max {max(samples):7.1f} ms")


def main() -> None:
    texts = create_texts()
    labels = {key: texts.t(key, locale="ru") for key in POLICY_LABEL_KEYS}
    person = next(iter(load_register(DEMO_REGISTER_PATH).people()))
    timed(
        "policy PDF render",
        lambda: render_policy_pdf(
            person, application_number="2611-000001", issued_on=date(2026, 11, 27), labels=labels
        ),
    )
    photo, large, pdf = make_jpeg(1280, 960), make_jpeg(4000, 3000), make_pdf(2)
    timed("scan check, 1280x960 JPEG", lambda: check_scan(photo))
    timed("scan check, 4000x3000 JPEG", lambda: check_scan(large), runs=5)
    timed("scan check, 2-page PDF", lambda: check_scan(pdf))


if __name__ == "__main__":
    main()
