"""Unit tests: the schema validator and the HTML entity parser."""

from __future__ import annotations

import pytest

from sandbox.emulator import SchemaMismatchError, check, validate, validate_result
from sandbox.emulator.entities import auto_entities, format_text, parse_html
from sandbox.emulator.errors import ApiError

USER = {"id": 1, "is_bot": False, "first_name": "Ivan"}
CHAT = {"id": 1, "type": "private", "first_name": "Ivan"}


def test_valid_and_invalid_users() -> None:
    assert validate(USER, "User") == []
    assert validate({"id": 1, "is_bot": False}, "User") == [
        "$.first_name: required field of User missing"
    ]
    assert validate({**USER, "id": "1"}, "User")[0].startswith("$.id: expected Integer")
    assert validate({**USER, "id": True}, "User")[0].startswith("$.id: expected Integer")
    assert validate({**USER, "nickname": "x"}, "User") == ["$.nickname: field not in User"]


def test_nested_arrays_and_unions() -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    assert validate(markup, "InlineKeyboardMarkup") == []
    broken = {"inline_keyboard": [[{"text": 5}]]}
    assert validate(broken, "InlineKeyboardMarkup") == [
        "$.inline_keyboard[0][0].text: expected String, got int 5"
    ]
    message = {"message_id": 1, "date": 1, "chat": CHAT}
    assert validate_result("editMessageText", message) == []
    assert validate_result("editMessageText", True) == []
    assert validate_result("editMessageText", "yes") != []
    assert validate({"chat": CHAT, "message_id": 3, "date": 0}, "MaybeInaccessibleMessage") == []
    assert validate({"latitude": 1, "longitude": 2.5}, "Location") == []


def test_chat_member_discriminator() -> None:
    assert validate({"status": "left", "user": USER}, "ChatMember") == []
    assert validate({"status": "kicked", "user": USER, "until_date": 0}, "ChatMember") == []
    problems = validate({"status": "kicked", "user": USER}, "ChatMember")
    assert "until_date: required field of ChatMemberBanned missing" in problems[-1]
    assert "selects no subtype" in validate({"status": "boss", "user": USER}, "ChatMember")[0]


def test_check_raises() -> None:
    with pytest.raises(SchemaMismatchError, match="first_name"):
        check({"id": 1, "is_bot": False}, "User")


def test_html_parsing_produces_utf16_entities() -> None:
    text, entities = parse_html(
        "<b>Привет</b> 😀 <i>мир</i> &lt;3 <a href='https://x.org'>link</a>"
    )
    assert text == "Привет 😀 мир <3 link"
    assert entities == [
        {"offset": 0, "length": 6, "type": "bold"},
        {"offset": 10, "length": 3, "type": "italic"},  # the emoji is two UTF-16 units
        {"offset": 17, "length": 4, "type": "text_link", "url": "https://x.org"},
    ]
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert entities == [{"offset": 0, "length": 5, "type": "pre", "language": "python"}]
    text, entities = parse_html("<tg-spoiler>s</tg-spoiler><blockquote expandable>q</blockquote>")
    assert [e["type"] for e in entities] == ["spoiler", "expandable_blockquote"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("Я < 5", 'Unsupported start tag "" at byte offset 3'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_html_errors(source: str, message: str) -> None:
    with pytest.raises(ApiError) as error:
        parse_html(source)
    assert error.value.description == f"Bad Request: can't parse entities: {message}"


def test_auto_entities_and_trimming() -> None:
    found = auto_entities("/start now, see https://example.org or @oms_restore_bot #tag a@b.ru")
    assert [e["type"] for e in found] == ["bot_command", "url", "mention", "hashtag", "email"]
    text, entities = format_text("  <b>hi</b>  ", "HTML", None)
    assert text == "hi" and entities == [{"offset": 0, "length": 2, "type": "bold"}]
    # Without a parse mode, markup stays literal, as on Telegram.
    assert format_text("<b>x</b>", None, None) == ("<b>x</b>", [])


def test_markdown_v2() -> None:
    text, entities = format_text(
        "*Полис*, _готов_\\! Цена 5\\.00 [сайт](https://x.org) `код`", "MarkdownV2", None
    )
    assert text == "Полис, готов! Цена 5.00 сайт код"
    assert [e["type"] for e in entities] == ["bold", "italic", "text_link", "code"]
    text, entities = format_text(">quote\n>more\nafter", "MarkdownV2", None)
    assert entities == [{"type": "blockquote", "offset": 0, "length": 10}]
    with pytest.raises(ApiError, match=r"Character '\.' is reserved and must be escaped"):
        format_text("Done.", "MarkdownV2", None)
    with pytest.raises(ApiError, match="Can't find end of Bold entity at byte offset 0"):
        format_text("*open", "MarkdownV2", None)
    with pytest.raises(ApiError, match="unsupported parse_mode"):
        format_text("x", "RichText", None)


def test_legacy_markdown() -> None:
    text, entities = format_text("*b* _i_ `c` [t](http://u)", "Markdown", None)
    assert text == "b i c t"
    assert [e["type"] for e in entities] == ["bold", "italic", "code", "text_link"]
    with pytest.raises(ApiError, match="Can't find end of the entity starting at byte offset 0"):
        format_text("*open", "Markdown", None)
