"""Reply markup parsing and validation (inline keyboards, reply keyboards, remove, force reply)."""

from __future__ import annotations

import json
from typing import Any

from .errors import bad_request
from .params import Params

INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
INLINE_EXTRAS = ("icon_custom_emoji_id", "style")
KEYBOARD_BUTTON_FIELDS = (
    "text",
    "icon_custom_emoji_id",
    "style",
    "request_users",
    "request_chat",
    "request_contact",
    "request_location",
    "request_poll",
    "web_app",
)
REPLY_KEYBOARD_OPTIONS = (
    "is_persistent",
    "resize_keyboard",
    "one_time_keyboard",
    "input_field_placeholder",
    "selective",
)
MAX_CALLBACK_DATA_BYTES = 64
# Descriptions as api.telegram.org words them (telegram-bot-api's Client.cpp, TDLib's
# ReplyMarkup.cpp).
TEXT_BUTTONS_UNALLOWED = "Text buttons are unallowed in the inline keyboard"


def parse_reply_markup(p: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
    """Return the normalized markup, tagged with ``"kind"``, or None when none was sent."""
    if not p.has("reply_markup"):
        return None
    raw = p.get_json("reply_markup", "reply keyboard markup")
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        return {"kind": "inline", "markup": {"inline_keyboard": _inline_rows(raw)}}
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in raw:
        return {"kind": "keyboard", "markup": _reply_keyboard(raw)}
    if "remove_keyboard" in raw:
        if raw.get("remove_keyboard") is not True:
            raise bad_request('field "remove_keyboard" of the ReplyKeyboardRemove must be true')
        return {"kind": "remove", "markup": {"remove_keyboard": True}}
    if "force_reply" in raw:
        return {"kind": "force_reply", "markup": {"force_reply": True}}
    raise bad_request("can't parse reply keyboard markup JSON object")


def _inline_rows(raw: dict[str, Any]) -> list[list[dict[str, Any]]]:
    rows = raw["inline_keyboard"]
    if not isinstance(rows, list):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    result: list[list[dict[str, Any]]] = []
    for row in rows:
        if not isinstance(row, list):
            raise bad_request("InlineKeyboardMarkup row must be an Array")
        out_row = [_inline_button(button) for button in row]
        if out_row:
            result.append(out_row)
    return result


def _string_field(button: dict[str, Any], name: str, where: str) -> str | None:
    """A string field as the Bot API reads JSON: a number is taken as its text."""
    value = button.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad_request(f'can\'t parse {where}: Field "{name}" must be of type String')
    return value if isinstance(value, str) else json.dumps(value)


def _inline_button(button: Any) -> dict[str, Any]:
    where = "inline keyboard button"
    if not isinstance(button, dict):
        raise bad_request(f"can't parse {where}: InlineKeyboardButton must be an Object")
    text = _string_field(button, "text", where)
    if text is None:
        raise bad_request(f"can't parse {where}: Can't find field \"text\"")
    # The Bot API reads an empty url or callback_data as absent.
    present = {
        name: button[name]
        for name in INLINE_ACTIONS
        if button.get(name) is not None and button.get(name) != ""
    }
    if not present:
        raise bad_request(f"can't parse {where}: {TEXT_BUTTONS_UNALLOWED}")
    # Checked after the button's type, as TDLib does once the Bot API has parsed the JSON.
    if not text:
        raise bad_request("inline keyboard button text must be non-empty")
    out: dict[str, Any] = {"text": text}
    for name in INLINE_EXTRAS:
        if button.get(name):
            out[name] = button[name]
    action, value = next(iter(present.items()))
    if action == "callback_data":
        value = _string_field(button, "callback_data", where)
        assert value is not None
        # 1-64 bytes, counted in UTF-8: a Cyrillic letter is two.
        if len(value.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "url":
        if not isinstance(value, str) or not _valid_url(value):
            raise bad_request(f"inline keyboard button URL '{value}' is invalid: Wrong HTTP URL")
    elif action == "pay":
        value = True
    out[action] = value
    return out


def _valid_url(url: str) -> bool:
    lowered = url.lower()
    if lowered.startswith(("http://", "https://")):
        return len(url.split("://", 1)[1]) > 0 and " " not in url
    return lowered.startswith("tg://")


def _reply_keyboard(raw: dict[str, Any]) -> dict[str, Any]:
    rows = raw["keyboard"]
    if not isinstance(rows, list):
        raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
    keyboard: list[list[dict[str, Any]]] = []
    for row in rows:
        if not isinstance(row, list):
            raise bad_request("ReplyKeyboardMarkup row must be an Array")
        out_row: list[dict[str, Any]] = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict):
                raise bad_request(
                    "can't parse keyboard button: KeyboardButton must be a String or an Object"
                )
            text = _string_field(button, "text", "keyboard button")
            if text is None:
                raise bad_request("can't parse keyboard button: Can't find field \"text\"")
            if not text:
                raise bad_request("keyboard button text must be non-empty")
            kept = {k: button[k] for k in KEYBOARD_BUTTON_FIELDS if button.get(k)}
            out_row.append({**kept, "text": text})
        if out_row:
            keyboard.append(out_row)
    markup: dict[str, Any] = {"keyboard": keyboard}
    for option in REPLY_KEYBOARD_OPTIONS:
        if raw.get(option):
            markup[option] = raw[option]
    return markup


def inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]
