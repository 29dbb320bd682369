"""Building Message objects, shared by the bot's methods and the users' actions."""

from __future__ import annotations

import copy
from typing import Any

from .entities import format_text, utf16_len
from .errors import bad_request
from .params import Params, Upload
from .state import ChatRec, MessageRec, World

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024


def text_fields(p: Params, name: str = "text") -> dict[str, Any]:
    text = p.get_str(name)
    if not text:
        raise bad_request("message text is empty")
    plain, entities = format_text(text, p.get_str("parse_mode"), p.get_json("entities"))
    if not plain:
        raise bad_request("message text is empty")
    if len(plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    fields: dict[str, Any] = {"text": plain}
    if entities:
        fields["entities"] = entities
    return fields


def caption_fields(p: Params) -> dict[str, Any]:
    caption = p.get_str("caption")
    if not caption:
        return {}
    plain, entities = format_text(caption, p.get_str("parse_mode"), p.get_json("caption_entities"))
    if len(plain) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    fields: dict[str, Any] = {}
    if plain:
        fields["caption"] = plain
    if entities:
        fields["caption_entities"] = entities
    if p.get_bool("show_caption_above_media"):
        fields["show_caption_above_media"] = True
    return fields


def plain_text_fields(text: str) -> dict[str, Any]:
    """Text typed by a user: Telegram detects commands, links and mentions by itself."""
    plain, entities = format_text(text, None, None)
    if not plain:
        raise bad_request("message text is empty")
    fields: dict[str, Any] = {"text": plain}
    if entities:
        fields["entities"] = entities
    return fields


def resolve_input_file(p: Params, name: str) -> Upload | str | None:
    """A file parameter: an uploaded part (``attach://`` or same-named part) or a string id/URL."""
    value = p.values.get(name)
    if value and value.startswith("attach://"):
        upload = p.files.get(value[len("attach://") :])
        if upload is None:
            raise bad_request(f"there is no {name} in the request")
        return upload
    if name in p.files:
        return p.files[name]
    return value or None


def resolve_reply(world: World, chat: ChatRec, p: Params) -> MessageRec | None:
    """The message a send replies to, from reply_parameters or the older reply_to_message_id."""
    reply = p.get_json("reply_parameters", "reply parameters")
    if reply is not None:
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise bad_request("can't parse reply parameters JSON object")
        message_id = reply["message_id"]
        allow_missing = bool(reply.get("allow_sending_without_reply"))
        target_chat = reply.get("chat_id")
        if target_chat not in (None, chat.id) and world.chat(target_chat) is not chat:
            # Replies to other chats (external replies) are not emulated.
            raise bad_request("message to be replied not found")
    elif p.has("reply_to_message_id"):
        message_id = p.get_int("reply_to_message_id") or 0
        allow_missing = p.get_bool("allow_sending_without_reply")
    else:
        return None
    rec = chat.find(message_id)
    if rec is None:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return rec


def new_message(
    world: World,
    chat: ChatRec,
    sender: dict[str, Any],
    *,
    thread_id: int | None,
    reply_to: MessageRec | None,
) -> dict[str, Any]:
    if reply_to is not None and thread_id is None and reply_to.thread_id:
        # A reply lands in the topic of the message it answers.
        thread_id = reply_to.thread_id
    message: dict[str, Any] = {
        "message_id": chat.next_message_id(),
        "from": sender,
        "chat": chat.as_chat(),
        "date": world.now(),
    }
    if thread_id:
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True
        if reply_to is None:
            # Telegram presents a topic message as a reply to the topic's creation message.
            reply_to = chat.find(thread_id)
    if reply_to is not None:
        message["reply_to_message"] = world.message_view(reply_to, nested=True)
    return message


def apply_markup(world: World, chat: ChatRec, message: dict[str, Any], markup: Any) -> None:
    if markup is None:
        return
    kind = markup["kind"]
    if kind == "inline":
        if markup["markup"]["inline_keyboard"]:
            message["reply_markup"] = markup["markup"]
    elif kind == "keyboard":
        chat.reply_keyboard = copy.deepcopy(markup["markup"])
        world.events.publish("keyboard", chat.id, {"keyboard": chat.reply_keyboard})
    elif kind == "remove":
        chat.reply_keyboard = None
        world.events.publish("keyboard", chat.id, {"keyboard": None})


def bot_send(
    world: World,
    chat: ChatRec,
    p: Params,
    content: dict[str, Any],
    markup: Any,
    *,
    thread_id: int | None = None,
) -> dict[str, Any]:
    """Create, store and return a message the bot sends with ``content``."""
    if thread_id is None:
        thread_id = world.resolve_thread(chat, p.get_int("message_thread_id"))
    reply_to = resolve_reply(world, chat, p)
    message = new_message(world, chat, world.bot_user(), thread_id=thread_id, reply_to=reply_to)
    message.update(content)
    if p.get_bool("protect_content"):
        message["has_protected_content"] = True
    apply_markup(world, chat, message, markup)
    world.store_message(chat, message, from_bot=True)
    return copy.deepcopy(message)


def content_of(message: dict[str, Any]) -> dict[str, Any]:
    """The parts of a message that a copy or forward carries over."""
    keys = (
        "text",
        "entities",
        "caption",
        "caption_entities",
        "photo",
        "document",
        "contact",
        "location",
        "sticker",
        "voice",
        "video",
        "audio",
        "animation",
    )
    return {k: copy.deepcopy(message[k]) for k in keys if k in message}


def same_entities(a: list[dict[str, Any]] | None, b: list[dict[str, Any]] | None) -> bool:
    return (a or []) == (b or [])


def text_length_utf16(text: str) -> int:
    return utf16_len(text)
