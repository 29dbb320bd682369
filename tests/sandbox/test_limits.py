"""Telegram's size limits, with the error descriptions api.telegram.org gives, one test per limit.

Sources: the Bot API documentation; telegram-bot-api's Client.cpp and TDLib (MessageContent.cpp
counts a text's length in Unicode code points, ReplyMarkup.cpp checks button texts,
FileLoaderUtils.cpp the photo size).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramEntityTooLarge
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)

from sandbox.client import SandboxClient, SandboxError
from sandbox.emulator import Emulator
from tests.sandbox.conftest import TOKEN, png_bytes

MB = 1024 * 1024
CHAT = 2001


@pytest.fixture
async def chat(client: SandboxClient) -> int:
    user = await client.user(CHAT, "Limits")
    await user.send_text("/start")
    return CHAT


async def raw_call(emu: Emulator, method: str, **params: Any) -> dict[str, Any]:
    """A Bot API call without aiogram's models, to send what aiogram would not build."""
    body = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.api_base}/bot{TOKEN}/{method}", data=body) as response,
    ):
        answer: dict[str, Any] = await response.json()
        return answer


def described(answer: dict[str, Any]) -> str:
    assert answer["ok"] is False, answer
    return str(answer["description"])


# --- message text: 4096 characters after entity parsing ---------------------------------------


async def test_text_holds_4096_characters_after_entity_parsing(bot: Bot, chat: int) -> None:
    await bot.send_message(chat, "x" * 4096)
    with pytest.raises(
        TelegramBadRequest, match=r"^Telegram server says - Bad Request: message is too long$"
    ):
        await bot.send_message(chat, "x" * 4097)
    # Tags are not text: 4096 letters in bold fit.
    sent = await bot.send_message(chat, f"<b>{'x' * 4096}</b>", parse_mode="HTML")
    assert sent.text is not None and len(sent.text) == 4096
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(chat, f"<b>{'x' * 4097}</b>", parse_mode="HTML")


async def test_text_length_counts_characters_not_utf16_units(bot: Bot, chat: int) -> None:
    # Telegram counts code points (TDLib's utf8_length): 4096 emoji are 8192 UTF-16 units.
    await bot.send_message(chat, "\U0001f600" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(chat, "\U0001f600" * 4097)


async def test_an_edit_holds_4096_characters_too(bot: Bot, chat: int) -> None:
    sent = await bot.send_message(chat, "short")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.edit_message_text(text="y" * 4097, chat_id=chat, message_id=sent.message_id)
    await bot.edit_message_text(text="y" * 4096, chat_id=chat, message_id=sent.message_id)


async def test_a_person_cannot_send_5000_characters_as_one_message(
    client: SandboxClient, chat: int
) -> None:
    user = await client.user(CHAT)
    await user.send_text("z" * 4096)
    with pytest.raises(SandboxError, match="at most 4096 characters") as info:
        await user.send_text("z" * 5000)
    assert info.value.status == 400


# --- captions: 1024 characters ---------------------------------------------------------------


async def test_caption_holds_1024_characters(bot: Bot, chat: int) -> None:
    document = BufferedInputFile(b"data", "a.txt")
    sent = await bot.send_document(chat, document, caption="c" * 1024)
    caption_error = r"^Telegram server says - Bad Request: message caption is too long$"
    with pytest.raises(TelegramBadRequest, match=caption_error):
        await bot.send_document(chat, BufferedInputFile(b"data", "b.txt"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match=caption_error):
        await bot.send_photo(chat, BufferedInputFile(png_bytes(), "p.png"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match=caption_error):
        await bot.edit_message_caption(chat_id=chat, message_id=sent.message_id, caption="d" * 1025)
    with pytest.raises(TelegramBadRequest, match=caption_error):
        await bot.copy_message(chat, chat, sent.message_id, caption="e" * 1025)


async def test_a_person_cannot_send_a_caption_over_1024_characters(
    client: SandboxClient, chat: int
) -> None:
    user = await client.user(CHAT)
    await user.send_photo(png_bytes(), caption="c" * 1024)
    with pytest.raises(SandboxError, match="at most 1024 characters"):
        await user.send_photo(png_bytes(), caption="c" * 1025)


# --- inline keyboards: callback_data of 1-64 bytes, a button text ----------------------------


def one_button(**button: Any) -> dict[str, Any]:
    return {"inline_keyboard": [[button]]}


async def test_callback_data_holds_1_to_64_bytes(bot: Bot, chat: int, emu: Emulator) -> None:
    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="B", callback_data=data)]]
        )

    await bot.send_message(chat, "64 ASCII bytes", reply_markup=keyboard("d" * 64))
    # 32 Cyrillic letters are 64 bytes, 33 are 66: the limit is in bytes, not characters.
    await bot.send_message(chat, "64 bytes", reply_markup=keyboard("\u0436" * 32))
    with pytest.raises(TelegramBadRequest, match=r"Bad Request: BUTTON_DATA_INVALID$"):
        await bot.send_message(chat, "65 bytes", reply_markup=keyboard("d" * 65))
    with pytest.raises(TelegramBadRequest, match=r"Bad Request: BUTTON_DATA_INVALID$"):
        await bot.send_message(chat, "66 bytes", reply_markup=keyboard("\u0436" * 33))
    # Empty data is read as no data at all: a button without an action.
    answer = await raw_call(
        emu,
        "sendMessage",
        chat_id=chat,
        text="x",
        reply_markup=one_button(text="B", callback_data=""),
    )
    assert described(answer) == (
        "Bad Request: can't parse inline keyboard button:"
        " Text buttons are unallowed in the inline keyboard"
    )


async def test_inline_button_text_must_be_a_non_empty_string(chat: int, emu: Emulator) -> None:
    empty = await raw_call(
        emu,
        "sendMessage",
        chat_id=chat,
        text="x",
        reply_markup=one_button(text="", callback_data="a"),
    )
    assert described(empty) == "Bad Request: inline keyboard button text must be non-empty"
    missing = await raw_call(
        emu, "sendMessage", chat_id=chat, text="x", reply_markup=one_button(callback_data="a")
    )
    assert described(missing) == (
        "Bad Request: can't parse inline keyboard button: Can't find field \"text\""
    )
    not_text = await raw_call(
        emu,
        "sendMessage",
        chat_id=chat,
        text="x",
        reply_markup=one_button(text=["B"], callback_data="a"),
    )
    assert described(not_text) == (
        'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String'
    )
    number = await raw_call(
        emu,
        "sendMessage",
        chat_id=chat,
        text="x",
        reply_markup=one_button(text=7, callback_data="a"),
    )
    assert number["ok"] is True
    assert number["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "7"


async def test_reply_keyboard_button_text_must_be_non_empty(chat: int, emu: Emulator) -> None:
    answer = await raw_call(
        emu, "sendMessage", chat_id=chat, text="x", reply_markup={"keyboard": [[{"text": ""}]]}
    )
    assert described(answer) == "Bad Request: keyboard button text must be non-empty"


# --- files: getFile up to 20 MB, photos up to 10 MB, other uploads up to 50 MB ----------------


async def test_bots_download_files_up_to_20_mb(bot: Bot, emu: Emulator) -> None:
    fits = emu.world.files.add_document(b"f" * (20 * MB), "fits.bin", None)
    assert (await bot.get_file(fits["file_id"])).file_size == 20 * MB
    big = emu.world.files.add_document(b"b" * (20 * MB + 1), "big.bin", None)
    with pytest.raises(TelegramBadRequest, match=r"Bad Request: file is too big$"):
        await bot.get_file(big["file_id"])


async def test_photo_uploads_hold_10_mb(bot: Bot, chat: int) -> None:
    # A valid PNG padded past 10 MB: only its size is wrong.
    padded = png_bytes(64, 64) + b"\0" * (10 * MB)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_photo(chat, BufferedInputFile(padded, "big.png"))
    assert info.value.message == (
        f"Bad Request: file of size {len(padded)} bytes is too big for a photo;"
        f" the maximum size is {10 * MB} bytes"
    )
    # The same bytes go as a document.
    sent = await bot.send_document(chat, BufferedInputFile(padded, "big.png"))
    assert sent.document is not None and sent.document.file_size == len(padded)


async def test_document_uploads_hold_50_mb(bot: Bot, chat: int) -> None:
    with pytest.raises(TelegramEntityTooLarge):
        await bot.send_document(chat, BufferedInputFile(b"d" * (50 * MB + 1), "big.bin"))
