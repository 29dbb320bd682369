"""ChatMember objects, and my_chat_member and chat_member updates."""

from __future__ import annotations

from typing import Any

from .state import ChatRec, World, now

ADMIN_RIGHTS: dict[str, bool] = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    # Bot API 10.3 field: newer than the stored schema, required by aiogram 3.31.
    "can_send_welcome_messages": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}


def member_object(user: dict[str, Any], status: str, until_date: int = 0) -> dict[str, Any]:
    """A ChatMember of the subtype ``status`` selects, with that subtype's required fields."""
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        return {"status": "administrator", "user": user, **ADMIN_RIGHTS}
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": until_date}
    if status == "left":
        return {"status": "left", "user": user}
    return {"status": "member", "user": user}


def bot_member_object(world: World, chat: ChatRec) -> dict[str, Any]:
    return member_object(world.bot_user(), world.bot_member(chat).status)


def push_my_chat_member(
    world: World,
    chat: ChatRec,
    actor: dict[str, Any],
    old_status: str,
    new_status: str,
) -> None:
    """Tell the bot its own membership changed (blocked, unblocked, added, removed, left)."""
    bot = world.bot_user()
    payload = {
        "chat": chat.as_chat(),
        "from": actor,
        "date": now(),
        "old_chat_member": member_object(bot, old_status),
        "new_chat_member": member_object(bot, new_status),
    }
    world.push_update("my_chat_member", payload)
    world.events.publish(
        "member_changed",
        chat.id,
        {"user_id": world.bot.id, "old_status": old_status, "new_status": new_status},
    )


def push_chat_member(
    world: World, chat: ChatRec, user: dict[str, Any], old_status: str, new_status: str
) -> None:
    """Tell the bot another member's status changed. Telegram sends these only to a bot that
    administers the chat, and only when it asked for them in allowed_updates."""
    if world.bot_member(chat).status not in ("administrator", "creator"):
        return
    world.push_update(
        "chat_member",
        {
            "chat": chat.as_chat(),
            "from": user,
            "date": now(),
            "old_chat_member": member_object(user, old_status),
            "new_chat_member": member_object(user, new_status),
        },
    )
