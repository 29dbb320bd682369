"""Forum supergroups, topics, members, and the bot being added to a group."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from sandbox.client import SandboxClient
from sandbox.emulator import Emulator

from .conftest import BOT_ID, polling

FORUM = -1001234567890


async def test_forum_topics_round_trip(emu: Emulator, bot: Bot, client: SandboxClient) -> None:
    group = await client.forum_group(chat_id=FORUM, title="Support")
    op = await group.member(user_id=2001, first_name="Olga", admin=True)
    received: list[Message] = []
    dp = Dispatcher()

    @dp.message(F.chat.id == FORUM)
    async def on_group_message(message: Message) -> None:
        received.append(message)
        if message.text == "status?":
            await message.reply("All good")

    @dp.callback_query(F.data == "take")
    async def on_take(query: CallbackQuery) -> None:
        await query.answer("Taken")

    topic = await bot.create_forum_topic(FORUM, "Request 42")
    thread = topic.message_thread_id
    assert [t["name"] for t in await group.topics()] == ["Request 42"]
    card = await bot.send_message(
        FORUM,
        "New request",
        message_thread_id=thread,
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Take", callback_data="take")]]
        ),
    )
    assert card.message_thread_id == thread and card.is_topic_message
    # A topic message shows as a reply to the topic's creation service message.
    assert card.reply_to_message is not None
    assert card.reply_to_message.forum_topic_created is not None

    async with polling(dp, bot):
        await op.send_text("status?", thread_id=thread)
        reply = await group.wait_text("All good", thread_id=thread)
        assert reply["message_thread_id"] == thread
        assert reply["reply_to_message"]["text"] == "status?"
        answer = await op.press("Take", thread_id=thread)
        assert answer["text"] == "Taken"
    assert received[0].message_thread_id == thread and received[0].is_topic_message

    await bot.edit_forum_topic(FORUM, thread, name="Request 42 (taken)")
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(FORUM, thread, name="Request 42 (taken)")
    await bot.close_forum_topic(FORUM, thread)
    await bot.reopen_forum_topic(FORUM, thread)
    assert [t["name"] for t in await group.topics()] == ["Request 42 (taken)"]

    await group.delete_topic(thread)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message thread not found"):
        await bot.send_message(FORUM, "late", message_thread_id=thread)
    assert await group.topics() == []
    assert await group.messages(thread_id=thread) == []


async def test_user_created_topic_reaches_bot(bot: Bot, client: SandboxClient) -> None:
    group = await client.forum_group()
    await group.member(user_id=2002, first_name="Ivan")
    topic = await group.create_topic("Question", by_user_id=2002)
    updates = await bot.get_updates()
    message = updates[-1].message
    assert message is not None and message.forum_topic_created is not None
    assert message.message_thread_id == topic["message_thread_id"]
    assert message.forum_topic_created.name == "Question"


async def test_members_and_administrators(bot: Bot, client: SandboxClient) -> None:
    group = await client.forum_group()
    await group.member(user_id=2001, first_name="Olga", admin=True)
    await group.member(user_id=2003, first_name="Boris")
    admins = await bot.get_chat_administrators(FORUM)
    assert {a.user.id for a in admins} == {2001, BOT_ID}
    assert all(isinstance(a, ChatMemberAdministrator) for a in admins)
    member = await bot.get_chat_member(FORUM, 2003)
    assert member.status == "member"
    chat = await bot.get_chat(FORUM)
    assert chat.is_forum is True and chat.type == "supergroup"
    assert await bot.get_chat_member_count(FORUM) == 3
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.get_chat_member(FORUM, 777)


async def test_bot_leaves_uninvited_group(emu: Emulator, bot: Bot, client: SandboxClient) -> None:
    group = await client.plain_group(chat_id=-4001234567, title="Random")
    stranger = await group.member(user_id=3001, first_name="Stranger")
    left = []
    dp = Dispatcher()

    @dp.my_chat_member()
    async def on_added(event: ChatMemberUpdated) -> None:
        if event.new_chat_member.status in ("member", "administrator"):
            await bot.leave_chat(event.chat.id)
            left.append(event.chat.id)

    async with polling(dp, bot):
        await stranger.add_bot()
        event = await client.wait_event(
            "member_changed",
            lambda e: e["data"]["new_status"] == "left",
            chat_id=group.chat_id,
        )
        assert event["data"]["user_id"] == BOT_ID
    assert left == [-4001234567]
    assert await group.bot_status() == "left"
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the group chat"):
        await bot.send_message(-4001234567, "hello?")


async def test_privacy_mode_in_plain_group(bot: Bot, client: SandboxClient) -> None:
    group = await client.plain_group(bot_status="member")
    person = await group.member(user_id=3002, first_name="Ivan")
    await person.send_text("just chatting")
    await person.send_command("/help")
    updates = await bot.get_updates()
    texts = [u.message.text for u in updates if u.message]
    assert texts == ["/help"]


async def test_an_administrator_bot_asking_for_chat_member_hears_of_new_members(
    bot: Bot, client: SandboxClient
) -> None:
    group = await client.forum_group(chat_id=FORUM)
    await group.member(user_id=3003, first_name="Before")  # not asked for yet: dropped
    await bot.get_updates(allowed_updates=["message", "chat_member"])
    await group.member(user_id=3004, first_name="Eve")
    updates = await bot.get_updates(allowed_updates=["message", "chat_member"])
    changes = [u.chat_member for u in updates if u.chat_member]
    assert [(c.new_chat_member.user.id, c.old_chat_member.status) for c in changes] == [
        (3004, "left")
    ]
    assert changes[0].new_chat_member.status == "member"

    plain = await client.plain_group(chat_id=-4005550000, bot_status="member")
    await plain.member(user_id=3005, first_name="Unseen")  # the bot administers nothing here
    later = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert not [u for u in later if u.chat_member]
