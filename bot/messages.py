"""Domain error codes to texts in the user's language."""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from core.scan_check import ScanRejected
from core.validators import ValidationError


def validation_error_text(error: ValidationError, **params: Any) -> str:
    return t(f"invalid.{error.code.value.lower()}", **params)


def scan_rejected_text(error: ScanRejected) -> str:
    return t(f"scan.error.{error.code.value.lower()}", **scan_params(error))


def scan_params(error: ScanRejected) -> dict[str, Any]:
    return {k: v for k, v in vars(error).items() if isinstance(v, int | str) and k != "code"}
