"""A full scripted exchange; every object the emulator returned or delivered must fit the schema."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    KeyboardButton,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
    ReplyKeyboardMarkup,
)

from sandbox.client import SandboxClient
from sandbox.emulator import Emulator, SchemaMismatchError, validate, validate_result

from .conftest import TOKEN, QuickSession, png_bytes, polling

FORUM = -1001234567890


def build_dispatcher(bot: Bot, seen: dict[str, list[Any]]) -> Dispatcher:
    dp = Dispatcher()

    def note(kind: str, item: Any) -> None:
        seen.setdefault(kind, []).append(item)

    @dp.message(F.text == "/start")
    async def start(message: Message) -> None:
        await message.answer(
            "Welcome! Share your phone.",
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[[KeyboardButton(text="Share phone", request_contact=True)]],
                resize_keyboard=True,
            ),
        )
        await message.answer(
            "Menu",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text="Restore policy", callback_data="restore")],
                    [InlineKeyboardButton(text="Site", url="https://example.org")],
                ]
            ),
        )

    @dp.message(F.contact)
    async def contact(message: Message) -> None:
        note("contact", message.contact)
        await message.answer("Phone saved")

    @dp.message(F.media_group_id)
    async def album(message: Message) -> None:
        note("album", message.media_group_id)

    @dp.message(F.photo)
    async def photo(message: Message) -> None:
        assert message.photo
        await message.answer_photo(
            message.photo[-1].file_id, caption="Got your <i>photo</i>", parse_mode="HTML"
        )

    @dp.message(F.document)
    async def document(message: Message) -> None:
        assert message.document
        file = await bot.get_file(message.document.file_id)
        assert file.file_path
        buffer = io.BytesIO()
        await bot.download_file(file.file_path, buffer)
        note("download", buffer.getvalue())
        await bot.send_chat_action(message.chat.id, "upload_document")
        await message.answer_document(
            BufferedInputFile(b"%PDF-1.4 reply", "reply.pdf"), caption="Your application"
        )

    @dp.message(F.sticker | F.voice | F.location)
    async def other(message: Message) -> None:
        kind = "sticker" if message.sticker else "voice" if message.voice else "location"
        await message.answer(f"That was a {kind}")

    @dp.message(F.successful_payment)
    async def paid(message: Message) -> None:
        await message.answer("Payment received")

    @dp.message(F.text == "pay")
    async def invoice(message: Message) -> None:
        await message.answer_invoice(
            title="Express",
            description="Express processing",
            payload="order-1",
            currency="XTR",
            prices=[LabeledPrice(label="Express", amount=50)],
        )

    # Before the reply handler: Telegram shows topic messages as replies to the topic start.
    @dp.message(F.chat.id == FORUM)
    async def forum(message: Message) -> None:
        note("forum", message)
        if message.text == "need help":
            await message.answer("On it")

    @dp.message(F.reply_to_message)
    async def reply(message: Message) -> None:
        assert message.reply_to_message is not None
        await message.reply(f"You replied to {message.reply_to_message.message_id}")

    @dp.message(F.new_chat_members)
    async def joined(message: Message) -> None:
        note("joined", message.chat.id)
        await message.answer("Hello group")

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"Echo: {message.text}")

    @dp.edited_message()
    async def edited(message: Message) -> None:
        note("edited", message.text)

    @dp.callback_query(F.data == "restore")
    async def restore(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_reply_markup(
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Confirm", callback_data="confirm")]]
            )
        )
        await query.answer()

    @dp.callback_query(F.data == "confirm")
    async def confirm(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Confirmed")
        await query.answer("Done")

    @dp.pre_checkout_query()
    async def checkout(query: PreCheckoutQuery) -> None:
        await query.answer(ok=True)

    @dp.my_chat_member()
    async def membership(event: ChatMemberUpdated) -> None:
        note("membership", (event.chat.type, event.new_chat_member.status))

    return dp


async def test_scripted_exchange_conforms_to_schema(
    emu: Emulator, bot: Bot, client: SandboxClient
) -> None:
    seen: dict[str, list[Any]] = {}
    dp = build_dispatcher(bot, seen)
    user = await client.user(1001, "Ivan", "Petrov", username="ivan_p")
    group = await client.forum_group(chat_id=FORUM, title="Support")
    op = await group.member(2001, "Olga", admin=True)
    outsiders = await client.plain_group(chat_id=-4005550000, title="Random")
    stranger = await outsiders.member(3001, "Stranger")
    await bot.set_my_commands([])

    async with polling(dp, bot):
        await user.send_command("/start")
        await user.wait_text("Menu")
        assert await user.reply_keyboard() is not None
        await user.tap_keyboard("Share phone", phone="+79161234567")
        await user.wait_text("Phone saved")

        await user.send_photo(png_bytes(640, 480), caption="my policy")
        photo_reply = await user.wait_for(lambda m: "photo" in m)
        assert photo_reply["caption"] == "Got your photo"

        await user.send_document(b"%PDF-1.4 scan", "scan.pdf", "application/pdf")
        doc_reply = await user.wait_for(lambda m: "document" in m)
        assert await user.download(doc_reply["document"]["file_id"]) == b"%PDF-1.4 reply"
        assert [a["action"] for a in await user.chat_actions()] == ["upload_document"]

        album = await user.send_album(
            [("photo", png_bytes(300, 300), "a.png"), ("photo", png_bytes(200, 400), "b.png")]
        )
        assert len({m["media_group_id"] for m in album}) == 1

        await user.send_sticker()
        await user.wait_text("sticker")
        await user.send_voice(3)
        await user.wait_text("voice")
        await user.send_location(55.75, 37.61)
        await user.wait_text("location")

        hello = await user.send_text("hello")
        await user.wait_text("Echo: hello")
        await user.edit(hello["message_id"], "hello again")
        menu = (await user.messages())[1]
        await user.reply_to(menu["message_id"], "about this menu")
        await user.wait_text(f"You replied to {menu['message_id']}")

        url = await user.press("Site")
        assert url["kind"] == "url" and url["url"] == "https://example.org"
        assert (await user.press("Restore"))["answered"] is True
        answer = await user.press("Confirm")
        assert answer["text"] == "Done"
        await user.wait_text("Confirmed")

        await user.send_text("pay")
        await user.wait_for(lambda m: "invoice" in m)
        payment = await user.pay()
        assert payment["ok"] is True and payment["message"]["successful_payment"]
        await user.wait_text("Payment received")

        await user.block()
        await user.unblock()

        topic = await bot.create_forum_topic(FORUM, "Ticket 1")
        thread = topic.message_thread_id
        await op.send_text("need help", thread_id=thread)
        await group.wait_text("On it", thread_id=thread)
        await op.send_document(b"notes", "notes.txt", thread_id=thread)
        await op.send_photo(png_bytes(100, 100), caption="screen", thread_id=thread)

        await stranger.add_bot()
        await outsiders.wait_text("Hello group")

    # The bot's own sends: media group, copy, forward, captions, deletion.
    sent = await bot.send_media_group(
        1001,
        [
            InputMediaDocument(media=BufferedInputFile(b"one", "1.txt"), caption="first"),
            InputMediaDocument(media=BufferedInputFile(b"two", "2.txt")),
        ],
    )
    assert sent[0].media_group_id == sent[1].media_group_id
    with pytest.raises(Exception, match="can't use the media of the specified type"):
        await bot.send_media_group(
            1001,
            [
                InputMediaPhoto(media=BufferedInputFile(png_bytes(), "p.png")),
                InputMediaDocument(media=BufferedInputFile(b"two", "2.txt")),
            ],
        )
    copied = await bot.copy_message(FORUM, 1001, sent[0].message_id, message_thread_id=thread)
    forwarded = await bot.forward_message(1001, FORUM, copied.message_id)
    assert forwarded.forward_origin is not None
    edited = await bot.edit_message_caption(
        chat_id=1001, message_id=sent[0].message_id, caption="renamed"
    )
    assert isinstance(edited, Message) and edited.caption == "renamed"
    await bot.delete_message(1001, forwarded.message_id)
    await bot.get_chat(1001)
    await bot.get_chat_member(1001, 1001)
    await bot.get_chat_administrators(FORUM)

    assert seen["contact"][0].phone_number == "+79161234567"
    assert len(seen["album"]) == 2
    assert seen["download"] == [b"%PDF-1.4 scan", b"notes"]
    assert seen["edited"] == ["hello again"]
    assert ("private", "kicked") in seen["membership"]
    assert ("group", "member") in seen["membership"]
    assert seen["joined"] == [-4005550000]
    forum_messages = seen["forum"]
    assert all(m.message_thread_id == thread and m.is_topic_message for m in forum_messages)

    problems: list[str] = []
    delivered = 0
    for call in emu.calls():
        if not call.ok:
            # The one deliberate refusal above; error answers carry no result to check.
            assert call.description and "can't use the media" in call.description
            continue
        problems += validate_result(call.method, call.result)
        if call.method == "getUpdates":
            for update in call.result:
                delivered += 1
                problems += validate(update, "Update", f"update {update['update_id']}")
    for chat in emu.world.chats.values():
        for rec in chat.messages.values():
            problems += validate(rec.message, "Message", f"chat {chat.id} #{rec.message_id}")
    assert problems == []
    assert delivered >= 20
    assert emu.schema_problems == []


async def test_strict_mode_reports_invented_fields() -> None:
    emu = Emulator(strict=True)
    await emu.start()
    session = QuickSession()
    session.api = session.api.from_base(emu.api_base)
    strict_bot = Bot(TOKEN, session=session)
    async with SandboxClient(emu.base_url) as sandbox:
        user = await sandbox.user(7, "Test")
        await user.send_text("hi")
        sent = await strict_bot.send_message(7, "hello")
        # Corrupt a stored message the way a buggy emulator change would.
        emu.world.chats[7].messages[sent.message_id].message["invented_field"] = True
        await strict_bot.edit_message_text("changed", chat_id=7, message_id=sent.message_id)
        assert any("invented_field" in p for p in emu.schema_problems)
    await session.close()
    with pytest.raises(SchemaMismatchError, match="invented_field"):
        await emu.stop()
