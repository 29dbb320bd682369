"""Bot-level methods: getMe, updates (long polling), webhooks and the command menu."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from .errors import bad_request, conflict
from .params import Params
from .registry import Ctx, Described, api_method
from .state import World

LONG_POLL_MAX_TIMEOUT = 50
UPDATE_KINDS = {
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
}
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
WEBHOOK_PORTS = {80, 88, 443, 8443}


@api_method("getMe")
async def get_me(ctx: Ctx, p: Params) -> dict[str, Any]:
    user = ctx.world.bot_user()
    user.update(
        {
            "can_join_groups": True,
            "can_read_all_group_messages": not ctx.world.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
    )
    return user


def _set_allowed_updates(world: World, p: Params) -> None:
    if not p.has("allowed_updates"):
        return  # Telegram keeps the previous setting
    value = p.get_json("allowed_updates", "allowed_updates")
    if not isinstance(value, list):
        raise bad_request("can't parse allowed_updates JSON object")
    world.allowed_updates = [str(v) for v in value if str(v) in UPDATE_KINDS]


@api_method("getUpdates")
async def get_updates(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    world = ctx.world
    if world.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    offset = p.get_int("offset", 0) or 0
    limit = min(max(p.get_int("limit", 100) or 100, 1), 100)
    timeout = min(max(p.get_int("timeout", 0) or 0, 0), LONG_POLL_MAX_TIMEOUT)
    _set_allowed_updates(world, p)
    world.confirm_updates(offset)
    # A newer getUpdates ends an older one still waiting, as on Telegram.
    world.polling_generation += 1
    generation = world.polling_generation
    world.wake_pollers()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if generation != world.polling_generation:
            raise conflict(
                "terminated by other getUpdates request; "
                "make sure that only one bot instance is running"
            )
        if world.updates:
            return world.updates[:limit]
        remaining = deadline - loop.time()
        if remaining <= 0 or ctx.stopping.is_set():
            return []
        changed = asyncio.create_task(world.updates_changed.wait())
        stopping = asyncio.create_task(ctx.stopping.wait())
        try:
            await asyncio.wait(
                {changed, stopping}, timeout=remaining, return_when="FIRST_COMPLETED"
            )
        finally:
            changed.cancel()
            stopping.cancel()


@api_method("setWebhook")
async def set_webhook(ctx: Ctx, p: Params) -> Described:
    world = ctx.world
    url = p.get_str("url") or ""
    if p.get_bool("drop_pending_updates"):
        world.updates.clear()
    _set_allowed_updates(world, p)
    if not url:
        was_set = world.webhook is not None
        world.webhook = None
        return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")
    if not url.lower().startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if _url_port(url) not in WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    secret = p.get_str("secret_token")
    if secret is not None and (len(secret) > 256 or not re.fullmatch(r"[A-Za-z0-9_-]+", secret)):
        raise bad_request("secret token contains unallowed characters")
    new = {
        "url": url,
        "max_connections": p.get_int("max_connections", 40),
        "secret_token": secret,
    }
    same = world.webhook is not None and world.webhook["url"] == url
    world.webhook = new
    # Wake a waiting getUpdates: it must now fail with a conflict.
    world.polling_generation += 1
    world.wake_pollers()
    return Described(True, "Webhook is already set" if same else "Webhook was set")


def _url_port(url: str) -> int | None:
    try:
        return urlsplit(url).port or 443
    except ValueError:
        return None


@api_method("deleteWebhook")
async def delete_webhook(ctx: Ctx, p: Params) -> Described:
    world = ctx.world
    if p.get_bool("drop_pending_updates"):
        world.updates.clear()
    was_set = world.webhook is not None
    world.webhook = None
    return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")


@api_method("getWebhookInfo")
async def get_webhook_info(ctx: Ctx, p: Params) -> dict[str, Any]:
    world = ctx.world
    info: dict[str, Any] = {
        "url": world.webhook["url"] if world.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    if world.webhook:
        for key in ("last_error_date", "last_error_message"):  # set by webhook delivery
            if key in world.webhook:
                info[key] = world.webhook[key]
        info["max_connections"] = world.webhook["max_connections"]
        if world.allowed_updates:
            info["allowed_updates"] = list(world.allowed_updates)
    return info


# --- command menu ------------------------------------------------------------------------------


def scope_key(world: World, p: Params) -> str:
    """A stable key for a BotCommandScope, resolving chat ids the way Telegram does."""
    scope = p.get_json("scope", "BotCommandScope")
    if scope is None:
        scope = {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return kind
    if kind in ("chat", "chat_administrators", "chat_member"):
        chat_id = scope.get("chat_id")
        if chat_id is None:
            raise bad_request("chat_id is empty")
        chat = world.chat(chat_id)
        if kind != "chat_member":
            return f"{kind}:{chat.id}"
        user_id = scope.get("user_id")
        if not isinstance(user_id, int) or user_id <= 0:
            raise bad_request("invalid user_id specified")
        return f"{kind}:{chat.id}:{user_id}"
    raise bad_request("unsupported bot command scope type specified")


def _language(p: Params) -> str:
    code = p.get_str("language_code") or ""
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise bad_request("invalid language code specified")
    return code


@api_method("setMyCommands")
async def set_my_commands(ctx: Ctx, p: Params) -> bool:
    raw = p.get_json("commands", "commands")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise bad_request("can't parse commands JSON object")
    if len(raw) > 100:
        raise bad_request("too many commands specified")
    commands: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("expected an Object as BotCommand")
        command = str(item.get("command", "")).lstrip("/")
        description = str(item.get("description", ""))
        if not COMMAND_RE.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not description.strip() or len(description) > 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands.append({"command": command, "description": description})
    key = (scope_key(ctx.world, p), _language(p))
    if commands:
        ctx.world.commands[key] = commands
    else:
        ctx.world.commands.pop(key, None)
    ctx.world.events.publish(
        "commands", None, {"scope": key[0], "language_code": key[1], "commands": commands}
    )
    return True


@api_method("getMyCommands")
async def get_my_commands(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    key = (scope_key(ctx.world, p), _language(p))
    return [dict(c) for c in ctx.world.commands.get(key, [])]


@api_method("deleteMyCommands")
async def delete_my_commands(ctx: Ctx, p: Params) -> bool:
    key = (scope_key(ctx.world, p), _language(p))
    ctx.world.commands.pop(key, None)
    ctx.world.events.publish(
        "commands", None, {"scope": key[0], "language_code": key[1], "commands": []}
    )
    return True
