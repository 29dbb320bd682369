"""Async client of the sandbox control API: act as people in chats with the bot, and observe.

It talks HTTP to an emulator (in-process or separately started) exactly as a browser page does::

    async with SandboxClient(emu.base_url) as client:
        user = await client.user(user_id=1001, first_name="Ivan")
        await user.send_command("/start")
        hello = await user.wait_text("Hello")

Waiting (``wait_for``, ``wait_text``) looks at bot messages created or edited after the
handle's last action (send, press, pay, ...), so a reply that arrives before the wait starts is
not missed and a stale message from an earlier step is not mistaken for the new one.
``messages()`` returns the current state of a chat: edits applied, deleted messages left out.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp

Predicate = Callable[[dict[str, Any]], bool]
DEFAULT_TIMEOUT = 10.0


class SandboxError(Exception):
    """The control API refused a request (unknown chat, no such button, Bot API error, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class SandboxTimeoutError(SandboxError, TimeoutError):
    """Nothing matching arrived in time."""

    def __init__(self, message: str) -> None:
        super().__init__(408, message)


def message_text(message: dict[str, Any]) -> str:
    """Text or caption of a message ("" when it has neither)."""
    return str(message.get("text") or message.get("caption") or "")


def _thread_of(message: dict[str, Any]) -> int:
    # Messages outside any topic belong to the General topic, whose thread id is 1.
    if message.get("is_topic_message"):
        return int(message["message_thread_id"])
    return 1


def _photo(data: bytes, caption: str | None, **extra: object) -> dict[str, Any]:
    return {"kind": "photo", "data_b64": _b64(data), "caption": caption, **extra}


def _document(
    data: bytes, file_name: str, mime_type: str | None, caption: str | None, **extra: object
) -> dict[str, Any]:
    return {
        "kind": "document",
        "data_b64": _b64(data),
        "file_name": file_name,
        "mime_type": mime_type,
        "caption": caption,
        **extra,
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class SandboxClient:
    """Entry point: creates people and chats, inspects the bot's calls, injects faults."""

    def __init__(self, base_url: str, *, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> SandboxClient:
        self._http()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Call a control route (``path`` relative to ``/sandbox/api``) and decode its JSON."""
        url = f"{self.base_url}/sandbox/api{path}"
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        async with self._http().request(method, url, json=json, params=query) as response:
            body = await response.json(content_type=None)
            if response.status >= 400:
                message = body.get("error") if isinstance(body, dict) else str(body)
                raise SandboxError(response.status, str(message))
            return body

    async def _bytes(self, path: str) -> bytes:
        url = f"{self.base_url}/sandbox/api{path}"
        async with self._http().get(url) as response:
            if response.status >= 400:
                raise SandboxError(response.status, await response.text())
            return await response.read()

    # --- people and chats -------------------------------------------------------------------

    async def user(
        self,
        user_id: int = 1001,
        first_name: str = "Ivan",
        last_name: str | None = None,
        language_code: str | None = "ru",
        *,
        username: str | None = None,
        is_premium: bool = False,
    ) -> UserHandle:
        """A person with a private chat with the bot (chat id == user id)."""
        await self.request(
            "POST",
            "/users",
            json={
                "user_id": user_id,
                "first_name": first_name,
                "last_name": last_name,
                "language_code": language_code,
                "username": username,
                "is_premium": is_premium,
            },
        )
        return UserHandle(self, user_id)

    async def forum_group(
        self,
        chat_id: int = -1001234567890,
        title: str = "Support",
        *,
        username: str | None = None,
        bot_status: str = "administrator",
    ) -> GroupHandle:
        """A forum supergroup (topics on) where the bot is an administrator."""
        return await self._group(chat_id, title, "supergroup", True, username, bot_status)

    async def supergroup(
        self,
        chat_id: int = -1009876543210,
        title: str = "Supergroup",
        *,
        username: str | None = None,
        bot_status: str | None = "administrator",
    ) -> GroupHandle:
        return await self._group(chat_id, title, "supergroup", False, username, bot_status)

    async def channel(
        self,
        chat_id: int = -1005551234567,
        title: str = "Channel",
        *,
        username: str | None = None,
        bot_status: str | None = None,
    ) -> GroupHandle:
        """A channel; by default the bot is not in it (see ``GroupHandle.add_bot``)."""
        return await self._group(chat_id, title, "channel", False, username, bot_status)

    async def plain_group(
        self,
        chat_id: int = -4001234567,
        title: str = "Group",
        *,
        bot_status: str | None = None,
    ) -> GroupHandle:
        """A basic group; by default the bot is not in it (see ``GroupHandle.add_bot``)."""
        return await self._group(chat_id, title, "group", False, None, bot_status)

    async def _group(
        self,
        chat_id: int,
        title: str,
        kind: str,
        is_forum: bool,
        username: str | None,
        bot_status: str | None,
    ) -> GroupHandle:
        await self.request(
            "POST",
            "/groups",
            json={
                "chat_id": chat_id,
                "title": title,
                "type": kind,
                "is_forum": is_forum,
                "username": username,
                "bot_status": bot_status,
            },
        )
        return GroupHandle(self, chat_id)

    # --- inspection and faults ----------------------------------------------------------------

    async def clock(self) -> dict[str, Any]:
        """The sandbox clock: {"offset_seconds", "now"} (unix time as the bot sees it)."""
        return await self.request("GET", "/clock")

    async def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the sandbox clock forward; a bot with SANDBOX_CLOCK=1 follows it."""
        return await self.request("POST", "/clock", json={"advance_seconds": seconds})

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", "/state")
        return result

    async def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Every Bot API call the bot made (optionally of one method), in order."""
        result: list[dict[str, Any]] = await self.request(
            "GET", "/calls", params={"method": method}
        )
        return result

    async def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """The bot's next ``times`` calls of ``method`` fail with ``status``."""
        await self.request(
            "POST",
            "/faults",
            json={
                "method": method,
                "kind": "status",
                "status": status,
                "retry_after": retry_after,
                "times": times,
                "description": description,
            },
        )

    async def drop_next(self, method: str, times: int = 1) -> None:
        """The bot's next ``times`` calls of ``method`` lose their connection unanswered."""
        await self.request(
            "POST", "/faults", json={"method": method, "kind": "drop", "times": times}
        )

    async def timeout_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The bot's next ``times`` calls of ``method`` get no answer for ``seconds``, then lose
        their connection; Telegram did not carry them out."""
        await self.request(
            "POST",
            "/faults",
            json={"method": method, "kind": "timeout", "seconds": seconds, "times": times},
        )

    async def lose_answer_next(self, method: str, times: int = 1) -> None:
        """The bot's next ``times`` calls of ``method`` are carried out, then lose their
        connection before the answer arrives."""
        await self.request(
            "POST", "/faults", json={"method": method, "kind": "lose_answer", "times": times}
        )

    async def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The bot's next ``times`` calls of ``method`` are answered ``seconds`` late."""
        await self.request(
            "POST",
            "/faults",
            json={"method": method, "kind": "delay", "seconds": seconds, "times": times},
        )

    async def commands(
        self, scope: str = "default", language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The bot's commands for a scope key (``default``, ``chat:<id>``, ...) and language."""
        result: list[dict[str, Any]] = await self.request(
            "GET", "/commands", params={"scope": scope, "language_code": language_code}
        )
        return result

    async def download(self, file_id: str) -> bytes:
        return await self._bytes(f"/files/{file_id}")

    async def changes(
        self,
        after: int,
        *,
        chat_id: int | None = None,
        wait_seconds: float = 0.0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Events after ``after``; waits up to ``wait_seconds`` for the first one."""
        body = await self.request(
            "GET",
            "/changes",
            params={"after": after, "chat_id": chat_id, "timeout": wait_seconds},
        )
        return list(body["events"]), int(body["last_seq"])

    async def wait_event(
        self,
        event_type: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        chat_id: int | None = None,
        after: int = 0,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """First event of ``event_type`` after ``after`` (e.g. "member_changed",
        "topic_deleted", "callback_answer") that matches ``predicate``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        cursor = after
        while True:
            remaining = deadline - loop.time()
            events, _ = await self.changes(
                cursor, chat_id=chat_id, wait_seconds=max(0.0, min(remaining, 10.0))
            )
            for event in events:
                cursor = max(cursor, int(event["seq"]))
                if event["type"] == event_type and (predicate is None or predicate(event)):
                    return event
            if loop.time() >= deadline:
                raise SandboxTimeoutError(f"no {event_type} event within {timeout:.1f}s")

    async def last_seq(self) -> int:
        _, last = await self.changes(2**62)
        return last


class _ChatHandle:
    """Shared by private chats and groups: reading messages and waiting for the bot."""

    def __init__(self, client: SandboxClient, chat_id: int) -> None:
        self.client = client
        self.chat_id = chat_id
        # Event sequence number of this chat's latest action; waits look after it.
        self.cursor = 0

    def _path(self, suffix: str = "") -> str:
        return f"/chats/{self.chat_id}{suffix}"

    def _advance(self, body: dict[str, Any]) -> None:
        seq = body.get("seq")
        if isinstance(seq, int):
            self.cursor = seq

    async def info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.client.request("GET", self._path())
        return result

    async def _messages(
        self, *, thread_id: int | None, sender: str, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        rows = await self.client.request(
            "GET",
            self._path("/messages"),
            params={
                "thread_id": thread_id,
                "sender": sender,
                "include_deleted": "1" if include_deleted else None,
            },
        )
        return [row["message"] for row in rows]

    async def all_messages(self, *, thread_id: int | None = None) -> list[dict[str, Any]]:
        """Every visible message of the chat, people's and bot's, in order."""
        return await self._messages(thread_id=thread_id, sender="all")

    async def _wait(
        self,
        predicate: Predicate,
        *,
        thread_id: int | None,
        wait_seconds: float,
        since: int | None,
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        cursor = self.cursor if since is None else since
        seen: list[str] = []
        while True:
            remaining = deadline - loop.time()
            events, _ = await self.client.changes(
                cursor, chat_id=self.chat_id, wait_seconds=max(0.0, min(remaining, 10.0))
            )
            for event in events:
                cursor = max(cursor, int(event["seq"]))
                if event["type"] not in ("message_new", "message_edited"):
                    continue
                if not event["data"].get("from_bot"):
                    continue
                message: dict[str, Any] = event["data"]["message"]
                if thread_id is not None and _thread_of(message) != thread_id:
                    continue
                if predicate(message):
                    return message
                seen.append(message_text(message)[:80])
            if loop.time() >= deadline:
                recent = "; ".join(repr(s) for s in seen[-5:]) or "none"
                raise SandboxTimeoutError(
                    f"no matching bot message in chat {self.chat_id} within "
                    f"{wait_seconds:.1f}s (bot messages seen: {recent})"
                )

    async def download(self, file_id: str) -> bytes:
        """A file from this sandbox (one the bot sent, or anyone)."""
        return await self.client.download(file_id)


class UserHandle(_ChatHandle):
    """A person and their private chat with the bot."""

    def __init__(self, client: SandboxClient, user_id: int) -> None:
        super().__init__(client, user_id)
        self.user_id = user_id

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.client.request(
            "POST", self._path("/messages"), json={"user_id": self.user_id, **body}
        )
        self._advance(result)
        return result

    async def send_text(self, text: str, *, reply_to: int | None = None) -> dict[str, Any]:
        """Write ``text``; returns the Message as delivered to the bot."""
        body = await self._post({"kind": "text", "text": text, "reply_to_message_id": reply_to})
        message: dict[str, Any] = body["message"]
        return message

    async def send_command(self, command: str, args: str | None = None) -> dict[str, Any]:
        """``/start`` (or ``start``), optionally with arguments, carrying a bot_command entity."""
        text = command if command.startswith("/") else f"/{command}"
        if args:
            text = f"{text} {args}"
        body = await self._post({"kind": "command", "text": text})
        message: dict[str, Any] = body["message"]
        return message

    async def share_contact(
        self,
        phone: str = "+79161234567",
        own: bool = True,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """Send a contact: one's own (as the request_contact button does) or someone else's."""
        body = await self._post(
            {
                "kind": "contact",
                "phone": phone,
                "own": own,
                "first_name": first_name,
                "last_name": last_name,
                "contact_user_id": user_id,
            }
        )
        message: dict[str, Any] = body["message"]
        return message

    async def forward_contact(
        self,
        phone: str,
        first_name: str = "Contact",
        last_name: str | None = None,
        user_id: int | None = None,
        *,
        forwarded_from: int | None = None,
    ) -> dict[str, Any]:
        """A contact card forwarded from another chat: it carries forward_origin, from the
        sandbox user ``forwarded_from`` or else from someone who hides their account. A card
        with ``user_id`` of the sender is their own card, forwarded."""
        body = await self._post(
            {
                "kind": "contact",
                "phone": phone,
                "own": False,
                "first_name": first_name,
                "last_name": last_name,
                "contact_user_id": user_id,
                "forwarded_from": (
                    {"user_id": forwarded_from}
                    if forwarded_from is not None
                    else {"name": "Hidden sender"}
                ),
            }
        )
        message: dict[str, Any] = body["message"]
        return message

    async def forward_text(self, text: str, *, forwarded_from: int | None = None) -> dict:
        """A text message forwarded from another chat (see ``forward_contact``)."""
        origin = {"user_id": forwarded_from} if forwarded_from is not None else {"name": "Hidden"}
        body = await self._post({"kind": "text", "text": text, "forwarded_from": origin})
        message: dict[str, Any] = body["message"]
        return message

    async def send_photo(self, data: bytes, caption: str | None = None) -> dict[str, Any]:
        body = await self._post(_photo(data, caption))
        message: dict[str, Any] = body["message"]
        return message

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        body = await self._post(_document(data, file_name, mime_type, caption))
        message: dict[str, Any] = body["message"]
        return message

    async def send_album(
        self, items: Sequence[tuple[str, bytes, str]], caption: str | None = None
    ) -> list[dict[str, Any]]:
        """``[(kind, data, file_name), ...]`` with kind "photo" or "document"; one update each,
        sharing a media_group_id. ``caption`` goes on the first item, as apps do."""
        payload = [
            {
                "kind": kind,
                "data_b64": _b64(data),
                "file_name": name,
                "caption": caption if index == 0 else None,
            }
            for index, (kind, data, name) in enumerate(items)
        ]
        body = await self._post({"kind": "album", "items": payload})
        messages: list[dict[str, Any]] = body["messages"]
        return messages

    async def send_sticker(self, emoji: str = "\U0001f44d") -> dict[str, Any]:
        body = await self._post({"kind": "sticker", "emoji": emoji})
        message: dict[str, Any] = body["message"]
        return message

    async def send_voice(self, duration: int = 2, data: bytes | None = None) -> dict[str, Any]:
        body = await self._post(
            {"kind": "voice", "duration": duration, "data_b64": _b64(data) if data else None}
        )
        message: dict[str, Any] = body["message"]
        return message

    async def send_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        body = await self._post({"kind": "location", "latitude": latitude, "longitude": longitude})
        message: dict[str, Any] = body["message"]
        return message

    async def send_video(self, duration: int = 3, data: bytes | None = None) -> dict[str, Any]:
        body = await self._post(
            {"kind": "video", "duration": duration, "data_b64": _b64(data) if data else None}
        )
        message: dict[str, Any] = body["message"]
        return message

    async def send_video_note(self, duration: int = 3) -> dict[str, Any]:
        """A round video message."""
        body = await self._post({"kind": "video_note", "duration": duration})
        message: dict[str, Any] = body["message"]
        return message

    async def send_poll(self, question: str, options: Sequence[str]) -> dict[str, Any]:
        body = await self._post({"kind": "poll", "question": question, "options": list(options)})
        message: dict[str, Any] = body["message"]
        return message

    async def send_dice(self, emoji: str = "\U0001f3b2", value: int | None = None) -> dict:
        """A dice (or darts, ball...) thrown by the app: Telegram picks the value."""
        body = await self._post({"kind": "dice", "emoji": emoji, "value": value})
        message: dict[str, Any] = body["message"]
        return message

    async def send_text_in_parts(self, text: str, limit: int = 4096) -> list[dict[str, Any]]:
        """A text longer than one message may hold, sent as Telegram's apps do: split into
        messages of at most ``limit`` characters, in order."""
        return [await self.send_text(text[i : i + limit]) for i in range(0, len(text), limit)]

    async def press(
        self,
        button_text: str,
        *,
        message_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """Press an inline button (exact label, or a unique substring) on the newest bot message
        carrying it. For callback buttons, returns once the bot answered (or the timeout passed):
        ``{"kind": "callback", "answered", "text", "show_alert", "url", "callback_query_id",
        "message_id", "data"}``; url buttons give ``{"kind": "url", "url"}``; pay buttons pay."""
        result: dict[str, Any] = await self.client.request(
            "POST",
            self._path("/press"),
            json={
                "user_id": self.user_id,
                "text": button_text,
                "message_id": message_id,
                "timeout": timeout,
            },
        )
        self._advance(result)
        return result

    async def forge_press(
        self,
        message_id: int,
        data: str,
        *,
        inaccessible: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """A callback query with any ``data`` on the bot's message ``message_id``, whatever
        its buttons say; ``inaccessible`` presents the message as older than 48 hours.
        Answers like ``press``."""
        result: dict[str, Any] = await self.client.request(
            "POST",
            self._path("/callback"),
            json={
                "user_id": self.user_id,
                "message_id": message_id,
                "data": data,
                "inaccessible": inaccessible,
                "timeout": timeout,
            },
        )
        self._advance(result)
        return result

    async def reply_keyboard(self) -> list[list[dict[str, Any]]] | None:
        """Rows of the reply keyboard now shown (None when none or after ReplyKeyboardRemove)."""
        body = await self.client.request("GET", self._path("/keyboard"))
        keyboard = body.get("keyboard")
        if not keyboard:
            return None
        rows: list[list[dict[str, Any]]] = keyboard["keyboard"]
        return rows

    async def tap_keyboard(self, button_text: str, *, phone: str = "+79161234567") -> dict:
        """Tap a reply-keyboard button: sends its text, or one's contact for request_contact."""
        rows = await self.reply_keyboard() or []
        buttons = [b for row in rows for b in row]
        matches = [b for b in buttons if b["text"] == button_text] or [
            b for b in buttons if button_text in b["text"]
        ]
        if len(matches) != 1:
            labels = [b["text"] for b in buttons]
            raise SandboxError(404, f"no single keyboard button {button_text!r} in {labels}")
        button = matches[0]
        if button.get("request_contact"):
            return await self.share_contact(phone, True)
        if button.get("request_location"):
            return await self.send_location(55.7558, 37.6173)
        return await self.send_text(button["text"])

    async def edit(self, message_id: int, text: str) -> dict[str, Any]:
        """Edit one's own message: the bot gets an edited_message update."""
        body: dict[str, Any] = await self.client.request(
            "POST",
            self._path(f"/messages/{message_id}/edit"),
            json={"user_id": self.user_id, "text": text},
        )
        self._advance(body)
        message: dict[str, Any] = body["message"]
        return message

    async def reply_to(self, message_id: int, text: str) -> dict[str, Any]:
        return await self.send_text(text, reply_to=message_id)

    async def block(self) -> None:
        """Block the bot: my_chat_member (member -> kicked); sends now fail with 403."""
        self._advance(await self.client.request("POST", self._path("/block")))

    async def unblock(self) -> None:
        self._advance(await self.client.request("POST", self._path("/unblock")))

    async def pay(
        self,
        invoice_message_id: int | None = None,
        *,
        succeed: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """Pay the newest (or given) invoice: pre_checkout_query, then, if the bot said ok and
        ``succeed``, a successful_payment message. Returns ``{"answered", "ok",
        "error_message", "message", ...}``."""
        result: dict[str, Any] = await self.client.request(
            "POST",
            self._path("/pay"),
            json={
                "user_id": self.user_id,
                "invoice_message_id": invoice_message_id,
                "succeed": succeed,
                "timeout": timeout,
            },
        )
        self._advance(result)
        return result

    async def messages(self) -> list[dict[str, Any]]:
        """The bot's messages in this chat, in order, as they are now (deleted ones left out)."""
        return await self._messages(thread_id=None, sender="bot")

    async def wait_for(
        self,
        predicate: Predicate,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        since: int | None = None,
    ) -> dict[str, Any]:
        """First bot message (new or edited) after the last action that matches ``predicate``.
        ``since=0`` searches the whole history."""
        return await self._wait(predicate, thread_id=None, wait_seconds=timeout, since=since)

    async def wait_text(
        self,
        contains: str,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        since: int | None = None,
    ) -> dict[str, Any]:
        return await self.wait_for(lambda m: contains in message_text(m), timeout, since=since)

    async def chat_actions(self) -> list[dict[str, Any]]:
        """sendChatAction calls seen in this chat: ``{"action", "thread_id", "date"}``."""
        result: list[dict[str, Any]] = await self.client.request("GET", self._path("/actions"))
        return result


class GroupHandle(_ChatHandle):
    """A group or supergroup (possibly a forum) with its members and topics."""

    async def member(
        self,
        user_id: int,
        first_name: str = "Member",
        admin: bool = False,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        status: str | None = None,
    ) -> MemberHandle:
        await self.client.request(
            "POST",
            self._path("/members"),
            json={
                "user_id": user_id,
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
                "admin": admin,
                "status": status,
            },
        )
        return MemberHandle(self, user_id)

    async def add_bot(self, by_user_id: int, *, as_admin: bool = False) -> dict[str, Any]:
        """``by_user_id`` (a member) adds the bot: my_chat_member and a new_chat_members message."""
        body: dict[str, Any] = await self.client.request(
            "POST", self._path("/add_bot"), json={"by_user_id": by_user_id, "as_admin": as_admin}
        )
        self._advance(body)
        return body

    async def bot_status(self) -> str | None:
        info = await self.info()
        status: str | None = info.get("bot_status")
        return status

    async def topics(self, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Topics: ``{"message_thread_id", "name", "icon_color", "is_closed", "is_deleted"}``."""
        result: list[dict[str, Any]] = await self.client.request(
            "GET",
            self._path("/topics"),
            params={"include_deleted": "1" if include_deleted else None},
        )
        return result

    async def create_topic(self, name: str, by_user_id: int) -> dict[str, Any]:
        """A person creates a topic: the bot gets the forum_topic_created service message."""
        body: dict[str, Any] = await self.client.request(
            "POST", self._path("/topics"), json={"user_id": by_user_id, "name": name}
        )
        self._advance(body)
        topic: dict[str, Any] = body["topic"]
        return topic

    async def delete_topic(self, thread_id: int) -> None:
        """A person deletes a topic; later sends there get "message thread not found"."""
        await self.client.request("DELETE", self._path(f"/topics/{thread_id}"))

    async def messages(self, thread_id: int | None = None) -> list[dict[str, Any]]:
        """The bot's messages (optionally of one topic; 1 is General), current state, in order."""
        return await self._messages(thread_id=thread_id, sender="bot")

    async def wait_for(
        self,
        predicate: Predicate,
        thread_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        since: int | None = None,
    ) -> dict[str, Any]:
        """First bot message (new or edited, in ``thread_id`` if given) after the group's last
        action that matches ``predicate``."""
        return await self._wait(predicate, thread_id=thread_id, wait_seconds=timeout, since=since)

    async def wait_text(
        self,
        contains: str,
        thread_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        since: int | None = None,
    ) -> dict[str, Any]:
        return await self.wait_for(
            lambda m: contains in message_text(m), thread_id, timeout, since=since
        )


class MemberHandle:
    """A person acting inside a group."""

    def __init__(self, group: GroupHandle, user_id: int) -> None:
        self.group = group
        self.user_id = user_id

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.group.client.request(
            "POST", self.group._path("/messages"), json={"user_id": self.user_id, **body}
        )
        self.group._advance(result)
        return result

    async def send_text(
        self, text: str, thread_id: int | None = None, *, reply_to: int | None = None
    ) -> dict[str, Any]:
        body = await self._post(
            {"kind": "text", "text": text, "thread_id": thread_id, "reply_to_message_id": reply_to}
        )
        message: dict[str, Any] = body["message"]
        return message

    async def edit(self, message_id: int, text: str) -> dict[str, Any]:
        """Edit one's own message in the group: the bot gets an edited_message update."""
        body: dict[str, Any] = await self.group.client.request(
            "POST",
            self.group._path(f"/messages/{message_id}/edit"),
            json={"user_id": self.user_id, "text": text},
        )
        self.group._advance(body)
        message: dict[str, Any] = body["message"]
        return message

    async def send_command(self, command: str, thread_id: int | None = None) -> dict[str, Any]:
        body = await self._post({"kind": "command", "text": command, "thread_id": thread_id})
        message: dict[str, Any] = body["message"]
        return message

    async def send_text_as_chat(
        self, text: str, sender_chat_id: int, thread_id: int | None = None
    ) -> dict[str, Any]:
        """Write on behalf of a chat: the group itself (an anonymous administrator) or a
        channel this member owns."""
        body = await self._post(
            {"kind": "text", "text": text, "thread_id": thread_id, "sender_chat_id": sender_chat_id}
        )
        message: dict[str, Any] = body["message"]
        return message

    async def reply_to(
        self, message_id: int, text: str, thread_id: int | None = None
    ) -> dict[str, Any]:
        return await self.send_text(text, thread_id, reply_to=message_id)

    async def send_photo(
        self, data: bytes, caption: str | None = None, thread_id: int | None = None
    ) -> dict[str, Any]:
        body = await self._post(_photo(data, caption, thread_id=thread_id))
        message: dict[str, Any] = body["message"]
        return message

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        body = await self._post(_document(data, file_name, mime_type, caption, thread_id=thread_id))
        message: dict[str, Any] = body["message"]
        return message

    async def press(
        self,
        button_text: str,
        thread_id: int | None = None,
        *,
        message_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self.group.client.request(
            "POST",
            self.group._path("/press"),
            json={
                "user_id": self.user_id,
                "text": button_text,
                "thread_id": thread_id,
                "message_id": message_id,
                "timeout": timeout,
            },
        )
        self.group._advance(result)
        return result

    async def create_topic(self, name: str) -> dict[str, Any]:
        return await self.group.create_topic(name, self.user_id)

    async def add_bot(self, *, as_admin: bool = False) -> dict[str, Any]:
        return await self.group.add_bot(self.user_id, as_admin=as_admin)
