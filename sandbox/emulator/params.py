"""Reading Bot API call parameters the way Telegram does.

Telegram sees every parameter as a string, whatever the transport (query string, urlencoded
form, multipart, or a JSON body whose non-string values are re-encoded as JSON text), and each
method then parses the strings it needs. ``Params`` mirrors that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import ApiError, bad_request
from .schema_check import method_fields


@dataclass
class Upload:
    """A file sent as a multipart part."""

    field: str
    filename: str
    content_type: str | None
    data: bytes

    def describe(self) -> dict[str, Any]:
        return {"file_name": self.filename, "size": len(self.data), "mime_type": self.content_type}


async def read_request(request: web.Request) -> tuple[dict[str, str], dict[str, Upload]]:
    """Collect all parameters of a Bot API request as strings, plus uploaded files."""
    try:
        return await _read_request(request)
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, "Request Entity Too Large") from exc


async def _read_request(request: web.Request) -> tuple[dict[str, str], dict[str, Upload]]:
    values: dict[str, str] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method != "POST" or not request.can_read_body:
        return values, files
    content_type = request.content_type
    if content_type == "multipart/form-data":
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not hasattr(part, "read") or part.name is None:
                continue
            data = await part.read(decode=True)  # type: ignore[union-attr]
            if part.filename is not None:
                files[part.name] = Upload(
                    part.name, part.filename, part.headers.get("Content-Type"), bytes(data)
                )
            else:
                values[part.name] = bytes(data).decode("utf-8", errors="replace")
    elif content_type == "application/json":
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise bad_request("can't parse JSON object") from exc
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            for key, value in body.items():
                values[key] = value if isinstance(value, str) else json.dumps(value)
    else:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                values[key] = value
            else:
                files[key] = Upload(key, value.filename, value.content_type, value.file.read())
    return values, files


class Params:
    """Typed access to the string parameters of one call."""

    def __init__(self, values: dict[str, str], files: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def has(self, name: str) -> bool:
        return bool(self.values.get(name))

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        # Telegram does not tell an empty parameter from a missing one.
        return value if value else default

    def required(self, name: str, message: str | None = None) -> str:
        value = self.values.get(name)
        if not value:
            raise bad_request(message or f'parameter "{name}" is required')
        return value

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if not value:
            return default
        try:
            return int(value.strip())
        except ValueError:
            # Telegram's to_integer reads a leading number and ignores the rest.
            digits = ""
            for ch in value.strip():
                if ch.isdigit() or (ch == "-" and not digits):
                    digits += ch
                else:
                    break
            try:
                return int(digits)
            except ValueError:
                return 0

    def required_int(self, name: str, message: str | None = None) -> int:
        self.required(name, message)
        value = self.get_int(name)
        assert value is not None
        return value

    def get_bool(self, name: str) -> bool:
        value = (self.values.get(name) or "").strip().lower()
        return value in ("true", "yes", "1")

    def get_json(self, name: str, what: str | None = None) -> Any:
        value = self.values.get(name)
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(f"can't parse {what or name} JSON object") from exc

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if not value:
            raise bad_request(f"{name} is empty")
        value = value.strip()
        if value.startswith("@"):
            return value
        try:
            return int(value)
        except ValueError as exc:
            raise bad_request(CHAT_NOT_FOUND) from exc


CHAT_NOT_FOUND = "chat not found"


def decode_for_record(method: str, values: dict[str, str]) -> dict[str, Any]:
    """Turn string parameters into typed values by the schema, for readable call records."""
    try:
        fields = {f["name"]: f["types"] for f in method_fields(method)}
    except KeyError:
        fields = {}
    decoded: dict[str, Any] = {}
    for name, raw in values.items():
        decoded[name] = _decode_value(raw, fields.get(name, []))
    return decoded


def _decode_value(raw: str, types: list[str]) -> Any:
    if not types:
        # Unknown method or field: read it as JSON when it is JSON (numbers, objects, ...).
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    if "Integer" in types or "Float" in types:
        try:
            return int(raw)
        except ValueError:
            try:
                if "Float" in types:
                    return float(raw)
            except ValueError:
                pass
    if "Boolean" in types:
        lowered = raw.strip().lower()
        if lowered in ("true", "false", "1", "0", "yes", "no"):
            return lowered in ("true", "1", "yes")
    complex_type = any(
        t not in ("String", "Integer", "Float", "Boolean", "InputFile") for t in types
    )
    if complex_type:
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def error_for_missing(name: str) -> ApiError:
    return bad_request(f'parameter "{name}" is required')
