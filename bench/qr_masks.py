"""Which QR mask suits the policy's payloads: reportlab's penalty score of each of the eight
masks over random payloads of the policy's shape. core/policy_document.py draws with one mask
chosen from this, instead of scoring all eight for every PDF.

    .venv/bin/python bench/qr_masks.py [payloads]
"""

from __future__ import annotations

import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel, QRUtil

from core.policy_document import QR_MASK, qr_payload


def main(count: int) -> None:
    rng = random.Random(1)
    penalties: dict[int, list[int]] = {mask: [] for mask in range(8)}
    best = [0] * 8
    versions = set()
    for _ in range(count):
        enp = "".join(rng.choice("0123456789") for _ in range(16))
        number = f"{rng.randint(2001, 2912)}-{rng.randint(1, 999_999):06d}"
        code = QRCode(None, QRErrorCorrectLevel.M)
        code.addData(qr_payload(enp, number))
        code.version = code.calculate_version()
        versions.add(code.version)
        scores = []
        for mask in range(8):
            code.makeImpl(True, mask)  # what reportlab's make() does to pick a mask
            scores.append(QRUtil.getLostPoint(code))
            penalties[mask].append(scores[-1])
        best[scores.index(min(scores))] += 1
    print(f"{count} payloads, QR versions {sorted(versions)}, level M; lower penalty is better")
    print("mask  mean penalty  worst  best-of-eight share")
    for mask in range(8):
        marker = "  <- QR_MASK" if mask == QR_MASK else ""
        print(
            f"{mask:>4}  {statistics.fmean(penalties[mask]):12.0f}  {max(penalties[mask]):5d}"
            f"  {best[mask] / count:18.0%}{marker}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
