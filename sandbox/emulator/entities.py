"""Text formatting: Telegram's HTML parse mode and automatically detected entities.

Offsets and lengths of MessageEntity are in UTF-16 code units, as in the Bot API; errors of the
HTML parser quote UTF-8 byte offsets, as Telegram's own messages do.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, bad_request
from .markdown import parse_markdown, parse_markdown_v2

# Tag name -> entity type; tags that need attributes are handled separately.
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SUPPORTED_TAGS = {*_SIMPLE_TAGS, "a", "span", "tg-emoji", "blockquote", "tg-time"}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME_CHARS = re.compile(r"[A-Za-z0-9-]*")
_ATTR_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]*")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


class EntityParseError(Exception):
    pass


@dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the output text
    attrs: dict[str, str] = field(default_factory=dict)


def _parse_error(message: str) -> ApiError:
    return bad_request(f"can't parse entities: {message}")


def _read_attributes(source: str, pos: int, tag_start: int) -> tuple[dict[str, str], int]:
    """Read ``name="value"`` pairs up to ``>``; return them and the position after ``>``."""
    attrs: dict[str, str] = {}
    n = len(source)
    while True:
        while pos < n and source[pos].isspace():
            pos += 1
        if pos >= n:
            raise _parse_error(
                f"Unclosed start tag at byte offset {_byte_offset(source, tag_start)}"
            )
        if source[pos] == ">":
            return attrs, pos + 1
        if source[pos] == "/" and pos + 1 < n and source[pos + 1] == ">":
            return attrs, pos + 2
        match = _ATTR_NAME_CHARS.match(source, pos)
        assert match is not None
        name = match.group(0).lower()
        if not name:
            raise _parse_error(
                f"Empty attribute name in the tag at byte offset {_byte_offset(source, pos)}"
            )
        pos = match.end()
        while pos < n and source[pos].isspace():
            pos += 1
        value = ""
        if pos < n and source[pos] == "=":
            pos += 1
            while pos < n and source[pos].isspace():
                pos += 1
            if pos >= n:
                raise _parse_error(
                    f"Unclosed start tag at byte offset {_byte_offset(source, tag_start)}"
                )
            if source[pos] in "\"'":
                quote = source[pos]
                end = source.find(quote, pos + 1)
                if end < 0:
                    raise _parse_error(
                        f"Unclosed start tag at byte offset {_byte_offset(source, tag_start)}"
                    )
                value = html.unescape(source[pos + 1 : end])
                pos = end + 1
            else:
                end = pos
                while end < n and not source[end].isspace() and source[end] != ">":
                    end += 1
                value = html.unescape(source[pos:end])
                pos = end
        attrs[name] = value


def _decode_entity(source: str, pos: int) -> tuple[str, int]:
    """Decode ``&...;`` at ``pos``; unknown entities stay literal, as Telegram leaves them."""
    end = source.find(";", pos + 1, pos + 12)
    if end > 0:
        body = source[pos + 1 : end]
        if body in _NAMED_ENTITIES:
            return _NAMED_ENTITIES[body], end + 1
        if body.startswith("#"):
            try:
                code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
                if 0 < code < 0x110000:
                    return chr(code), end + 1
            except ValueError:
                pass
    return "&", pos + 1


def _entity_for(tag: _OpenTag, length: int, source: str, pos: int) -> dict[str, Any] | None:
    entity: dict[str, Any] = {"offset": tag.start, "length": length}
    if tag.name in _SIMPLE_TAGS:
        entity["type"] = _SIMPLE_TAGS[tag.name]
        if tag.name == "pre" and tag.attrs.get("language"):
            entity["language"] = tag.attrs["language"]
    elif tag.name == "a":
        url = tag.attrs.get("href", "")
        if url.startswith("tg://user?id="):
            return None  # text_mention needs a resolvable user; the emulator has none
        if not url:
            return None
        entity["type"] = "text_link"
        entity["url"] = url
    elif tag.name == "span":
        entity["type"] = "spoiler"
    elif tag.name == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    elif tag.name == "tg-time":
        unix = tag.attrs.get("unix", "")
        if not unix.isdigit():
            raise _parse_error(
                f"Invalid unix time in the tag at byte offset {_byte_offset(source, pos)}"
            )
        entity["type"] = "date_time"
        entity["unix_time"] = int(unix)
        if tag.attrs.get("format"):
            entity["date_time_format"] = tag.attrs["format"]
    else:
        return None
    return entity


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into plain text and entities; bad markup raises Telegram's error."""
    out: list[str] = []
    out_len = 0  # UTF-16 length of the text produced so far
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    n = len(source)
    while pos < n:
        ch = source[pos]
        if ch == "&":
            decoded, pos = _decode_entity(source, pos)
            out.append(decoded)
            out_len += utf16_len(decoded)
            continue
        if ch != "<":
            out.append(ch)
            out_len += utf16_len(ch)
            pos += 1
            continue
        tag_start = pos
        if pos + 1 < n and source[pos + 1] == "/":
            match = _TAG_NAME_CHARS.match(source, pos + 2)
            assert match is not None
            name = match.group(0).lower()
            close = source.find(">", match.end())
            if close < 0:
                raise _parse_error(
                    f"Unclosed end tag at byte offset {_byte_offset(source, tag_start)}"
                )
            if not stack:
                raise _parse_error(
                    f"Unexpected end tag at byte offset {_byte_offset(source, tag_start)}"
                )
            top = stack[-1]
            if name and name != top.name:
                raise _parse_error(
                    f"Unmatched end tag at byte offset {_byte_offset(source, tag_start)}, "
                    f'expected "</{top.name}>", found "</{name}>"'
                )
            stack.pop()
            length = out_len - top.start
            if length > 0:
                entity = _entity_for(top, length, source, tag_start)
                if entity is not None:
                    _merge_code_into_pre(entities, entity)
            pos = close + 1
            continue
        match = _TAG_NAME_CHARS.match(source, pos + 1)
        assert match is not None
        name = match.group(0).lower()
        if name not in _SUPPORTED_TAGS:
            raise _parse_error(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, tag_start)}'
            )
        attrs, pos = _read_attributes(source, match.end(), tag_start)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _parse_error(
                'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(source, tag_start)}"
            )
        if name == "code" and stack and stack[-1].name == "pre":
            language = attrs.get("class", "")
            if language.startswith("language-"):
                stack[-1].attrs["language"] = language[len("language-") :]
        stack.append(_OpenTag(name, out_len, attrs))
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    text = "".join(out)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return text, entities


def _merge_code_into_pre(entities: list[dict[str, Any]], entity: dict[str, Any]) -> None:
    """``<pre><code class="language-x">`` is one pre entity, not pre plus code."""
    if entity["type"] == "pre":
        entities[:] = [
            e
            for e in entities
            if not (
                e["type"] == "code"
                and e["offset"] == entity["offset"]
                and e["length"] == entity["length"]
            )
        ]
    entities.append(entity)


_AUTO_PATTERNS = [
    ("bot_command", re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("email", re.compile(r"(?<![\w.@])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("url", re.compile(r"(?<!\w)https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#[^\W\d][\w]*")),
]


def auto_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram detects by itself in any text: commands, links, mentions, hashtags."""
    found: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[:start]),
                    "length": utf16_len(text[start:end]),
                }
            )
    found.sort(key=lambda e: e["offset"])
    return found


def _overlaps(entity: dict[str, Any], others: list[dict[str, Any]]) -> bool:
    a_start, a_end = entity["offset"], entity["offset"] + entity["length"]
    for other in others:
        if other["type"] in ("code", "pre", "text_link") and (
            a_start < other["offset"] + other["length"] and other["offset"] < a_end
        ):
            return True
    return False


def format_text(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[dict]]:
    """Produce the delivered text and its entities from what the bot sent."""
    mode = (parse_mode or "").lower()
    if isinstance(entities, list) and entities:
        # Explicit entities win over parse_mode, as on Telegram.
        plain, parsed = text, [dict(e) for e in entities if isinstance(e, dict)]
    elif mode == "html":
        plain, parsed = parse_html(text)
    elif mode == "markdownv2":
        plain, parsed = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, parsed = parse_markdown(text)
    elif mode:
        raise bad_request("unsupported parse_mode")
    else:
        plain, parsed = text, []
    plain, parsed = _strip(plain, parsed)
    detected = [e for e in auto_entities(plain) if not _overlaps(e, parsed)]
    merged = sorted(parsed + detected, key=lambda e: (e["offset"], -e["length"]))
    return plain, merged


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace from message text and shifts entities with it."""
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    total = utf16_len(result)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return result, kept
