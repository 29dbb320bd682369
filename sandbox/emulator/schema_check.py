"""Validate Bot API objects against the machine-readable schema in ``sandbox/telegram_schema``.

The schema lists every type with its fields (types, required flag and the constant value of
discriminator fields) and every method with its return types. ``validate`` walks an object
and returns human-readable problems; an empty list means the object conforms.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "telegram_schema" / "schema.json"

_ARRAY_PREFIX = "Array of "
_PRIMITIVES = {"String", "Integer", "Float", "Boolean", "True", "InputFile"}
# Fields newer than the stored schema (Bot API 10.1) that Telegram sends today and aiogram 3.31
# (Bot API 10.3) requires; accepted as optional fields of the given types.
NEWER_FIELDS: dict[str, dict[str, list[str]]] = {
    "ChatMemberAdministrator": {"can_send_welcome_messages": ["Boolean"]},
    "ChatAdministratorRights": {"can_send_welcome_messages": ["Boolean"]},
}


class SchemaMismatchError(AssertionError):
    """Raised when an object does not match its Bot API type."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("schema mismatch:\n" + "\n".join(problems))


@cache
def load_schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def type_names() -> set[str]:
    return set(load_schema()["types"])


@cache
def method_names() -> dict[str, str]:
    """Lower-case method name -> canonical spelling (Telegram treats names case-insensitively)."""
    return {name.lower(): name for name in load_schema()["methods"]}


def method_returns(method: str) -> list[str]:
    canonical = method_names().get(method.lower())
    if canonical is None:
        raise KeyError(method)
    returns: list[str] = load_schema()["methods"][canonical]["returns"]
    return returns


def method_fields(method: str) -> list[dict[str, Any]]:
    canonical = method_names().get(method.lower())
    if canonical is None:
        raise KeyError(method)
    fields: list[dict[str, Any]] = load_schema()["methods"][canonical].get("fields", [])
    return fields


def validate(value: Any, type_name: str, path: str = "$") -> list[str]:
    """Return the problems found when reading ``value`` as the Bot API type ``type_name``.

    ``type_name`` may be a primitive, a named object type, a union (a type with subtypes) or
    ``"Array of X"`` (nested arrays included).
    """
    if type_name.startswith(_ARRAY_PREFIX):
        if not isinstance(value, list):
            return [f"{path}: expected {type_name}, got {_describe(value)}"]
        inner = type_name[len(_ARRAY_PREFIX) :]
        problems: list[str] = []
        for index, item in enumerate(value):
            problems.extend(validate(item, inner, f"{path}[{index}]"))
        return problems
    if type_name in _PRIMITIVES:
        return _check_primitive(value, type_name, path)
    types = load_schema()["types"]
    if type_name not in types:
        return [f"{path}: unknown schema type {type_name}"]
    spec = types[type_name]
    if "subtypes" in spec:
        return _check_union(value, type_name, spec["subtypes"], path)
    return _check_object(value, type_name, spec.get("fields", []), path)


def validate_any(value: Any, type_options: list[str], path: str = "$") -> list[str]:
    """Valid if ``value`` matches one of the alternatives (e.g. ``Message`` or ``Boolean``)."""
    best: list[str] | None = None
    for option in type_options:
        problems = validate(value, option, path)
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return best or [f"{path}: no type alternatives given"]


def validate_result(method: str, result: Any) -> list[str]:
    """Check a method's ``result`` against the return types the schema declares for it."""
    return validate_any(result, method_returns(method), f"{method}()")


def check(value: Any, type_name: str) -> None:
    """Raise :class:`SchemaMismatchError` if ``value`` does not match ``type_name``."""
    problems = validate(value, type_name)
    if problems:
        raise SchemaMismatchError(problems)


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"


def _check_primitive(value: Any, type_name: str, path: str) -> list[str]:
    ok: bool
    if type_name == "String":
        ok = isinstance(value, str)
    elif type_name == "Integer":
        # bool is an int subclass in Python but a distinct JSON type.
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_name == "Float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif type_name == "True":
        ok = value is True
    elif type_name == "Boolean":
        ok = isinstance(value, bool)
    else:  # InputFile never appears in what the server sends
        ok = False
    return [] if ok else [f"{path}: expected {type_name}, got {_describe(value)}"]


def _const_fields(type_name: str) -> dict[str, Any]:
    spec = load_schema()["types"].get(type_name, {})
    return {f["name"]: f["const"] for f in spec.get("fields", []) if "const" in f}


def _check_union(value: Any, type_name: str, subtypes: list[str], path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected {type_name}, got {_describe(value)}"]
    candidates = subtypes
    consts = {sub: _const_fields(sub) for sub in subtypes}
    if any(consts.values()):
        # Discriminated union: the constant field (status, type, ...) selects the subtype.
        candidates = [
            sub
            for sub in subtypes
            if consts[sub] and all(value.get(k) == v for k, v in consts[sub].items())
        ]
        if not candidates:
            keys = sorted({k for c in consts.values() for k in c})
            seen = {k: value.get(k) for k in keys}
            return [f"{path}: {seen} selects no subtype of {type_name}"]
    best: list[str] | None = None
    for sub in candidates:
        problems = validate(value, sub, path)
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return [f"{path}: matches no subtype of {type_name}", *(best or [])]


def _check_object(value: Any, type_name: str, fields: list[dict[str, Any]], path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected {type_name}, got {_describe(value)}"]
    problems: list[str] = []
    known = {f["name"]: f for f in fields}
    for name, types in NEWER_FIELDS.get(type_name, {}).items():
        known.setdefault(name, {"name": name, "required": False, "types": types})
    for name in value:
        if name not in known:
            problems.append(f"{path}.{name}: field not in {type_name}")
    for name, field in known.items():
        sub_path = f"{path}.{name}"
        if name not in value:
            if field["required"]:
                problems.append(f"{sub_path}: required field of {type_name} missing")
            continue
        item = value[name]
        if "const" in field and item != field["const"]:
            problems.append(f"{sub_path}: must be {field['const']!r}, got {item!r}")
            continue
        problems.extend(validate_any(item, field["types"], sub_path))
    return problems
