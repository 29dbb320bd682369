"""The sandbox control API (JSON over HTTP under ``/sandbox/api``) and its event stream.

Tests (through ``sandbox.client``) and a browser page use the same routes. Successful calls
answer plain JSON; failures answer ``{"error": "..."}`` with a 4xx status.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import actions
from .actions import ControlError
from .errors import ApiError
from .state import ChatRec, World

if TYPE_CHECKING:
    from .server import Emulator

PREFIX = "/sandbox/api"
SSE_KEEPALIVE_SECONDS = 15.0
MAX_WAIT_SECONDS = 60.0

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _ok(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )


def _guard(func: Route) -> Route:
    """Turn sandbox and Bot API errors into JSON error answers."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await func(request)
        except ControlError as exc:
            return _ok({"error": exc.message}, exc.status)
        except ApiError as exc:
            return _ok({"error": exc.description, "error_code": exc.error_code}, 400)
        except (KeyError, ValueError, TypeError) as exc:
            return _ok({"error": f"bad request: {exc!r}"}, 400)

    return wrapper


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise ControlError(400, "body must be JSON") from exc
    if not isinstance(body, dict):
        raise ControlError(400, "body must be a JSON object")
    return body


def _b64(value: Any, required: bool = True) -> bytes | None:
    if value is None:
        if required:
            raise ControlError(400, "data_b64 is required")
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ControlError(400, "data_b64 is not valid base64") from exc


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def chat_summary(world: World, chat: ChatRec) -> dict[str, Any]:
    return {
        "chat": chat.as_chat(),
        "bot_status": world.bot_member(chat).status if chat.type != "private" else None,
        "blocked": chat.blocked,
        "started": chat.started,
        "members": [
            {"user": world.users[m.user_id].as_user(), "status": m.status}
            for m in chat.members.values()
            if m.user_id in world.users
        ],
        "topics": [t.as_json() for t in chat.topics.values()],
        "reply_keyboard": copy.deepcopy(chat.reply_keyboard),
    }


def setup_control_routes(app: web.Application, emu: Emulator) -> None:
    world = emu.world
    r = app.router

    def route(method: str, path: str) -> Callable[[Route], Route]:
        def register(func: Route) -> Route:
            r.add_route(method, PREFIX + path, _guard(func))
            return func

        return register

    def chat_of(request: web.Request) -> ChatRec:
        return actions.get_chat(world, int(request.match_info["chat_id"]))

    # --- overview --------------------------------------------------------------------------

    @route("GET", "/state")
    async def state(request: web.Request) -> web.StreamResponse:
        return _ok(
            {
                "bot": world.bot_user(),
                "users": [u.as_user() for u in world.users.values()],
                "chats": [chat_summary(world, c) for c in world.chats.values()],
                "webhook": world.webhook,
                "allowed_updates": world.allowed_updates,
                "pending_updates": len(world.updates),
                "last_event_seq": world.events.last_seq,
                "strict": emu.strict,
                "schema_problems": list(emu.schema_problems),
            }
        )

    @route("GET", "/calls")
    async def calls(request: web.Request) -> web.StreamResponse:
        after = int(request.query.get("after", "0"))
        found = emu.calls(request.query.get("method") or None)
        return _ok([c.as_json() for c in found if c.seq > after])

    @route("DELETE", "/calls")
    async def clear_calls(request: web.Request) -> web.StreamResponse:
        emu.clear_calls()
        return _ok({"cleared": True})

    @route("POST", "/faults")
    async def add_fault(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        method = str(body["method"])
        times = int(body.get("times", 1))
        kind = body.get("kind", "status")
        if kind == "drop":
            emu.drop_next(method, times)
        elif kind == "lose_answer":
            emu.lose_answer_next(method, times)
        elif kind == "timeout":
            emu.timeout_next(method, float(body.get("seconds", 1.0)), times)
        elif kind == "delay":
            emu.delay_next(method, float(body.get("seconds", 1.0)), times)
        else:
            emu.fail_next(
                method,
                status=int(body.get("status", 429)),
                retry_after=int(body.get("retry_after", 1)),
                times=times,
                description=body.get("description"),
            )
        return _ok({"pending": emu.faults.pending()})

    @route("DELETE", "/faults")
    async def clear_faults(request: web.Request) -> web.StreamResponse:
        emu.faults.clear()
        return _ok({"pending": {}})

    @route("GET", "/commands")
    async def commands(request: web.Request) -> web.StreamResponse:
        if "scope" in request.query:
            scope = request.query["scope"]
            language = request.query.get("language_code", "")
            return _ok(emu.commands(scope, language))
        return _ok(
            [
                {"scope": scope, "language_code": language, "commands": cmds}
                for (scope, language), cmds in world.commands.items()
            ]
        )

    @route("GET", "/clock")
    async def clock(request: web.Request) -> web.StreamResponse:
        """The sandbox clock a bot with SANDBOX_CLOCK=1 follows (real time plus the offset)."""
        return _ok({"offset_seconds": world.clock_offset, "now": world.now()})

    @route("POST", "/clock")
    async def advance_clock(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        try:
            offset = world.advance_clock(float(body["advance_seconds"]))
        except ValueError as error:
            raise ControlError(400, str(error)) from error
        return _ok({"offset_seconds": offset, "now": world.now()})

    @route("GET", "/schema_problems")
    async def schema_problems(request: web.Request) -> web.StreamResponse:
        return _ok(list(emu.schema_problems))

    # --- people and chats --------------------------------------------------------------------

    @route("POST", "/users")
    async def add_user(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        user, chat = world.add_user(
            int(body["user_id"]),
            str(body.get("first_name") or "User"),
            body.get("last_name"),
            body.get("username"),
            body.get("language_code"),
            bool(body.get("is_premium", False)),
        )
        world.events.publish("chat_created", chat.id, {"chat": chat.as_chat()})
        return _ok({"user": user.as_user(), "chat": chat.as_chat()})

    @route("POST", "/groups")
    async def add_group(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        kind = body.get("type", "supergroup")
        if kind not in ("group", "supergroup", "channel"):
            raise ControlError(400, "type is group, supergroup or channel")
        is_forum = bool(body.get("is_forum", False))
        if is_forum and kind != "supergroup":
            raise ControlError(400, "only supergroups can be forums")
        bot_status = body.get("bot_status", "administrator")
        chat = world.add_group(
            int(body["chat_id"]),
            str(body.get("title") or "Group"),
            type_=kind,
            is_forum=is_forum,
            username=body.get("username"),
            bot_status=bot_status,
        )
        world.events.publish("chat_created", chat.id, {"chat": chat.as_chat()})
        return _ok(chat_summary(world, chat))

    @route("GET", "/chats/{chat_id}")
    async def get_chat(request: web.Request) -> web.StreamResponse:
        return _ok(chat_summary(world, chat_of(request)))

    @route("GET", "/chats/{chat_id}/messages")
    async def list_messages(request: web.Request) -> web.StreamResponse:
        chat = chat_of(request)
        query = request.query
        thread_id = _opt_int(query.get("thread_id"))
        sender = query.get("sender", "all")
        records = (
            chat.messages.values() if query.get("include_deleted") else chat.visible_messages()
        )
        result = []
        for rec in records:
            if (sender == "bot" and not rec.from_bot) or (sender == "users" and rec.from_bot):
                continue
            if thread_id is not None and (rec.thread_id or 1) != thread_id:
                continue
            result.append(
                {
                    "message": copy.deepcopy(rec.message),
                    "from_bot": rec.from_bot,
                    "deleted": rec.deleted,
                }
            )
        return _ok(result)

    @route("POST", "/chats/{chat_id}/messages")
    async def post_message(request: web.Request) -> web.StreamResponse:
        chat = chat_of(request)
        body = await _body(request)
        user = actions.acting_user(world, chat, _opt_int(body.get("user_id")))
        thread_id = _opt_int(body.get("thread_id"))
        kind = body.get("kind", "text")
        if kind == "album":
            items = [{**item, "data": _b64(item.get("data_b64"))} for item in body.get("items", [])]
            messages = actions.album(world, chat, user, items, thread_id=thread_id)
            return _ok({"messages": messages, "seq": world.events.last_seq})
        content = _content(world, user, kind, body)
        sender_chat_id = _opt_int(body.get("sender_chat_id"))
        message = actions.user_message(
            world,
            chat,
            user,
            content,
            thread_id=thread_id,
            reply_to_message_id=_opt_int(body.get("reply_to_message_id")),
            forwarded_from=body.get("forwarded_from"),
            sender_chat=None if sender_chat_id is None else actions.get_chat(world, sender_chat_id),
        )
        return _ok({"message": message, "seq": world.events.last_seq})

    @route("POST", "/chats/{chat_id}/messages/{message_id}/edit")
    async def edit_message(request: web.Request) -> web.StreamResponse:
        chat = chat_of(request)
        body = await _body(request)
        user = actions.acting_user(world, chat, _opt_int(body.get("user_id")))
        message = actions.edit_user_message(
            world, chat, user, int(request.match_info["message_id"]), str(body["text"])
        )
        return _ok({"message": message, "seq": world.events.last_seq})

    @route("POST", "/chats/{chat_id}/press")
    async def press(request: web.Request) -> web.StreamResponse:
        chat = chat_of(request)
        body = await _body(request)
        user = actions.acting_user(world, chat, _opt_int(body.get("user_id")))
        answer = await actions.press(
            world,
            chat,
            user,
            str(body["text"]),
            message_id=_opt_int(body.get("message_id")),
            thread_id=_opt_int(body.get("thread_id")),
            wait_seconds=min(float(body.get("timeout", 10.0)), MAX_WAIT_SECONDS),
        )
        return _ok(answer)

    @route("POST", "/chats/{chat_id}/callback")
    async def forged_callback(request: web.Request) -> web.StreamResponse:
        chat = chat_of(request)
        body = await _body(request)
        user = actions.acting_user(world, chat, _opt_int(body.get("user_id")))
        answer = await actions.forged_press(
            world,
            chat,
            user,
            int(body["message_id"]),
            str(body["data"]),
            inaccessible=bool(body.get("inaccessible", False)),
            wait_seconds=min(float(body.get("timeout", 10.0)), MAX_WAIT_SECONDS),
        )
        return _ok(answer)

    @route("POST", "/chats/{chat_id}/pay")
    async def pay(request: web.Request) -> web.StreamResponse:
        chat = chat_of(request)
        body = await _body(request)
        user = actions.acting_user(world, chat, _opt_int(body.get("user_id")))
        result = await actions.pay(
            world,
            chat,
            user,
            _opt_int(body.get("invoice_message_id")),
            succeed=bool(body.get("succeed", True)),
            wait_seconds=min(float(body.get("timeout", 10.0)), MAX_WAIT_SECONDS),
        )
        return _ok(result)

    @route("GET", "/chats/{chat_id}/keyboard")
    async def keyboard(request: web.Request) -> web.StreamResponse:
        return _ok({"keyboard": copy.deepcopy(chat_of(request).reply_keyboard)})

    @route("GET", "/chats/{chat_id}/actions")
    async def chat_actions(request: web.Request) -> web.StreamResponse:
        return _ok(list(chat_of(request).chat_actions))

    @route("POST", "/chats/{chat_id}/block")
    async def block(request: web.Request) -> web.StreamResponse:
        actions.block(world, chat_of(request))
        return _ok({"blocked": True, "seq": world.events.last_seq})

    @route("POST", "/chats/{chat_id}/unblock")
    async def unblock(request: web.Request) -> web.StreamResponse:
        actions.unblock(world, chat_of(request))
        return _ok({"blocked": False, "seq": world.events.last_seq})

    @route("POST", "/chats/{chat_id}/members")
    async def add_member(request: web.Request) -> web.StreamResponse:
        chat = chat_of(request)
        body = await _body(request)
        status = body.get("status") or ("administrator" if body.get("admin") else "member")
        if status not in ("creator", "administrator", "member"):
            raise ControlError(400, "status is creator, administrator or member")
        user = actions.add_member(
            world,
            chat,
            int(body["user_id"]),
            str(body.get("first_name") or "User"),
            last_name=body.get("last_name"),
            username=body.get("username"),
            language_code=body.get("language_code"),
            status=status,
        )
        return _ok({"user": user.as_user(), "status": status})

    @route("POST", "/chats/{chat_id}/add_bot")
    async def add_bot(request: web.Request) -> web.StreamResponse:
        chat = chat_of(request)
        body = await _body(request)
        user = actions.acting_user(world, chat, _opt_int(body.get("by_user_id")))
        actions.add_bot(world, chat, user, as_admin=bool(body.get("as_admin", False)))
        return _ok({**chat_summary(world, chat), "seq": world.events.last_seq})

    @route("GET", "/chats/{chat_id}/topics")
    async def topics(request: web.Request) -> web.StreamResponse:
        chat = chat_of(request)
        include_deleted = bool(request.query.get("include_deleted"))
        return _ok([t.as_json() for t in chat.topics.values() if include_deleted or not t.deleted])

    @route("POST", "/chats/{chat_id}/topics")
    async def create_topic(request: web.Request) -> web.StreamResponse:
        chat = chat_of(request)
        body = await _body(request)
        user = actions.acting_user(world, chat, _opt_int(body.get("user_id")))
        topic = actions.user_create_topic(
            world, chat, user, str(body["name"]), _opt_int(body.get("icon_color"))
        )
        return _ok({"topic": topic, "seq": world.events.last_seq})

    @route("DELETE", "/chats/{chat_id}/topics/{thread_id}")
    async def delete_topic(request: web.Request) -> web.StreamResponse:
        actions.user_delete_topic(world, chat_of(request), int(request.match_info["thread_id"]))
        return _ok({"deleted": True})

    # --- files and events ----------------------------------------------------------------------

    @route("GET", "/files/{file_id}")
    async def download(request: web.Request) -> web.StreamResponse:
        stored = world.files.get(request.match_info["file_id"])
        if stored is None:
            raise ControlError(404, "no such file")
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    @route("GET", "/changes")
    async def changes(request: web.Request) -> web.StreamResponse:
        """Long poll: events after ``after`` (optionally of one chat), waiting up to ``timeout``."""
        after = int(request.query.get("after", "0"))
        chat_id = _opt_int(request.query.get("chat_id"))
        timeout = min(float(request.query.get("timeout", "10")), MAX_WAIT_SECONDS)
        found = await world.events.wait_after(after, timeout, chat_id)
        return _ok({"events": [e.as_json() for e in found], "last_seq": world.events.last_seq})

    @route("GET", "/events")
    async def events(request: web.Request) -> web.StreamResponse:
        """Server-sent events: every change, from ``after`` (or Last-Event-ID) on."""
        after = int(request.query.get("after") or request.headers.get("Last-Event-ID") or 0)
        chat_id = _opt_int(request.query.get("chat_id"))
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        try:
            await response.write(b": connected\n\n")
            while not world.events.closed:
                found = await world.events.wait_after(after, SSE_KEEPALIVE_SECONDS, chat_id)
                if not found:
                    await response.write(b": keepalive\n\n")
                    continue
                for event in found:
                    data = json.dumps(event.as_json(), ensure_ascii=False)
                    chunk = f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n"
                    await response.write(chunk.encode("utf-8"))
                    after = event.seq
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response


def _content(world: World, user: Any, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Build a message's content from a control request."""
    if kind in ("text", "command"):
        text = str(body.get("text", ""))
        if kind == "command" and not text.startswith("/"):
            text = "/" + text
        return actions.text_content(text)
    if kind == "contact":
        return actions.contact_content(
            user,
            str(body["phone"]),
            own=bool(body.get("own", True)),
            first_name=body.get("first_name"),
            last_name=body.get("last_name"),
            user_id=_opt_int(body.get("contact_user_id")),
        )
    if kind == "photo":
        data = _b64(body.get("data_b64"))
        assert data is not None
        return actions.photo_content(world, data, body.get("caption"))
    if kind == "document":
        data = _b64(body.get("data_b64"))
        assert data is not None
        return actions.document_content(
            world,
            data,
            str(body.get("file_name") or "file"),
            body.get("mime_type"),
            body.get("caption"),
        )
    if kind == "sticker":
        return actions.sticker_content(
            world, _b64(body.get("data_b64"), required=False), str(body.get("emoji", "\U0001f44d"))
        )
    if kind == "voice":
        return actions.voice_content(
            world, _b64(body.get("data_b64"), required=False), int(body.get("duration", 1))
        )
    if kind == "location":
        return actions.location_content(float(body["latitude"]), float(body["longitude"]))
    if kind == "video":
        return actions.video_content(
            world, _b64(body.get("data_b64"), required=False), int(body.get("duration", 3))
        )
    if kind == "video_note":
        return actions.video_note_content(
            world, _b64(body.get("data_b64"), required=False), int(body.get("duration", 3))
        )
    if kind == "poll":
        return actions.poll_content(
            str(body.get("question", "")), [str(o) for o in body.get("options", [])]
        )
    if kind == "dice":
        return actions.dice_content(
            str(body.get("emoji", "\U0001f3b2")), _opt_int(body.get("value"))
        )
    raise ControlError(400, f"unknown message kind {kind!r}")
