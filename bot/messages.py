"""Domain error codes to texts in the user's language."""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from core.scan_check import ScanProblem, ScanRejected
from core.validators import ValidationError

MEGABYTE = 1024 * 1024


def validation_error_text(error: ValidationError, **params: Any) -> str:
    return t(f"invalid.{error.code.value}", **params)


def scan_rejected_text(error: ScanRejected) -> str:
    params: dict[str, Any] = dict(error.params)
    if error.code is ScanProblem.TOO_LARGE and error.limit is not None:
        params["limit_mb"] = max(1, error.limit // MEGABYTE)
    return t(f"scan.error.{error.code.value}", **params)
