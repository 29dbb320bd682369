"""A real aiogram Bot and Dispatcher against the emulator."""

from __future__ import annotations

import io

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandStart
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from PIL import Image

from sandbox.client import SandboxClient
from sandbox.emulator import Emulator

from .conftest import BOT_ID, QuickSession, png_bytes, polling


class UnknownMethod(TelegramMethod[bool]):
    """A method Telegram does not have, to see the emulator answer like Telegram."""

    __returning__ = bool
    __api_method__ = "doSomethingImaginary"


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in buttons]
    )


async def test_get_me_uses_token_digits(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == BOT_ID
    assert me.is_bot
    assert me.username == "oms_restore_bot"
    assert me.can_join_groups is True


async def test_polling_start_and_callback_buttons(
    emu: Emulator, bot: Bot, client: SandboxClient
) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            "<b>Hello</b>, choose:", reply_markup=keyboard(("Yes", "yes"), ("No, thanks", "no"))
        )

    @dp.callback_query(F.data == "yes")
    async def yes(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("You said yes")
        await query.answer("Noted", show_alert=True)

    user = await client.user(1001, "Ivan")
    bot.default = DefaultBotProperties(parse_mode="HTML")
    async with polling(dp, bot):
        sent = await user.send_command("/start")
        assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        hello = await user.wait_text("Hello")
        assert hello["text"] == "Hello, choose:"
        assert hello["entities"][0] == {"type": "bold", "offset": 0, "length": 5}
        answer = await user.press("Yes")
        assert answer["answered"] is True
        assert answer["text"] == "Noted" and answer["show_alert"] is True
        edited = await user.wait_text("You said yes")
        assert edited["message_id"] == hello["message_id"]
        assert "reply_markup" not in edited  # the edit did not repeat the keyboard
        assert "edit_date" in edited
    messages = await user.messages()
    assert [m["text"] for m in messages] == ["You said yes"]
    assert [c.method for c in emu.calls("answerCallbackQuery")] == ["answerCallbackQuery"]


async def test_press_substring_and_unanswered(bot: Bot, client: SandboxClient) -> None:
    user = await client.user(1002, "Anna")
    await user.send_text("hi")
    await bot.send_message(
        1002, "Pick", reply_markup=keyboard(("Option A", "a"), ("Option B", "b"))
    )
    with pytest.raises(Exception, match="several buttons"):
        await user.press("Option")
    result = await user.press("B", timeout=0.2)
    assert result["answered"] is False and result["data"] == "b"
    with pytest.raises(Exception, match="no inline button"):
        await user.press("Missing")


async def test_document_upload_and_download(bot: Bot, client: SandboxClient) -> None:
    user = await client.user(1003, "Petr")
    await user.send_text("hi")
    pdf = b"%PDF-1.4\n" + b"0" * 5000
    sent = await bot.send_document(
        1003, BufferedInputFile(pdf, filename="statement.pdf"), caption="Your form"
    )
    assert sent.document is not None
    assert sent.document.file_name == "statement.pdf"
    assert sent.document.mime_type == "application/pdf"
    assert sent.document.file_size == len(pdf)
    file = await bot.get_file(sent.document.file_id)
    assert file.file_path
    buffer = io.BytesIO()
    await bot.download_file(file.file_path, buffer)
    assert buffer.getvalue() == pdf
    assert await user.download(sent.document.file_id) == pdf
    # Re-sending by file_id reuses the stored file.
    again = await bot.send_document(1003, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(1003, "no-such-file-id")


async def test_photo_sizes_from_real_image(bot: Bot, client: SandboxClient) -> None:
    user = await client.user(1004, "Olga")
    await user.send_text("hi")
    sent = await bot.send_photo(1004, BufferedInputFile(png_bytes(1000, 600), "scan.png"))
    assert sent.photo is not None
    sizes = [(p.width, p.height) for p in sent.photo]
    assert sizes == [(90, 54), (320, 192), (800, 480), (1000, 600)]
    largest = await user.download(sent.photo[-1].file_id)
    with Image.open(io.BytesIO(largest)) as image:
        assert image.size == (1000, 600)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(1004, BufferedInputFile(b"not an image", "x.png"))
    with pytest.raises(TelegramBadRequest, match="can't use file of type Photo as Document"):
        await bot.send_document(1004, sent.photo[0].file_id)


async def test_bad_requests_match_telegram(bot: Bot, client: SandboxClient) -> None:
    user = await client.user(1005, "Ivan")
    await user.send_text("hi")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(1005, "x" * 4097)
    await bot.send_message(1005, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(1005, "   ")
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(999999, "hello")
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(1005, "x", reply_markup=keyboard(("Long", "d" * 65)))
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Can't find end tag"):
        await bot.send_message(1005, "<b>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "" at byte offset 2'):
        await bot.send_message(1005, "1 < 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(1005, BufferedInputFile(b"data", "a.txt"), caption="c" * 1025)
    first = await bot.send_message(1005, "same", reply_markup=keyboard(("A", "a")))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="same",
            chat_id=1005,
            message_id=first.message_id,
            reply_markup=keyboard(("A", "a")),
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="new", chat_id=1005, message_id=9999)
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(1005, "re", reply_to_message_id=9999)
    await bot.delete_message(1005, first.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(1005, first.message_id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")


async def test_blocked_user_and_not_started_user(
    emu: Emulator, bot: Bot, client: SandboxClient
) -> None:
    stranger = await client.user(1006, "Nobody")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(stranger.user_id, "hi")
    await stranger.send_text("hello")
    await bot.send_message(stranger.user_id, "hi")
    await stranger.block()
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(stranger.user_id, "are you there?")
    await stranger.unblock()
    await bot.send_message(stranger.user_id, "welcome back")
    updates = await bot.get_updates(allowed_updates=["message", "my_chat_member"])
    changes = [u.my_chat_member for u in updates if u.my_chat_member]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("member", "kicked"),
        ("kicked", "member"),
    ]


async def test_faults_become_aiogram_exceptions(emu: Emulator, bot: Bot) -> None:
    emu.fail_next("getMe", status=429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.get_me()
    assert retry.value.retry_after == 7
    emu.fail_next("getme", status=502, times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.get_me()
    emu.drop_next("getMe")
    with pytest.raises(TelegramNetworkError):
        await bot.get_me()
    assert (await bot.get_me()).id == BOT_ID
    with pytest.raises(TelegramNotFound, match="Not Found"):
        await bot(UnknownMethod())
    calls = emu.calls()
    assert [c.fault for c in calls[:4]] == ["status", "status", "status", "drop"]
    assert calls[-1].method == "doSomethingImaginary" and calls[-1].error_code == 404


async def test_retry_after_via_client(client: SandboxClient, bot: Bot) -> None:
    await client.fail_next("sendMessage", status=429, retry_after=3)
    user = await client.user(1007, "Ivan")
    await user.send_text("hi")
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(1007, "x")
    assert retry.value.retry_after == 3
    await bot.send_message(1007, "x")
    await client.fail_next("sendMessage", status=403, description="Forbidden: user is deactivated")
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await bot.send_message(1007, "x")
    calls = await client.calls("sendMessage")
    assert [c["error_code"] for c in calls] == [429, None, 403]


async def test_reply_keyboard_contact_and_remove(bot: Bot, client: SandboxClient) -> None:
    user = await client.user(1008, "Ivan", language_code="ru")
    await user.send_command("/start")
    assert await user.reply_keyboard() is None
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Share phone", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    sent = await bot.send_message(1008, "Send your phone", reply_markup=markup)
    assert sent.reply_markup is None  # Telegram echoes only inline keyboards
    rows = await user.reply_keyboard()
    assert rows == [[{"text": "Share phone", "request_contact": True}]]
    contact = await user.tap_keyboard("Share phone", phone="+79161234567")
    assert contact["contact"] == {
        "phone_number": "+79161234567",
        "first_name": "Ivan",
        "user_id": 1008,
    }
    other = await user.share_contact("+79990001122", own=False, first_name="Maria")
    assert "user_id" not in other["contact"]
    await bot.send_message(1008, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert await user.reply_keyboard() is None


async def test_commands_per_scope_and_language(
    emu: Emulator, bot: Bot, client: SandboxClient
) -> None:
    await client.user(1009, "Ivan")
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Start (ru)")], language_code="ru"
    )
    await bot.set_my_commands(
        [BotCommand(command="help", description="Help")],
        scope=BotCommandScopeChat(chat_id=1009),
    )
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Start (ru)"]
    assert emu.commands("chat:1009") == [{"command": "help", "description": "Help"}]
    assert await client.commands("default", "ru") == [
        {"command": "start", "description": "Start (ru)"}
    ]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_webhook_blocks_polling(bot: Bot) -> None:
    assert (await bot.get_webhook_info()).url == ""
    await bot.set_webhook("https://example.invalid/hook")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.invalid/hook"
    with pytest.raises(Exception, match="Conflict: can't use getUpdates method while webhook"):
        await bot.get_updates()
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == []


async def test_independent_session_reaches_separate_emulator() -> None:
    # The client works against any base URL, e.g. a separately started emulator.
    async with Emulator() as other, SandboxClient(other.base_url) as sandbox:
        user = await sandbox.user(5, "Solo")
        await user.send_text("ping")
        session = QuickSession()
        session.api = session.api.from_base(other.api_base)
        solo_bot = Bot("42:abc", session=session)
        updates = await solo_bot.get_updates()
        assert updates[0].message is not None and updates[0].message.text == "ping"
        await session.close()


async def test_replies_actions_and_bulk_delete(emu: Emulator, bot: Bot) -> None:
    async with emu.client() as sandbox:
        user = await sandbox.user(1010, "Ivan")
        question = await user.send_text("When?")
        answer = await bot.send_message(
            1010, "Tomorrow", reply_parameters=ReplyParameters(message_id=question["message_id"])
        )
        assert answer.reply_to_message is not None
        assert answer.reply_to_message.text == "When?"
        missing = ReplyParameters(message_id=999, allow_sending_without_reply=True)
        alone = await bot.send_message(1010, "Anyway", reply_parameters=missing)
        assert alone.reply_to_message is None
        assert await bot.send_chat_action(1010, "typing")
        with pytest.raises(TelegramBadRequest, match="wrong parameter action in request"):
            await bot.send_chat_action(1010, "dancing")
        assert [a["action"] for a in await user.chat_actions()] == ["typing"]
        assert await bot.delete_messages(1010, [answer.message_id, alone.message_id])
        assert await user.messages() == []
        assert [m["text"] for m in await user.all_messages()] == ["When?"]
