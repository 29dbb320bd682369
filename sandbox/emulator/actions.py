"""What people do in the sandbox: write, press buttons, pay, block the bot, manage groups.

Each action changes the world the way the Telegram app would and queues the updates the bot
would receive. Errors a person could not run into in a real app raise :class:`ControlError`.
"""

from __future__ import annotations

import asyncio
import copy
import io
import secrets
from typing import Any

from PIL import Image

from .errors import ApiError
from .markup import inline_buttons
from .members import push_chat_member, push_my_chat_member
from .messaging import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH, new_message, plain_text_fields
from .methods_chats import create_topic, delete_topic
from .state import (
    FORUM_ICON_COLORS,
    ChatRec,
    MemberRec,
    MessageRec,
    PendingAnswer,
    UserRec,
    World,
    now,
)
from .state import new_numeric_id as _numeric_id

PRESENT = ("creator", "administrator", "member", "restricted")
# Telegram's service accounts shown as `from` when a chat, not a person, is the sender.
GROUP_ANONYMOUS_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
DICE_FACES = {"\U0001f3b2": 6, "\U0001f3af": 6, "\U0001f3b3": 6, "\U0001f3c0": 5, "\u26bd": 5}
SERVICE_KEYS = ("new_chat_members", "left_chat_member", "forum_topic_created", "successful_payment")


class ControlError(Exception):
    """A sandbox request that cannot be carried out (unknown user, no such button, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def get_chat(world: World, chat_id: int) -> ChatRec:
    chat = world.chats.get(chat_id)
    if chat is None:
        raise ControlError(404, f"no chat {chat_id} in the sandbox")
    return chat


def get_user(world: World, user_id: int) -> UserRec:
    user = world.users.get(user_id)
    if user is None:
        raise ControlError(404, f"no user {user_id} in the sandbox")
    return user


def acting_user(world: World, chat: ChatRec, user_id: int | None) -> UserRec:
    """The person acting in ``chat``: the private chat's owner, or a present group member."""
    if chat.type == "private":
        if user_id not in (None, chat.user_id):
            raise ControlError(400, "only the chat's user can act in a private chat")
        assert chat.user_id is not None
        return get_user(world, chat.user_id)
    if user_id is None:
        raise ControlError(400, "user_id is required in a group")
    user = get_user(world, user_id)
    member = chat.members.get(user_id)
    if member is None or member.status not in PRESENT:
        raise ControlError(403, f"user {user_id} is not a member of chat {chat.id}")
    return user


def bot_sees(world: World, chat: ChatRec, message: dict[str, Any]) -> bool:
    """Whether the bot receives a group message (privacy mode applies to non-admin bots)."""
    if chat.type == "private":
        return True
    status = world.bot_member(chat).status
    if status not in PRESENT:
        return False
    if status in ("administrator", "creator") or not world.privacy_mode:
        return True
    if any(key in message for key in SERVICE_KEYS):
        return True
    text = message.get("text") or message.get("caption") or ""
    if text.startswith("/") or f"@{world.bot.username}".lower() in text.lower():
        return True
    reply = message.get("reply_to_message") or {}
    return bool(
        reply.get("from", {}).get("id") == world.bot.id and "forum_topic_created" not in reply
    )


def user_message(
    world: World,
    chat: ChatRec,
    user: UserRec,
    content: dict[str, Any],
    *,
    thread_id: int | None = None,
    reply_to_message_id: int | None = None,
    forwarded_from: dict[str, Any] | None = None,
    sender_chat: ChatRec | None = None,
) -> dict[str, Any]:
    """Post a message as ``user`` and deliver it to the bot.

    ``forwarded_from`` makes it a forward: ``{"user_id": id}`` of a user in the sandbox, or
    ``{"name": "..."}`` of someone who hides their account. ``sender_chat`` posts it on behalf of
    a chat, as Telegram's apps let a group's anonymous administrator (``sender_chat`` is the
    group itself) or a channel's owner (a channel chat) do; ``from`` then is Telegram's service
    account for that, as on Telegram."""
    if chat.type == "private":
        if chat.blocked:
            # Writing to a blocked bot in the app means pressing "Restart": it unblocks first.
            unblock(world, chat)
        chat.started = True
    thread = world.resolve_thread(chat, thread_id)
    if thread is not None and chat.topics[thread].closed:
        member = chat.members.get(user.id)
        if member is None or member.status not in ("creator", "administrator"):
            raise ControlError(403, "the topic is closed")
    reply_to: MessageRec | None = None
    if reply_to_message_id:
        reply_to = chat.find(reply_to_message_id)
        if reply_to is None:
            raise ControlError(404, f"no message {reply_to_message_id} to reply to")
    sender = user.as_user()
    if sender_chat is not None:
        if chat.type == "private":
            raise ControlError(400, "only groups take messages on behalf of a chat")
        sender = GROUP_ANONYMOUS_BOT if sender_chat is chat else CHANNEL_BOT
    message = new_message(world, chat, dict(sender), thread_id=thread, reply_to=reply_to)
    if sender_chat is not None:
        message["sender_chat"] = sender_chat.as_chat()
    message.update(content)
    if forwarded_from is not None:
        message["forward_origin"] = _forward_origin(world, forwarded_from)
    world.store_message(chat, message, from_bot=False)
    if bot_sees(world, chat, message):
        world.push_update("message", message)
    return copy.deepcopy(message)


def _forward_origin(world: World, origin: dict[str, Any]) -> dict[str, Any]:
    if origin.get("user_id") is not None:
        sender = get_user(world, int(origin["user_id"]))
        return {"type": "user", "date": now() - 3600, "sender_user": sender.as_user()}
    return {"type": "hidden_user", "date": now() - 3600, "sender_user_name": str(origin["name"])}


# --- message contents --------------------------------------------------------------------------


def text_content(text: str) -> dict[str, Any]:
    try:
        fields = plain_text_fields(text)
    except ApiError as exc:
        raise ControlError(400, "text must not be empty") from exc
    if len(fields["text"]) > MAX_TEXT_LENGTH:
        # No Telegram app sends that as one message: it splits the text into several.
        raise ControlError(
            400, f"a message holds at most {MAX_TEXT_LENGTH} characters; send it in parts"
        )
    return fields


def caption_content(caption: str | None) -> dict[str, Any]:
    if not caption:
        return {}
    fields = plain_text_fields(caption)
    if len(fields["text"]) > MAX_CAPTION_LENGTH:
        raise ControlError(400, f"a caption holds at most {MAX_CAPTION_LENGTH} characters")
    result: dict[str, Any] = {"caption": fields["text"]}
    if "entities" in fields:
        result["caption_entities"] = fields["entities"]
    return result


def contact_content(
    user: UserRec,
    phone: str,
    *,
    own: bool,
    first_name: str | None = None,
    last_name: str | None = None,
    user_id: int | None = None,
) -> dict[str, Any]:
    contact: dict[str, Any] = {"phone_number": phone}
    if own:
        contact["first_name"] = user.first_name
        if user.last_name:
            contact["last_name"] = user.last_name
        contact["user_id"] = user.id
    else:
        contact["first_name"] = first_name or "Contact"
        if last_name:
            contact["last_name"] = last_name
        if user_id:
            contact["user_id"] = user_id
    return {"contact": contact}


def photo_content(world: World, data: bytes, caption: str | None) -> dict[str, Any]:
    try:
        sizes = world.files.add_photo(data)
    except ApiError as exc:
        raise ControlError(400, f"not a usable image: {exc.description}") from exc
    return {"photo": sizes, **caption_content(caption)}


def document_content(
    world: World, data: bytes, file_name: str, mime_type: str | None, caption: str | None
) -> dict[str, Any]:
    try:
        doc = world.files.add_document(data, file_name, mime_type)
    except ApiError as exc:
        raise ControlError(400, exc.description) from exc
    return {"document": doc, **caption_content(caption)}


def _tiny_webp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (512, 512), (255, 200, 0, 255)).save(buffer, format="WEBP")
    return buffer.getvalue()


def sticker_content(world: World, data: bytes | None, emoji: str) -> dict[str, Any]:
    return {"sticker": world.files.add_sticker(data or _tiny_webp(), emoji)}


def voice_content(world: World, data: bytes | None, duration: int) -> dict[str, Any]:
    # Without real audio, an Ogg page header is enough for something to download.
    return {"voice": world.files.add_voice(data or b"OggS" + bytes(60), duration)}


def video_content(world: World, data: bytes | None, duration: int) -> dict[str, Any]:
    # An MP4 "ftyp" box is enough for something to download.
    payload = data or b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    return {"video": world.files.add_video(payload, duration, 1280, 720)}


def video_note_content(world: World, data: bytes | None, duration: int) -> dict[str, Any]:
    payload = data or b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    return {"video_note": world.files.add_video_note(payload, duration, 384)}


def poll_content(question: str, options: list[str]) -> dict[str, Any]:
    """A poll a person sends into the chat (regular, anonymous, open)."""
    if not question.strip() or not 2 <= len(options) <= 12:
        raise ControlError(400, "a poll has a question and 2-12 options")
    return {
        "poll": {
            "id": _numeric_id(),
            "question": question,
            "options": [
                {"persistent_id": str(index), "text": text, "voter_count": 0}
                for index, text in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": True,
            "members_only": False,
        }
    }


def dice_content(emoji: str, value: int | None = None) -> dict[str, Any]:
    faces = DICE_FACES.get(emoji)
    if faces is None:
        raise ControlError(400, f"no dice with emoji {emoji!r}")
    rolled = value if value is not None else secrets.randbelow(faces) + 1
    return {"dice": {"emoji": emoji, "value": rolled}}


def location_content(latitude: float, longitude: float) -> dict[str, Any]:
    return {"location": {"latitude": float(latitude), "longitude": float(longitude)}}


def album(
    world: World,
    chat: ChatRec,
    user: UserRec,
    items: list[dict[str, Any]],
    *,
    thread_id: int | None = None,
) -> list[dict[str, Any]]:
    """Send 2-10 photos or documents as one album: separate messages sharing media_group_id."""
    if not 2 <= len(items) <= 10:
        raise ControlError(400, "an album has 2-10 items")
    group_id = str(secrets.randbelow(9 * 10**17) + 10**17)
    contents: list[dict[str, Any]] = []
    for item in items:
        if item["kind"] == "photo":
            content = photo_content(world, item["data"], item.get("caption"))
        elif item["kind"] == "document":
            content = document_content(
                world,
                item["data"],
                item.get("file_name") or "file",
                item.get("mime_type"),
                item.get("caption"),
            )
        else:
            raise ControlError(400, f"albums take photos or documents, not {item['kind']}")
        content["media_group_id"] = group_id
        contents.append(content)
    return [user_message(world, chat, user, c, thread_id=thread_id) for c in contents]


def edit_user_message(
    world: World, chat: ChatRec, user: UserRec, message_id: int, text: str
) -> dict[str, Any]:
    rec = chat.find(message_id)
    if rec is None or rec.from_bot or rec.message.get("from", {}).get("id") != user.id:
        raise ControlError(404, f"user {user.id} has no message {message_id} here")
    message = rec.message
    if "text" in message:
        fields = text_content(text)
        message["text"] = fields["text"]
        message.pop("entities", None)
        if "entities" in fields:
            message["entities"] = fields["entities"]
    elif any(k in message for k in ("photo", "document")):
        message.pop("caption", None)
        message.pop("caption_entities", None)
        message.update(caption_content(text))
    else:
        raise ControlError(400, "this message cannot be edited")
    message["edit_date"] = now()
    world.events.publish(
        "message_edited", chat.id, {"message": copy.deepcopy(message), "from_bot": False}
    )
    if bot_sees(world, chat, message):
        world.push_update("edited_message", message)
    return copy.deepcopy(message)


# --- buttons and payments ----------------------------------------------------------------------


def find_button(
    chat: ChatRec, text: str, *, message_id: int | None, thread_id: int | None
) -> tuple[MessageRec, dict[str, Any]]:
    """The button labelled ``text`` (exact, else a unique substring) on the newest bot message."""
    candidates = [
        rec
        for rec in reversed(chat.visible_messages())
        if rec.from_bot
        and (message_id is None or rec.message_id == message_id)
        and (thread_id is None or message_id is not None or (rec.thread_id or 1) == thread_id)
    ]
    for rec in candidates:
        buttons = inline_buttons(rec.message)
        exact = [b for b in buttons if b["text"] == text]
        if exact:
            return rec, exact[0]
        partial = [b for b in buttons if text in b["text"]]
        if len(partial) == 1:
            return rec, partial[0]
        if len(partial) > 1:
            labels = ", ".join(repr(b["text"]) for b in partial)
            raise ControlError(409, f"{text!r} matches several buttons: {labels}")
    where = f"message {message_id}" if message_id is not None else "any bot message"
    raise ControlError(404, f"no inline button {text!r} on {where}")


def _chat_instance(chat: ChatRec) -> str:
    # Stable per chat, opaque like Telegram's.
    return str((abs(chat.id) * 2654435761) % (2**63))


async def press(
    world: World,
    chat: ChatRec,
    user: UserRec,
    text: str,
    *,
    message_id: int | None = None,
    thread_id: int | None = None,
    wait_seconds: float = 10.0,
) -> dict[str, Any]:
    rec, button = find_button(chat, text, message_id=message_id, thread_id=thread_id)
    if "url" in button:
        return {"kind": "url", "url": button["url"], "message_id": rec.message_id}
    if "copy_text" in button:
        return {"kind": "copy_text", "text": button["copy_text"]["text"]}
    if button.get("pay"):
        return await pay(world, chat, user, rec.message_id, succeed=True, wait_seconds=wait_seconds)
    if "callback_data" not in button:
        raise ControlError(400, f"button {text!r} is not emulated: {sorted(button)}")
    return await callback(
        world,
        chat,
        user,
        rec,
        button["callback_data"],
        label=button["text"],
        wait_seconds=wait_seconds,
    )


async def forged_press(
    world: World,
    chat: ChatRec,
    user: UserRec,
    message_id: int,
    data: str,
    *,
    inaccessible: bool = False,
    wait_seconds: float = 10.0,
) -> dict[str, Any]:
    """A callback query with any ``data`` on a bot message, whatever its buttons say: what a
    modified client, or a button kept from an older version of the bot, sends.
    ``inaccessible`` shows the message as Telegram does once it is older than 48 hours."""
    rec = chat.find(message_id)
    if rec is None or not rec.from_bot:
        raise ControlError(404, f"no bot message {message_id} in chat {chat.id}")
    if not 1 <= len(data.encode("utf-8")) <= 64:
        raise ControlError(400, "callback data is 1-64 bytes")
    return await callback(
        world,
        chat,
        user,
        rec,
        data,
        label=None,
        inaccessible=inaccessible,
        wait_seconds=wait_seconds,
    )


async def callback(
    world: World,
    chat: ChatRec,
    user: UserRec,
    rec: MessageRec,
    data: str,
    *,
    label: str | None,
    inaccessible: bool = False,
    wait_seconds: float,
) -> dict[str, Any]:
    """Send the bot a callback_query from ``rec`` and wait for its answer."""
    query_id = _numeric_id()
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    world.callback_queries[query_id] = PendingAnswer(query_id, chat.id, user.id, {}, future)
    message = (
        {"chat": chat.as_chat(), "message_id": rec.message_id, "date": 0}
        if inaccessible
        else world.message_view(rec)
    )
    query = {
        "id": query_id,
        "from": user.as_user(),
        "message": message,
        "chat_instance": _chat_instance(chat),
        "data": data,
    }
    world.events.publish(
        "button_pressed",
        chat.id,
        {"message_id": rec.message_id, "text": label or data, "callback_query_id": query_id},
    )
    world.push_update("callback_query", query)
    result = {
        "kind": "callback",
        # Where the bot's reactions start in the event log (for waiting on them).
        "seq": world.events.last_seq,
        "callback_query_id": query_id,
        "message_id": rec.message_id,
        "data": data,
    }
    try:
        answer = await asyncio.wait_for(asyncio.shield(future), wait_seconds)
    except TimeoutError:
        return {**result, "answered": False, "text": None, "show_alert": False, "url": None}
    return {**result, **answer}


async def pay(
    world: World,
    chat: ChatRec,
    user: UserRec,
    invoice_message_id: int | None,
    *,
    succeed: bool = True,
    wait_seconds: float = 10.0,
) -> dict[str, Any]:
    """Pay an invoice: pre_checkout_query, wait for the bot, then successful_payment if allowed."""
    invoices = [
        rec
        for rec in reversed(chat.visible_messages())
        if rec.from_bot
        and "invoice" in rec.message
        and invoice_message_id in (None, rec.message_id)
    ]
    if not invoices:
        raise ControlError(404, "no invoice to pay")
    rec = invoices[0]
    invoice = rec.message["invoice"]
    payload = rec.extra.get("invoice_payload", "")
    query_id = _numeric_id()
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    world.pre_checkout_queries[query_id] = PendingAnswer(query_id, chat.id, user.id, {}, future)
    world.push_update(
        "pre_checkout_query",
        {
            "id": query_id,
            "from": user.as_user(),
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": payload,
        },
    )
    result: dict[str, Any] = {
        "kind": "payment",
        "seq": world.events.last_seq,
        "pre_checkout_query_id": query_id,
        "invoice_message_id": rec.message_id,
        "answered": False,
        "ok": False,
        "error_message": None,
        "message": None,
    }
    try:
        answer = await asyncio.wait_for(asyncio.shield(future), wait_seconds)
    except TimeoutError:
        world.pre_checkout_queries.pop(query_id, None)
        return result
    result.update(answered=True, ok=answer["ok"], error_message=answer["error_message"])
    if answer["ok"] and succeed:
        payment = {
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": payload,
            "telegram_payment_charge_id": f"stxsandbox{secrets.token_hex(12)}",
            "provider_payment_charge_id": f"sandbox_{secrets.token_hex(8)}",
        }
        result["message"] = user_message(world, chat, user, {"successful_payment": payment})
    return result


# --- membership ----------------------------------------------------------------------------------


def block(world: World, chat: ChatRec) -> None:
    if chat.type != "private":
        raise ControlError(400, "only a private chat can block the bot")
    if chat.blocked:
        return
    chat.blocked = True
    assert chat.user_id is not None
    push_my_chat_member(world, chat, world.users[chat.user_id].as_user(), "member", "kicked")


def unblock(world: World, chat: ChatRec) -> None:
    if chat.type != "private":
        raise ControlError(400, "only a private chat can unblock the bot")
    if not chat.blocked:
        return
    chat.blocked = False
    assert chat.user_id is not None
    push_my_chat_member(world, chat, world.users[chat.user_id].as_user(), "kicked", "member")


def add_member(
    world: World,
    chat: ChatRec,
    user_id: int,
    first_name: str,
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
    status: str = "member",
) -> UserRec:
    if chat.type == "private":
        raise ControlError(400, "private chats have no members to add")
    user = world.users.get(user_id)
    if user is None:
        user, _ = world.add_user(user_id, first_name, last_name, username, language_code)
    old = chat.members[user_id].status if user_id in chat.members else "left"
    chat.members[user_id] = MemberRec(user_id, status)
    world.events.publish(
        "member_changed", chat.id, {"user_id": user_id, "old_status": old, "new_status": status}
    )
    push_chat_member(world, chat, user.as_user(), old, status)
    return user


def add_bot(world: World, chat: ChatRec, by_user: UserRec, *, as_admin: bool = False) -> None:
    """Someone adds the bot to a group: my_chat_member plus a new_chat_members service message."""
    if chat.type == "private":
        raise ControlError(400, "the bot cannot be added to a private chat")
    old = world.bot_member(chat).status
    # A channel takes bots only as administrators, and announces no new members.
    new = "administrator" if as_admin or chat.type == "channel" else "member"
    chat.bot_status = new
    push_my_chat_member(world, chat, by_user.as_user(), old, new)
    if old not in PRESENT and chat.type != "channel":
        user_message(world, chat, by_user, {"new_chat_members": [world.bot_user()]})


def user_create_topic(
    world: World, chat: ChatRec, user: UserRec, name: str, icon_color: int | None
) -> dict[str, Any]:
    if not chat.is_forum:
        raise ControlError(400, "the chat is not a forum")
    color = icon_color or FORUM_ICON_COLORS[0]
    topic, message = create_topic(world, chat, user.as_user(), name, color, None, from_bot=False)
    if bot_sees(world, chat, message):
        world.push_update("message", message)
    return topic.as_json()


def user_delete_topic(world: World, chat: ChatRec, thread_id: int) -> None:
    topic = chat.topics.get(thread_id)
    if topic is None or topic.deleted:
        raise ControlError(404, f"no topic {thread_id}")
    delete_topic(world, chat, topic)
