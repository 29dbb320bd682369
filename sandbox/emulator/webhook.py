"""Webhook delivery: while a webhook is set, every queued update is POSTed to its URL.

As on Telegram (https://core.telegram.org/bots/api#setwebhook): the JSON-serialized Update with
the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret was given; an answer other than 2XX,
or no answer, is retried with backoff while the update stays queued (``pending_update_count``,
``last_error_date`` and ``last_error_message`` of getWebhookInfo show it); updates of one chat go
one at a time in order, different chats in parallel up to ``max_connections``. Deleting the
webhook hands the undelivered updates back to getUpdates. A method in the webhook's answer is not
executed.

Telegram posts only to https URLs, while a bot under test listens on plain HTTP: :meth:`route`
plays the TLS proxy in front of it, e.g. ``route("https://bot.example", "http://127.0.0.1:8081")``.
Given several local addresses it is also the load balancer in front of several webhook workers:
each POST goes to the next one in turn, so a retry after a worker died goes to another.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .state import World, now

log = logging.getLogger("sandbox.emulator")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_CONNECTIONS = 40


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST of an update: its HTTP status, or the error Telegram would report."""

    update_id: int
    url: str
    status: int | None
    error: str | None
    secret_sent: bool
    time: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.error is None


class WebhookDelivery:
    def __init__(
        self,
        world: World,
        *,
        first_retry: float = 0.1,
        max_retry: float = 2.0,
        give_up_after: float = 60.0,
        timeout: float = 30.0,
    ) -> None:
        self.world = world
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.give_up_after = give_up_after
        self.timeout = timeout
        self.attempts: list[WebhookAttempt] = []
        # Called with each update as it is posted (load tests time answers from there).
        self.observers: list[Callable[[dict[str, Any]], None]] = []
        self._routes: dict[str, itertools.cycle[str]] = {}
        self._lanes: dict[int | str, deque[dict[str, Any]]] = {}
        self._lane_tasks: set[asyncio.Task[None]] = set()
        self._taken: set[int] = set()
        self._connections = asyncio.Semaphore(DEFAULT_MAX_CONNECTIONS)
        self._connections_size = DEFAULT_MAX_CONNECTIONS
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    # --- set-up ------------------------------------------------------------------------------

    def route(self, public_prefix: str, *local_bases: str) -> None:
        """Deliver webhooks whose URL starts with `public_prefix` to `local_bases` instead (in
        turn, when there are several), the rest of the URL kept: what a TLS-terminating proxy
        and load balancer in front of the bot does."""
        if not local_bases:
            raise ValueError("route() needs at least one local address")
        bases = [base.rstrip("/") for base in local_bases]
        self._routes[public_prefix.rstrip("/")] = itertools.cycle(bases)

    def target(self, url: str) -> str:
        for prefix, bases in self._routes.items():
            if url == prefix or url.startswith((prefix + "/", prefix + "?")):
                return next(bases) + url[len(prefix) :]
        return url

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._connections = asyncio.Semaphore(self._connections_size)
        self._task = asyncio.create_task(self._run(), name="webhook-delivery")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._lane_tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        self._lanes.clear()
        self._taken.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- delivery ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            # Taken before looking: a wake-up while dispatching sets this very event.
            changed = self.world.updates_changed
            self._dispatch()
            await changed.wait()

    def _dispatch(self) -> None:
        hook = self.world.webhook
        if hook is None:
            return
        size = int(hook.get("max_connections") or DEFAULT_MAX_CONNECTIONS)
        if size != self._connections_size:
            self._connections, self._connections_size = asyncio.Semaphore(size), size
        for update in self.world.updates:
            update_id = int(update["update_id"])
            if update_id in self._taken:
                continue
            self._taken.add(update_id)
            key = chat_key(update)
            lane = self._lanes.get(key)
            if lane is not None:
                lane.append(update)
                continue
            self._lanes[key] = deque([update])
            task = asyncio.create_task(self._drive(key), name=f"webhook-lane-{key}")
            self._lane_tasks.add(task)
            task.add_done_callback(self._lane_tasks.discard)

    async def _drive(self, key: int | str) -> None:
        """One chat's updates, in order, each until delivered (or given up)."""
        lane = self._lanes[key]
        try:
            while lane:
                if not await self._deliver(lane[0]):
                    # The webhook was deleted: getUpdates gets these, in order, instead.
                    self._taken.difference_update(int(u["update_id"]) for u in lane)
                    lane.clear()
                    break
                self._taken.discard(int(lane.popleft()["update_id"]))
        finally:
            self._lanes.pop(key, None)

    async def _deliver(self, update: dict[str, Any]) -> bool:
        """True once delivered, dropped or given up; False when the webhook is gone."""
        loop = asyncio.get_running_loop()
        first_try, delay = loop.time(), self.first_retry
        update_id = int(update["update_id"])
        while True:
            hook = self.world.webhook
            if hook is None:
                return False
            if not any(u["update_id"] == update_id for u in self.world.updates):
                return True  # dropped meanwhile (drop_pending_updates)
            async with self._connections:
                error = await self._post(hook, update)
            if error is None:
                self._remove(update_id)
                return True
            hook["last_error_date"] = now()
            hook["last_error_message"] = error
            if loop.time() - first_try >= self.give_up_after:
                log.warning("webhook: update %s given up after %s", update_id, error)
                self._remove(update_id)
                return True
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry)

    async def _post(self, hook: dict[str, Any], update: dict[str, Any]) -> str | None:
        assert self._session is not None
        url = self.target(str(hook["url"]))
        secret = hook.get("secret_token")
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = str(secret)
        status: int | None = None
        error: str | None = None
        for observer in self.observers:
            observer(update)
        try:
            async with self._session.post(
                url,
                data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as response:
                await response.read()
                status = response.status
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason or ''}"
                    error = error.strip()
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ClientError as exc:
            error = f"Connection error: {type(exc).__name__}"
        self.attempts.append(
            WebhookAttempt(int(update["update_id"]), url, status, error, bool(secret))
        )
        return error

    def _remove(self, update_id: int) -> None:
        self.world.updates = [u for u in self.world.updates if u["update_id"] != update_id]


def chat_key(update: dict[str, Any]) -> int | str:
    """What orders an update: its chat, else its user (inline queries, polls' answers...)."""
    kind, payload = next((k, v) for k, v in update.items() if k != "update_id")
    if isinstance(payload, dict):
        chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        user = payload.get("from") or payload.get("user")
        if isinstance(user, dict) and "id" in user:
            return int(user["id"])
    return kind
