"""Sending, editing and deleting messages; files; callback answers; chat actions."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from .entities import format_text
from .errors import MESSAGE_NOT_MODIFIED, QUERY_TOO_OLD, bad_request
from .files import MAX_DOWNLOAD_BYTES, document_object
from .markup import parse_reply_markup
from .messaging import (
    MAX_CAPTION_LENGTH,
    bot_send,
    caption_fields,
    content_of,
    resolve_input_file,
    text_fields,
)
from .params import Params, Upload
from .registry import Ctx, api_method
from .state import ChatRec, MessageRec, World, now

CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
MEDIA_KEYS = ("photo", "document", "video", "audio", "animation", "voice")
_KIND_NAMES = {
    "photo": "Photo",
    "document": "Document",
    "voice": "VoiceNote",
    "sticker": "Sticker",
    "video": "Video",
    "audio": "Audio",
}


def _stored_of_kind(world: World, file_id: str, kind: str) -> Any:
    if file_id.lower().startswith(("http://", "https://")):
        # The emulator is offline: it cannot download what a URL points to.
        raise bad_request("failed to get HTTP URL content")
    stored = world.files.require(file_id.strip())
    if stored.kind != kind:
        raise bad_request(
            f"can't use file of type {_KIND_NAMES.get(stored.kind, stored.kind)} "
            f"as {_KIND_NAMES[kind]}"
        )
    return stored


def photo_sizes(world: World, source: Upload | str) -> list[dict[str, Any]]:
    if isinstance(source, Upload):
        return world.files.add_photo(source.data)
    stored = _stored_of_kind(world, source, "photo")
    return copy.deepcopy(world.files.photo_sets[stored.file_id])


def document(world: World, source: Upload | str) -> dict[str, Any]:
    if isinstance(source, Upload):
        return world.files.add_document(source.data, source.filename, source.content_type)
    return document_object(_stored_of_kind(world, source, "document"))


@api_method("sendMessage")
async def send_message(ctx: Ctx, p: Params) -> dict[str, Any]:
    # Like Telegram: the request's own fields are checked before the chat is looked up.
    content = text_fields(p)
    markup = parse_reply_markup(p)
    chat = ctx.world.writable_chat(p.chat_id())
    return bot_send(ctx.world, chat, p, content, markup)


@api_method("sendPhoto")
async def send_photo(ctx: Ctx, p: Params) -> dict[str, Any]:
    source = resolve_input_file(p, "photo")
    if source is None:
        raise bad_request("there is no photo in the request")
    caption = caption_fields(p)
    markup = parse_reply_markup(p)
    chat = ctx.world.writable_chat(p.chat_id())
    content: dict[str, Any] = {"photo": photo_sizes(ctx.world, source), **caption}
    if p.get_bool("has_spoiler"):
        content["has_media_spoiler"] = True
    return bot_send(ctx.world, chat, p, content, markup)


@api_method("sendDocument")
async def send_document(ctx: Ctx, p: Params) -> dict[str, Any]:
    source = resolve_input_file(p, "document")
    if source is None:
        raise bad_request("there is no document in the request")
    caption = caption_fields(p)
    markup = parse_reply_markup(p)
    chat = ctx.world.writable_chat(p.chat_id())
    content = {"document": document(ctx.world, source), **caption}
    return bot_send(ctx.world, chat, p, content, markup)


@api_method("sendMediaGroup")
async def send_media_group(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    world = ctx.world
    chat = world.writable_chat(p.chat_id())
    media = p.get_json("media", "media")
    if not isinstance(media, list):
        raise bad_request('parameter "media" is required')
    if not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media items: an album must have 2-10 items")
    if not all(isinstance(item, dict) for item in media):
        raise bad_request("can't parse InputMedia JSON object")
    kinds = {item.get("type") for item in media}
    # Documents cannot share an album with photos; videos and audio are not emulated.
    if len(kinds) != 1 or not kinds <= {"photo", "document"}:
        raise bad_request("can't use the media of the specified type in the album")
    contents: list[dict[str, Any]] = []
    for item in media:
        raw = item.get("media")
        source: Upload | str
        if isinstance(raw, str) and raw.startswith("attach://"):
            upload = p.files.get(raw[len("attach://") :])
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            source = upload
        elif isinstance(raw, str) and raw:
            source = raw
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        content: dict[str, Any] = {}
        if item["type"] == "photo":
            content["photo"] = photo_sizes(world, source)
        else:
            content["document"] = document(world, source)
        caption = item.get("caption")
        if isinstance(caption, str) and caption:
            plain, entities = format_text(
                caption, item.get("parse_mode"), item.get("caption_entities")
            )
            if len(plain) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
            if plain:
                content["caption"] = plain
            if entities:
                content["caption_entities"] = entities
        contents.append(content)
    group_id = str(secrets.randbelow(9 * 10**17) + 10**17)
    thread_id = world.resolve_thread(chat, p.get_int("message_thread_id"))
    messages: list[dict[str, Any]] = []
    for content in contents:
        content["media_group_id"] = group_id
        messages.append(bot_send(world, chat, p, content, None, thread_id=thread_id))
    return messages


def _source_message(world: World, p: Params, what: str) -> MessageRec:
    from_chat = world.chat(p.chat_id("from_chat_id"))
    message_id = p.get_int("message_id")
    if not message_id:
        raise bad_request("message identifier is not specified")
    rec = from_chat.find(message_id)
    if rec is None:
        raise bad_request(f"message to {what} not found")
    return rec


@api_method("copyMessage")
async def copy_message(ctx: Ctx, p: Params) -> dict[str, Any]:
    world = ctx.world
    chat = world.writable_chat(p.chat_id())
    source = _source_message(world, p, "copy")
    content = content_of(source.message)
    if not content:
        raise bad_request("message can't be copied")
    if p.has("caption") and any(k in content for k in MEDIA_KEYS):
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(caption_fields(p))
    markup = parse_reply_markup(p)
    if markup is None and "reply_markup" in source.message:
        # A copy keeps the original inline keyboard unless a new markup is given.
        markup = {"kind": "inline", "markup": copy.deepcopy(source.message["reply_markup"])}
    message = bot_send(world, chat, p, content, markup)
    return {"message_id": message["message_id"]}


@api_method("forwardMessage")
async def forward_message(ctx: Ctx, p: Params) -> dict[str, Any]:
    world = ctx.world
    chat = world.writable_chat(p.chat_id())
    source = _source_message(world, p, "forward")
    content = content_of(source.message)
    if not content:
        raise bad_request("message can't be forwarded")
    origin_sender = source.message.get("from") or world.bot_user()
    content["forward_origin"] = {
        "type": "user",
        "date": source.message["date"],
        "sender_user": origin_sender,
    }
    thread_id = world.resolve_thread(chat, p.get_int("message_thread_id"))
    # Forwards are never replies, whatever the source was.
    forward_params = Params({k: v for k, v in p.values.items() if "reply" not in k}, p.files)
    return bot_send(world, chat, forward_params, content, None, thread_id=thread_id)


# --- editing -----------------------------------------------------------------------------------


def _editable(world: World, p: Params) -> tuple[ChatRec, MessageRec]:
    if not p.has("chat_id") and not p.has("message_id"):
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        raise bad_request("message identifier is not specified")
    chat = world.writable_chat(p.chat_id())
    message_id = p.get_int("message_id")
    if not message_id:
        raise bad_request("message identifier is not specified")
    rec = chat.find(message_id)
    if rec is None:
        raise bad_request("message to edit not found")
    if not rec.from_bot:
        raise bad_request("message can't be edited")
    return chat, rec


def _finish_edit(world: World, chat: ChatRec, rec: MessageRec) -> dict[str, Any]:
    rec.message["edit_date"] = now()
    message = copy.deepcopy(rec.message)
    world.events.publish("message_edited", chat.id, {"message": message, "from_bot": True})
    return copy.deepcopy(message)


def _set_or_drop(message: dict[str, Any], key: str, value: Any) -> None:
    if value:
        message[key] = value
    else:
        message.pop(key, None)


@api_method("editMessageText")
async def edit_message_text(ctx: Ctx, p: Params) -> dict[str, Any]:
    content = text_fields(p)
    chat, rec = _editable(ctx.world, p)
    markup = parse_reply_markup(p, inline_only=True)
    new_markup = markup["markup"] if markup and markup["markup"]["inline_keyboard"] else None
    message = rec.message
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    if (
        message["text"] == content["text"]
        and message.get("entities", []) == content.get("entities", [])
        and message.get("reply_markup") == new_markup
    ):
        raise bad_request(MESSAGE_NOT_MODIFIED)
    message["text"] = content["text"]
    _set_or_drop(message, "entities", content.get("entities"))
    # Telegram drops the inline keyboard when an edit does not repeat it.
    _set_or_drop(message, "reply_markup", new_markup)
    return _finish_edit(ctx.world, chat, rec)


@api_method("editMessageCaption")
async def edit_message_caption(ctx: Ctx, p: Params) -> dict[str, Any]:
    chat, rec = _editable(ctx.world, p)
    message = rec.message
    if not any(k in message for k in MEDIA_KEYS):
        raise bad_request("there is no caption in the message to edit")
    fields = caption_fields(p)
    markup = parse_reply_markup(p, inline_only=True)
    new_markup = markup["markup"] if markup and markup["markup"]["inline_keyboard"] else None
    if (
        message.get("caption") == fields.get("caption")
        and message.get("caption_entities", []) == fields.get("caption_entities", [])
        and message.get("reply_markup") == new_markup
    ):
        raise bad_request(MESSAGE_NOT_MODIFIED)
    _set_or_drop(message, "caption", fields.get("caption"))
    _set_or_drop(message, "caption_entities", fields.get("caption_entities"))
    _set_or_drop(message, "reply_markup", new_markup)
    return _finish_edit(ctx.world, chat, rec)


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: Ctx, p: Params) -> dict[str, Any]:
    chat, rec = _editable(ctx.world, p)
    markup = parse_reply_markup(p, inline_only=True)
    new_markup = markup["markup"] if markup and markup["markup"]["inline_keyboard"] else None
    if rec.message.get("reply_markup") == new_markup:
        raise bad_request(MESSAGE_NOT_MODIFIED)
    _set_or_drop(rec.message, "reply_markup", new_markup)
    return _finish_edit(ctx.world, chat, rec)


# --- deleting ----------------------------------------------------------------------------------


def _can_delete(world: World, chat: ChatRec, rec: MessageRec) -> bool:
    if rec.from_bot or chat.type == "private":
        return True
    return world.bot_member(chat).status in ("administrator", "creator")


def delete_record(world: World, chat: ChatRec, rec: MessageRec) -> None:
    rec.deleted = True
    world.events.publish("message_deleted", chat.id, {"message_id": rec.message_id})


@api_method("deleteMessage")
async def delete_message(ctx: Ctx, p: Params) -> bool:
    world = ctx.world
    chat = world.chat(p.chat_id())
    message_id = p.get_int("message_id")
    if not message_id:
        raise bad_request("message identifier is not specified")
    rec = chat.find(message_id)
    if rec is None:
        raise bad_request("message to delete not found")
    if not _can_delete(world, chat, rec):
        raise bad_request("message can't be deleted")
    delete_record(world, chat, rec)
    return True


@api_method("deleteMessages")
async def delete_messages(ctx: Ctx, p: Params) -> bool:
    world = ctx.world
    chat = world.chat(p.chat_id())
    ids = p.get_json("message_ids", "message_ids")
    if not isinstance(ids, list) or not ids:
        raise bad_request("message identifiers are not specified")
    if len(ids) > 100:
        raise bad_request("too many message identifiers specified")
    for message_id in ids:
        rec = chat.find(int(message_id))
        if rec is not None and _can_delete(world, chat, rec):
            delete_record(world, chat, rec)
    return True


# --- callbacks, chat actions, files ---------------------------------------------------------------


@api_method("answerCallbackQuery")
async def answer_callback_query(ctx: Ctx, p: Params) -> bool:
    world = ctx.world
    query_id = (p.get_str("callback_query_id") or "").strip()
    pending = world.callback_queries.pop(query_id, None)
    if pending is None or pending.future.done():
        raise bad_request(QUERY_TOO_OLD)
    text = p.get_str("text") or ""
    if len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    answer = {
        "callback_query_id": query_id,
        "answered": True,
        "text": text or None,
        "show_alert": p.get_bool("show_alert"),
        "url": p.get_str("url"),
        "cache_time": p.get_int("cache_time", 0),
    }
    pending.future.set_result(answer)
    world.events.publish("callback_answer", pending.chat_id, answer)
    return True


@api_method("sendChatAction")
async def send_chat_action(ctx: Ctx, p: Params) -> bool:
    world = ctx.world
    chat = world.writable_chat(p.chat_id())
    thread_id = world.resolve_thread(chat, p.get_int("message_thread_id"))
    action = p.get_str("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    entry = {"action": action, "thread_id": thread_id, "date": now()}
    chat.chat_actions.append(entry)
    world.events.publish("chat_action", chat.id, entry)
    return True


@api_method("getFile")
async def get_file(ctx: Ctx, p: Params) -> dict[str, Any]:
    file_id = (p.get_str("file_id") or "").strip()
    stored = ctx.world.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file_id or the file is temporarily unavailable")
    if stored.size > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return stored.as_file()
