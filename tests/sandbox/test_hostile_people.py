"""What people send that a bot must survive (videos, polls, dice, forwards, messages on behalf
of a chat, forged button data, channels) and the faults between a bot and Telegram, as aiogram
parses them; strict mode checks every update against the Bot API schema."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError
from aiogram.types import InaccessibleMessage, Message, MessageOriginHiddenUser, MessageOriginUser

from sandbox.client import SandboxClient, SandboxError
from sandbox.emulator import Emulator

FORUM = -1001234567890
CHANNEL = -1005551234567


async def test_videos_polls_dice_and_forwards_reach_the_bot(
    bot: Bot, client: SandboxClient
) -> None:
    user = await client.user(1101, "Ivan")
    friend = await client.user(1102, "Olga")
    await user.send_video(duration=4)
    await user.send_video_note(duration=2)
    await user.send_poll("Lunch?", ["Yes", "No"])
    await user.send_dice("\U0001f3af", value=6)
    await user.forward_contact("+79990000001", "Olga", user_id=friend.user_id, forwarded_from=1102)
    await user.forward_text("hello from elsewhere")
    updates = await bot.get_updates()
    messages = [u.message for u in updates if u.message is not None]
    video, note, poll, dice, contact, text = messages
    assert video.video is not None and video.video.duration == 4
    assert note.video_note is not None and note.video_note.length == 384
    assert poll.poll is not None and [o.text for o in poll.poll.options] == ["Yes", "No"]
    assert dice.dice is not None and (dice.dice.emoji, dice.dice.value) == ("\U0001f3af", 6)
    assert isinstance(contact.forward_origin, MessageOriginUser)
    assert contact.forward_origin.sender_user.id == 1102
    assert contact.contact is not None and contact.contact.user_id == 1102
    assert isinstance(text.forward_origin, MessageOriginHiddenUser)
    # The file behind a video is there to download, as on Telegram.
    assert video.video.file_size and (await bot.get_file(video.video.file_id)).file_path


async def test_an_anonymous_admin_and_a_channel_write_in_a_group(
    bot: Bot, client: SandboxClient
) -> None:
    group = await client.forum_group(chat_id=FORUM)
    admin = await group.member(2001, "Olga", admin=True)
    channel = await client.channel(CHANNEL, "News")
    await channel.member(2001, "Olga", status="creator")
    topic = await admin.create_topic("Talk")
    await admin.send_text_as_chat("anonymous", FORUM, thread_id=topic["message_thread_id"])
    await admin.send_text_as_chat("as the channel", CHANNEL)
    updates = await bot.get_updates()
    anonymous, as_channel = [u.message for u in updates if u.message and u.message.text]
    assert anonymous.from_user is not None and anonymous.from_user.id == 1087968824
    assert anonymous.sender_chat is not None and anonymous.sender_chat.id == FORUM
    assert anonymous.message_thread_id == topic["message_thread_id"]
    assert as_channel.from_user is not None and as_channel.from_user.username == "Channel_Bot"
    assert as_channel.sender_chat is not None and as_channel.sender_chat.type == "channel"


async def test_a_stranger_adds_the_bot_to_a_channel(bot: Bot, client: SandboxClient) -> None:
    channel = await client.channel(CHANNEL, "News")
    await channel.member(3001, "Stranger", status="creator")
    await channel.add_bot(3001)
    [update] = await bot.get_updates()
    change = update.my_chat_member
    assert change is not None and change.chat.type == "channel"
    assert change.new_chat_member.status == "administrator"
    assert await bot.leave_chat(CHANNEL)
    assert await channel.bot_status() == "left"


async def test_forged_and_too_old_callback_data(
    emu: Emulator, bot: Bot, client: SandboxClient
) -> None:
    user = await client.user(1103, "Ivan")
    await user.send_text("hi")
    sent = await bot.send_message(1103, "no buttons here")
    answered: list[tuple[str, bool]] = []

    async def answer_next() -> None:
        while True:
            for update in await bot.get_updates(offset=-1, timeout=1):
                query = update.callback_query
                if query is not None and query.data:
                    answered.append((query.data, isinstance(query.message, InaccessibleMessage)))
                    await bot.answer_callback_query(query.id, text="seen")
                    await bot.get_updates(offset=update.update_id + 1)
                    return

    for inaccessible in (False, True):
        task = asyncio.create_task(answer_next())
        result = await user.forge_press(sent.message_id, "rs:forged", inaccessible=inaccessible)
        await task
        assert result["answered"] and result["text"] == "seen"
    assert answered == [("rs:forged", False), ("rs:forged", True)]
    with pytest.raises(SandboxError, match="1-64 bytes"):
        await user.forge_press(sent.message_id, "x" * 65)


async def test_a_person_cannot_send_an_empty_or_overlong_text(client: SandboxClient) -> None:
    user = await client.user(1104, "Ivan")
    for text in ("", "   \n\t "):
        with pytest.raises(SandboxError, match="empty"):
            await user.send_text(text)
    with pytest.raises(SandboxError, match="send it in parts"):
        await user.send_text("x" * 4097)
    parts = await user.send_text_in_parts("y" * 5000)
    assert [len(p["text"]) for p in parts] == [4096, 904]


async def test_a_timeout_does_nothing_and_a_lost_answer_did_the_work(
    emu: Emulator, bot: Bot, client: SandboxClient
) -> None:
    user = await client.user(1105, "Ivan")
    await user.send_text("hi")
    await client.timeout_next("sendMessage", 0.3)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1105, "never sent")
    await client.lose_answer_next("sendMessage")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1105, "sent, answer lost")
    texts = [m["text"] for m in await user.messages()]
    assert texts == ["sent, answer lost"]
    faults = [(c.fault, c.ok) for c in emu.calls("sendMessage")]
    assert faults == [("timeout", False), ("lose_answer", True)]
    # The client's own timeout ends a longer wait first.
    await client.timeout_next("sendMessage", 5)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1105, "gave up", request_timeout=1)
    message: Message = await bot.send_message(1105, "fine again")
    assert message.text == "fine again"
