"""Times every reply from the emulator's side: when getUpdates handed an update out (or the
webhook posted it), and when the call that answers it arrived. Hooked in as an emulator observer,
so the clock is the emulator's (the same process as the driver) and the bot under test is not
touched.

A citizen has at most one step in flight, so a chat id is enough to pair an update with its
answer: `expect(chat, done)` before injecting, then await the returned `Wait`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.emulator import Emulator, RecordedCall

Done = Callable[[RecordedCall], bool]
POLLING = frozenset({"getUpdates"})


@dataclass
class Wait:
    chat_id: int
    done: Done
    future: asyncio.Future[None]
    injected: float = 0.0
    handed: float | None = None
    answered: float | None = None
    methods: list[str] = field(default_factory=list)
    errors: int = 0

    @property
    def latency(self) -> float:
        """Seconds from the update being handed out to its answer arriving."""
        assert self.handed is not None and self.answered is not None
        return self.answered - self.handed


def update_chat(update: dict[str, Any]) -> int | None:
    for kind in ("message", "edited_message"):
        if kind in update:
            return int(update[kind]["chat"]["id"])
    query = update.get("callback_query")
    if query is not None:
        message = query.get("message")
        return int(message["chat"]["id"]) if message else int(query["from"]["id"])
    return None


def call_text(call: RecordedCall) -> str:
    value = call.params.get("text") or call.params.get("caption") or ""
    return value if isinstance(value, str) else str(value)


class Tracker:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.waits: dict[int, Wait] = {}
        self._callback_chats: dict[str, int] = {}
        # Calls per method and refused calls (error code) over the tracker's life.
        self.methods: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()
        # Optional: every call and handed-out update, for calibration of the baseline.
        self.recording: list[tuple[float, RecordedCall]] | None = None
        self.listeners: list[Callable[[float, RecordedCall], None]] = []
        emulator.observers.append(self.observe)
        # In webhook mode an update is handed out when the emulator posts it.
        emulator.webhooks.observers.append(self.posted)

    def close(self) -> None:
        if self.observe in self.emulator.observers:
            self.emulator.observers.remove(self.observe)
        if self.posted in self.emulator.webhooks.observers:
            self.emulator.webhooks.observers.remove(self.posted)
        for wait in self.waits.values():
            if not wait.future.done():
                wait.future.cancel()
        self.waits.clear()

    def expect(self, chat_id: int, done: Done) -> Wait:
        if chat_id in self.waits:
            raise RuntimeError(f"chat {chat_id} already has a step in flight")
        wait = Wait(chat_id, done, asyncio.get_running_loop().create_future())
        wait.injected = time.perf_counter()
        self.waits[chat_id] = wait
        return wait

    def forget(self, chat_id: int) -> None:
        wait = self.waits.pop(chat_id, None)
        if wait is not None and not wait.future.done():
            wait.future.cancel()

    def chat_of(self, call: RecordedCall) -> int | None:
        chat = call.params.get("chat_id")
        if isinstance(chat, int):
            return chat
        query_id = call.params.get("callback_query_id")
        if query_id is not None:
            return self._callback_chats.pop(str(query_id), None)
        return None

    def observe(self, call: RecordedCall) -> None:
        now = time.perf_counter()
        if self.recording is not None:
            self.recording.append((now, call))
        for listener in self.listeners:
            listener(now, call)
        if call.method in POLLING:
            if call.ok and call.result:
                for update in call.result:
                    self._handed_out(now, update)
            return
        self.methods[call.method] += 1
        if call.error_code:
            self.errors[call.error_code] += 1
        chat = self.chat_of(call)
        if chat is None:
            return
        wait = self.waits.get(chat)
        if wait is None:
            return
        wait.methods.append(call.method)
        if not call.ok:
            wait.errors += 1
            return
        if wait.done(call):
            wait.answered = now
            del self.waits[chat]
            if not wait.future.done():
                wait.future.set_result(None)

    def posted(self, update: dict[str, Any]) -> None:
        self._handed_out(time.perf_counter(), update)

    def _handed_out(self, now: float, update: dict[str, Any]) -> None:
        query = update.get("callback_query")
        chat = update_chat(update)
        if query is not None and chat is not None:
            self._callback_chats[str(query["id"])] = chat
        if chat is None:
            return
        wait = self.waits.get(chat)
        if wait is not None and wait.handed is None:
            wait.handed = now
