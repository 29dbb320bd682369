"""The emulated world: the bot, users, chats, messages, topics and the bot's update queue."""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import CHAT_NOT_FOUND, bad_request, forbidden
from .events import EventLog
from .files import FileStore

log = logging.getLogger("sandbox.emulator")

TOKEN_RE = re.compile(r"(\d+):([A-Za-z0-9_-]+)")
DEFAULT_BOT_USERNAME = "oms_restore_bot"
DEFAULT_BOT_NAME = "OMS Restore"
# Update kinds Telegram leaves out when allowed_updates was never given.
NOT_DEFAULT_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
FORUM_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
GENERAL_TOPIC_ID = 1


def now() -> int:
    return int(time.time())


def new_numeric_id() -> str:
    # Callback and pre-checkout query ids are decimal int64 values on Telegram.
    return str(secrets.randbelow(9 * 10**18) + 10**18)


@dataclass
class UserRec:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    is_premium: bool = False

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code and not self.is_bot:
            user["language_code"] = self.language_code
        if self.is_premium:
            user["is_premium"] = True
        return user


@dataclass
class TopicRec:
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def as_forum_topic(self) -> dict[str, Any]:
        topic: dict[str, Any] = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic

    def as_json(self) -> dict[str, Any]:
        return {**self.as_forum_topic(), "is_closed": self.closed, "is_deleted": self.deleted}


@dataclass
class MessageRec:
    message: dict[str, Any]
    from_bot: bool
    deleted: bool = False
    # Facts the Message object does not show (an invoice's payload, ...).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def thread_id(self) -> int | None:
        if not self.message.get("is_topic_message"):
            return None
        return int(self.message["message_thread_id"])


@dataclass
class MemberRec:
    user_id: int
    status: str  # creator, administrator, member, restricted, left, kicked
    until_date: int = 0


@dataclass
class ChatRec:
    id: int
    type: str  # private, group, supergroup
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    user_id: int | None = None  # the other side of a private chat
    members: dict[int, MemberRec] = field(default_factory=dict)
    messages: dict[int, MessageRec] = field(default_factory=dict)
    topics: dict[int, TopicRec] = field(default_factory=dict)
    # The bot's own status is kept apart so it survives a change of bot token.
    bot_status: str = "member"
    reply_keyboard: dict[str, Any] | None = None
    blocked: bool = False  # private chats: the user blocked the bot
    started: bool = False  # private chats: the user has written to the bot at least once
    last_message_id: int = 0
    chat_actions: list[dict[str, Any]] = field(default_factory=list)

    def as_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            chat.update(self._private_names())
        else:
            chat["title"] = self.title or ""
        if self.username:
            chat["username"] = self.username
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def _private_names(self) -> dict[str, Any]:
        return {}

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def visible_messages(self) -> list[MessageRec]:
        return [m for m in self.messages.values() if not m.deleted]

    def find(self, message_id: int) -> MessageRec | None:
        rec = self.messages.get(message_id)
        if rec is None or rec.deleted:
            return None
        return rec


@dataclass
class PendingAnswer:
    """A callback or pre-checkout query waiting for the bot's answer."""

    query_id: str
    chat_id: int
    user_id: int
    payload: dict[str, Any]
    future: asyncio.Future[dict[str, Any]]
    created: float = field(default_factory=time.monotonic)


class World:
    """All mutable emulator state; methods raise ApiError the way Telegram would."""

    def __init__(
        self,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_name: str = DEFAULT_BOT_NAME,
        privacy_mode: bool = True,
    ) -> None:
        self.bot = UserRec(id=0, first_name=bot_name, username=bot_username, is_bot=True)
        # Telegram's default: a bot that is not an admin sees only commands and replies in groups.
        self.privacy_mode = privacy_mode
        self.users: dict[int, UserRec] = {}
        self.chats: dict[int, ChatRec] = {}
        self.files = FileStore()
        self.events = EventLog()
        self.updates: list[dict[str, Any]] = []
        self.last_update_id = secrets.randbelow(10**6) + 10**8
        self.allowed_updates: list[str] | None = None
        self.updates_changed = asyncio.Event()
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_queries: dict[str, PendingAnswer] = {}
        self.pre_checkout_queries: dict[str, PendingAnswer] = {}
        self.update_validator: Callable[[dict[str, Any]], None] | None = None
        self.polling_generation = 0
        # The sandbox clock: how far the bot's time (SANDBOX_CLOCK) runs ahead of real time.
        # It only moves forward ("+1 hour", "+1 day"); message dates follow it.
        self.clock_offset = 0.0

    def now(self) -> int:
        """Telegram's unix time for new messages: real time plus the sandbox clock's offset."""
        return int(time.time() + self.clock_offset)

    def advance_clock(self, seconds: float) -> float:
        if seconds <= 0:
            raise ValueError("the sandbox clock only moves forward")
        self.clock_offset += seconds
        self.events.publish("clock", None, {"offset_seconds": self.clock_offset})
        return self.clock_offset

    # --- identity ----------------------------------------------------------------------------

    def adopt_token(self, token: str) -> bool:
        match = TOKEN_RE.fullmatch(token)
        if match is None:
            return False
        bot_id = int(match.group(1))
        if bot_id != self.bot.id:
            self.bot.id = bot_id
        return True

    def bot_user(self) -> dict[str, Any]:
        return self.bot.as_user()

    # --- users and chats ---------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_premium: bool = False,
    ) -> tuple[UserRec, ChatRec]:
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = UserRec(user_id, first_name, last_name, username, language_code, False, is_premium)
        self.users[user_id] = user
        chat = self.chats.get(user_id)
        if chat is None:
            chat = PrivateChat(id=user_id, type="private", user_id=user_id, world=self)
            chat.members = {user_id: MemberRec(user_id, "member")}
            self.chats[user_id] = chat
        return user, chat

    def user(self, user_id: int) -> UserRec:
        found = self.users.get(user_id)
        if found is None:
            raise bad_request("user not found")
        return found

    def add_group(
        self,
        chat_id: int,
        title: str,
        *,
        type_: str = "supergroup",
        is_forum: bool = False,
        username: str | None = None,
        bot_status: str | None = "administrator",
    ) -> ChatRec:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = ChatRec(id=chat_id, type=type_, title=title, username=username, is_forum=is_forum)
        # Message 1 of a group is its creation; in a forum it also anchors the General topic.
        chat.last_message_id = GENERAL_TOPIC_ID
        chat.bot_status = bot_status or "left"
        self.chats[chat_id] = chat
        return chat

    def chat(self, chat_id: int | str) -> ChatRec:
        if isinstance(chat_id, str):
            name = chat_id.lstrip("@").lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == name:
                    return chat
            raise bad_request(CHAT_NOT_FOUND)
        found = self.chats.get(chat_id)
        if found is None:
            raise bad_request(CHAT_NOT_FOUND)
        return found

    def bot_member(self, chat: ChatRec) -> MemberRec:
        return MemberRec(self.bot.id, chat.bot_status)

    def writable_chat(self, chat_id: int | str) -> ChatRec:
        """The chat the bot sends to, after the checks Telegram makes for a bot."""
        chat = self.chat(chat_id)
        if chat.type == "private":
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
            return chat
        status = self.bot_member(chat).status
        kind = "group chat" if chat.type == "group" else "supergroup chat"
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {kind}")
        if status == "left":
            raise forbidden(f"bot is not a member of the {kind}")
        return chat

    # --- messages ----------------------------------------------------------------------------

    def store_message(self, chat: ChatRec, message: dict[str, Any], from_bot: bool) -> MessageRec:
        rec = MessageRec(message, from_bot)
        chat.messages[int(message["message_id"])] = rec
        self.events.publish(
            "message_new", chat.id, {"message": copy.deepcopy(message), "from_bot": from_bot}
        )
        return rec

    def message_view(self, rec: MessageRec, *, nested: bool = False) -> dict[str, Any]:
        message = copy.deepcopy(rec.message)
        if nested:
            # A replied-to message never carries its own reply_to_message.
            message.pop("reply_to_message", None)
        return message

    # --- updates -----------------------------------------------------------------------------

    def update_allowed(self, kind: str) -> bool:
        if self.allowed_updates is None or not self.allowed_updates:
            return kind not in NOT_DEFAULT_UPDATES
        return kind in self.allowed_updates

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update for the bot; dropped, as on Telegram, if allowed_updates excludes it."""
        if not self.update_allowed(kind):
            log.debug("update %s dropped by allowed_updates", kind)
            return None
        self.last_update_id += 1
        update = {"update_id": self.last_update_id, kind: copy.deepcopy(payload)}
        if self.update_validator is not None:
            self.update_validator(update)
        self.updates.append(update)
        self.wake_pollers()
        return update

    def wake_pollers(self) -> None:
        # Waking every waiting getUpdates and arming a fresh Event avoids any busy loop.
        self.updates_changed.set()
        self.updates_changed = asyncio.Event()

    def confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    # --- forum topics ------------------------------------------------------------------------

    def topic(self, chat: ChatRec, thread_id: int) -> TopicRec:
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        return topic

    def resolve_thread(self, chat: ChatRec, thread_id: int | None) -> int | None:
        """Validate message_thread_id for a send; None means the chat's main (General) thread."""
        if not thread_id or thread_id <= 0:
            return None
        if not chat.is_forum:
            raise bad_request("message thread not found")
        if thread_id == GENERAL_TOPIC_ID:
            return None
        self.topic(chat, thread_id)
        return thread_id


@dataclass
class PrivateChat(ChatRec):
    world: World | None = None

    def _private_names(self) -> dict[str, Any]:
        assert self.world is not None and self.user_id is not None
        user = self.world.users[self.user_id]
        names: dict[str, Any] = {"first_name": user.first_name}
        if user.last_name:
            names["last_name"] = user.last_name
        if user.username:
            names["username"] = user.username
        return names

    def as_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", **self._private_names()}
        return chat
