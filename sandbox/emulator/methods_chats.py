"""Chat information, membership and forum topics."""

from __future__ import annotations

import copy
from typing import Any

from .errors import bad_request, forbidden
from .members import bot_member_object, member_object, push_my_chat_member
from .params import Params
from .registry import Ctx, api_method
from .state import FORUM_ICON_COLORS, ChatRec, TopicRec, World

GROUP_PERMISSIONS = {
    "can_send_messages": True,
    "can_send_audios": True,
    "can_send_documents": True,
    "can_send_photos": True,
    "can_send_videos": True,
    "can_send_video_notes": True,
    "can_send_voice_notes": True,
    "can_send_polls": True,
    "can_send_other_messages": True,
    "can_add_web_page_previews": True,
    "can_change_info": False,
    "can_invite_users": True,
    "can_pin_messages": False,
    "can_manage_topics": False,
}


def _user_id(p: Params) -> int:
    user_id = p.get_int("user_id") or 0
    if user_id <= 0:
        raise bad_request("invalid user_id specified")
    return user_id


@api_method("getChat")
async def get_chat(ctx: Ctx, p: Params) -> dict[str, Any]:
    chat = ctx.world.chat(p.chat_id())
    info: dict[str, Any] = chat.as_chat()
    info["accent_color_id"] = 0
    info["max_reaction_count"] = 11
    info["accepted_gift_types"] = {
        "unlimited_gifts": chat.type == "private",
        "limited_gifts": chat.type == "private",
        "unique_gifts": chat.type == "private",
        "premium_subscription": chat.type == "private",
        "gifts_from_channels": chat.type == "private",
    }
    if chat.type != "private":
        info["permissions"] = dict(GROUP_PERMISSIONS)
    return info


@api_method("getChatMember")
async def get_chat_member(ctx: Ctx, p: Params) -> dict[str, Any]:
    world = ctx.world
    chat = world.chat(p.chat_id())
    user_id = _user_id(p)
    if user_id == world.bot.id:
        return bot_member_object(world, chat)
    user = world.user(user_id)
    if chat.type == "private":
        if user_id != chat.user_id:
            raise bad_request("user not found")
        return member_object(user.as_user(), "member")
    member = chat.members.get(user_id)
    status = member.status if member else "left"
    return member_object(user.as_user(), status, member.until_date if member else 0)


@api_method("getChatAdministrators")
async def get_chat_administrators(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    world = ctx.world
    chat = world.chat(p.chat_id())
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    admins: list[dict[str, Any]] = []
    for member in chat.members.values():
        if member.status in ("creator", "administrator"):
            admins.append(member_object(world.users[member.user_id].as_user(), member.status))
    if world.bot_member(chat).status in ("creator", "administrator"):
        admins.append(bot_member_object(world, chat))
    return admins


@api_method("getChatMemberCount")
async def get_chat_member_count(ctx: Ctx, p: Params) -> int:
    world = ctx.world
    chat = world.chat(p.chat_id())
    if chat.type == "private":
        return 2
    present = ("creator", "administrator", "member", "restricted")
    count = sum(1 for m in chat.members.values() if m.status in present)
    return count + (1 if world.bot_member(chat).status in present else 0)


@api_method("leaveChat")
async def leave_chat(ctx: Ctx, p: Params) -> bool:
    world = ctx.world
    chat = world.chat(p.chat_id())
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    old = world.bot_member(chat).status
    if old in ("left", "kicked"):
        kind = "group chat" if chat.type == "group" else "supergroup chat"
        raise forbidden(f"bot is not a member of the {kind}")
    chat.bot_status = "left"
    push_my_chat_member(world, chat, world.bot_user(), old, "left")
    return True


# --- forum topics ------------------------------------------------------------------------------


def _forum(world: World, p: Params) -> ChatRec:
    chat = world.writable_chat(p.chat_id())
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if world.bot_member(chat).status not in ("administrator", "creator"):
        raise bad_request("not enough rights to manage topics")
    return chat


def _topic(world: World, chat: ChatRec, p: Params) -> TopicRec:
    thread_id = p.get_int("message_thread_id") or 0
    if thread_id <= 0:
        raise bad_request('parameter "message_thread_id" is required')
    return world.topic(chat, thread_id)


def topic_service_message(
    world: World,
    chat: ChatRec,
    sender: dict[str, Any],
    thread_id: int | None,
    field: str,
    value: dict[str, Any],
    *,
    message_id: int | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id or chat.next_message_id(),
        "from": sender,
        "chat": chat.as_chat(),
        "date": world.now(),
        field: value,
    }
    if thread_id:
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True
        if field != "forum_topic_created":
            creation = chat.find(thread_id)
            if creation is not None:
                message["reply_to_message"] = world.message_view(creation, nested=True)
    return message


def create_topic(
    world: World,
    chat: ChatRec,
    sender: dict[str, Any],
    name: str,
    icon_color: int,
    icon_custom_emoji_id: str | None,
    *,
    from_bot: bool,
) -> tuple[TopicRec, dict[str, Any]]:
    """Create a topic; its id is the id of its forum_topic_created service message."""
    thread_id = chat.next_message_id()
    topic = TopicRec(thread_id, name, icon_color, icon_custom_emoji_id)
    chat.topics[thread_id] = topic
    created: dict[str, Any] = {"name": name, "icon_color": icon_color}
    if icon_custom_emoji_id:
        created["icon_custom_emoji_id"] = icon_custom_emoji_id
    message = topic_service_message(
        world, chat, sender, thread_id, "forum_topic_created", created, message_id=thread_id
    )
    world.store_message(chat, message, from_bot=from_bot)
    world.events.publish("topic_created", chat.id, {"topic": topic.as_json()})
    return topic, message


def delete_topic(world: World, chat: ChatRec, topic: TopicRec) -> None:
    topic.deleted = True
    for rec in chat.messages.values():
        if rec.thread_id == topic.thread_id or rec.message_id == topic.thread_id:
            rec.deleted = True
    world.events.publish("topic_deleted", chat.id, {"topic": topic.as_json()})


@api_method("createForumTopic")
async def create_forum_topic(ctx: Ctx, p: Params) -> dict[str, Any]:
    world = ctx.world
    chat = _forum(world, p)
    name = p.required("name")
    if len(name) > 128:
        raise bad_request("TOPIC_TITLE_INVALID")
    icon_color = p.get_int("icon_color", FORUM_ICON_COLORS[0]) or FORUM_ICON_COLORS[0]
    if icon_color not in FORUM_ICON_COLORS:
        raise bad_request("invalid icon_color specified")
    topic, _ = create_topic(
        world,
        chat,
        world.bot_user(),
        name,
        icon_color,
        p.get_str("icon_custom_emoji_id"),
        from_bot=True,
    )
    return topic.as_forum_topic()


def _service(world: World, chat: ChatRec, topic: TopicRec, field: str, value: dict) -> None:
    message = topic_service_message(world, chat, world.bot_user(), topic.thread_id, field, value)
    world.store_message(chat, message, from_bot=True)


@api_method("editForumTopic")
async def edit_forum_topic(ctx: Ctx, p: Params) -> bool:
    world = ctx.world
    chat = _forum(world, p)
    topic = _topic(world, chat, p)
    name = p.get_str("name")
    emoji = p.values.get("icon_custom_emoji_id")
    changes: dict[str, Any] = {}
    if name is not None and name != topic.name:
        if len(name) > 128:
            raise bad_request("TOPIC_TITLE_INVALID")
        changes["name"] = name
    if emoji is not None and (emoji or None) != topic.icon_custom_emoji_id:
        changes["icon_custom_emoji_id"] = emoji
    if not changes:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name = changes.get("name", topic.name)
    if "icon_custom_emoji_id" in changes:
        topic.icon_custom_emoji_id = changes["icon_custom_emoji_id"] or None
    _service(world, chat, topic, "forum_topic_edited", copy.deepcopy(changes))
    world.events.publish("topic_edited", chat.id, {"topic": topic.as_json()})
    return True


@api_method("closeForumTopic")
async def close_forum_topic(ctx: Ctx, p: Params) -> bool:
    world = ctx.world
    chat = _forum(world, p)
    topic = _topic(world, chat, p)
    if topic.closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = True
    _service(world, chat, topic, "forum_topic_closed", {})
    world.events.publish("topic_closed", chat.id, {"topic": topic.as_json()})
    return True


@api_method("reopenForumTopic")
async def reopen_forum_topic(ctx: Ctx, p: Params) -> bool:
    world = ctx.world
    chat = _forum(world, p)
    topic = _topic(world, chat, p)
    if not topic.closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = False
    _service(world, chat, topic, "forum_topic_reopened", {})
    world.events.publish("topic_reopened", chat.id, {"topic": topic.as_json()})
    return True


@api_method("deleteForumTopic")
async def delete_forum_topic(ctx: Ctx, p: Params) -> bool:
    world = ctx.world
    chat = _forum(world, p)
    delete_topic(world, chat, _topic(world, chat, p))
    return True
