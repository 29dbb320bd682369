"""Telegram's MarkdownV2 and legacy Markdown parse modes, with Telegram's error messages.

MarkdownV2 is strict: every reserved character outside markup must be escaped with a
backslash, which is the most common way a bot's message gets refused. Offsets of entities are
UTF-16 code units; offsets in errors are UTF-8 bytes.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError, bad_request

RESERVED_V2 = set("_*[]()~`>#+-=|{}.!")
_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def _error(message: str) -> ApiError:
    return bad_request(f"can't parse entities: {message}")


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


class _Out:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0  # UTF-16 units written so far

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += _utf16(text)

    def text(self) -> str:
        return "".join(self.parts)


def _read_until(source: str, start: int, end_char: str, escapable: str) -> tuple[str, int] | None:
    """Read up to an unescaped ``end_char``; return the unescaped text and the index after it."""
    out: list[str] = []
    i = start
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source) and source[i + 1] in escapable:
            out.append(source[i + 1])
            i += 2
            continue
        if ch == end_char:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    return None


def parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Out()
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, int]] = []  # (type, output offset, source index)
    quote_start: int | None = None  # open blockquote: lines starting with ">"
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == ">" and (i == 0 or source[i - 1] == "\n"):
            if quote_start is None:
                quote_start = out.length
            i += 1
            continue
        if ch == "\n" and quote_start is not None and not source.startswith(">", i + 1):
            _close_quote(entities, quote_start, out.length)
            quote_start = None
        if ch == "\\":
            if i + 1 < n and 0 < ord(source[i + 1]) < 127:
                out.add(source[i + 1])
                i += 2
                continue
            out.add(ch)
            i += 1
            continue
        if ch == "`":
            i = _code_v2(source, i, out, entities)
            continue
        if ch == "[":
            stack.append(("text_link", out.length, i))
            i += 1
            continue
        if ch == "]" and stack and stack[-1][0] == "text_link":
            _, start, begin = stack.pop()
            if i + 1 >= n or source[i + 1] != "(":
                raise _error(
                    f"Can't find end of TextUrl entity at byte offset {_byte(source, begin)}"
                )
            read = _read_until(source, i + 2, ")", ")\\")
            if read is None:
                raise _error(
                    f"Can't find end of TextUrl entity at byte offset {_byte(source, begin)}"
                )
            url, i = read
            if out.length > start and url:
                entities.append(
                    {"type": "text_link", "offset": start, "length": out.length - start, "url": url}
                )
            continue
        kind, width = _emphasis_at(source, i)
        if kind is not None:
            if stack and stack[-1][0] == kind:
                _, start, _begin = stack.pop()
                if out.length > start:
                    entities.append({"type": kind, "offset": start, "length": out.length - start})
            else:
                stack.append((kind, out.length, i))
            i += width
            continue
        if ch in RESERVED_V2:
            raise _error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(ch)
        i += 1
    if quote_start is not None:
        _close_quote(entities, quote_start, out.length)
    if stack:
        kind, _, begin = stack[-1]
        raise _error(
            f"Can't find end of {_NAMES[kind]} entity at byte offset {_byte(source, begin)}"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.text(), entities


def _close_quote(entities: list[dict[str, Any]], start: int, end: int) -> None:
    if end > start:
        entities.append({"type": "blockquote", "offset": start, "length": end - start})


def _emphasis_at(source: str, i: int) -> tuple[str | None, int]:
    ch = source[i]
    nxt = source[i + 1] if i + 1 < len(source) else ""
    if ch == "*":
        return "bold", 1
    if ch == "_":
        return ("underline", 2) if nxt == "_" else ("italic", 1)
    if ch == "~":
        return "strikethrough", 1
    if ch == "|" and nxt == "|":
        return "spoiler", 2
    return None, 0


def _code_v2(source: str, i: int, out: _Out, entities: list[dict[str, Any]]) -> int:
    """Inline code or a pre block starting at ``i``; returns the index after it."""
    if source.startswith("```", i):
        body_start = i + 3
        language = ""
        newline = source.find("\n", body_start)
        first_line = source[body_start:newline] if newline >= 0 else ""
        if newline >= 0 and first_line and not any(c in first_line for c in " `\\"):
            language = first_line
            body_start = newline + 1
        end = source.find("```", body_start)
        while end > 0 and source[end - 1] == "\\":
            end = source.find("```", end + 1)
        if end < 0:
            raise _error(f"Can't find end of Pre entity at byte offset {_byte(source, i)}")
        body = _unescape(source[body_start:end], "`\\")
        start = out.length
        out.add(body)
        if body:
            entity: dict[str, Any] = {"type": "pre", "offset": start, "length": out.length - start}
            if language:
                entity["language"] = language
            entities.append(entity)
        return end + 3
    read = _read_until(source, i + 1, "`", "`\\")
    if read is None:
        raise _error(f"Can't find end of Code entity at byte offset {_byte(source, i)}")
    body, after = read
    start = out.length
    out.add(body)
    if body:
        entities.append({"type": "code", "offset": start, "length": out.length - start})
    return after


def _unescape(text: str, escapable: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in escapable:
            out.append(text[i + 1])
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


_LEGACY = {"*": "bold", "_": "italic"}


def parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out = _Out()
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            out.add(source[i + 1])
            i += 2
            continue
        if ch in "*_`[":
            begin = i
            if source.startswith("```", i):
                end = source.find("```", i + 3)
                kind, body_start, close_width = "pre", i + 3, 3
            elif ch == "[":
                end = source.find("]", i + 1)
                kind, body_start, close_width = "text_link", i + 1, 1
            else:
                end = source.find(ch, i + 1)
                kind = _LEGACY.get(ch, "code")
                body_start, close_width = i + 1, 1
            if end < 0:
                raise _error(
                    f"Can't find end of the entity starting at byte offset {_byte(source, begin)}"
                )
            body = source[body_start:end]
            i = end + close_width
            entity: dict[str, Any] = {"type": kind, "offset": out.length}
            if kind == "text_link":
                if i >= n or source[i] != "(" or source.find(")", i) < 0:
                    raise _error(f"Can't find end of a URL at byte offset {_byte(source, i)}")
                close = source.find(")", i)
                entity["url"] = source[i + 1 : close]
                i = close + 1
            out.add(body)
            entity["length"] = out.length - entity["offset"]
            if entity["length"] > 0 and (kind != "text_link" or entity["url"]):
                entities.append(entity)
            continue
        out.add(ch)
        i += 1
    return out.text(), entities
