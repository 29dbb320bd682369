"""An ordered log of everything that changes in the sandbox, for long polls and SSE streams."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

# Old events are dropped past this count so a long session does not grow without bound.
MAX_EVENTS = 20000


@dataclass
class Event:
    seq: int
    type: str
    chat_id: int | None
    data: dict[str, Any]
    time: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type,
            "chat_id": self.chat_id,
            "data": self.data,
            "time": self.time,
        }


class EventLog:
    def __init__(self) -> None:
        self._events: list[Event] = []
        self._seq = 0
        self._changed = asyncio.Event()
        self.closed = False

    @property
    def last_seq(self) -> int:
        return self._seq

    def publish(self, type_: str, chat_id: int | None, data: dict[str, Any]) -> Event:
        self._seq += 1
        event = Event(self._seq, type_, chat_id, data)
        self._events.append(event)
        if len(self._events) > MAX_EVENTS:
            del self._events[: len(self._events) - MAX_EVENTS]
        # Wake every waiter, then arm a fresh Event for the next change.
        self._changed.set()
        self._changed = asyncio.Event()
        return event

    def after(self, seq: int, chat_id: int | None = None) -> list[Event]:
        # A chat filter keeps only that chat's events (no global ones such as api_call).
        return [
            e for e in self._events if e.seq > seq and (chat_id is None or e.chat_id == chat_id)
        ]

    async def wait_after(
        self, seq: int, wait_seconds: float, chat_id: int | None = None
    ) -> list[Event]:
        """Events after ``seq`` (of ``chat_id``), waiting up to ``wait_seconds`` for one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            found = self.after(seq, chat_id)
            if found or self.closed:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            waiter = self._changed
            try:
                await asyncio.wait_for(waiter.wait(), remaining)
            except TimeoutError:
                return []

    def rebind(self) -> None:
        """Fresh wake-up primitive for a (re)started server."""
        self.closed = False
        self._changed = asyncio.Event()

    def close(self) -> None:
        self.closed = True
        self._changed.set()
