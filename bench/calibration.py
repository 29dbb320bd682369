"""Records what the real bot does for each step of one citizen's journey, so the bare aiogram
baseline (bench/baseline_bot.py) can make exactly the same calls."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.citizens import JOURNEY, Citizen, Step
from bench.tracker import POLLING, Tracker, update_chat
from sandbox.emulator import RecordedCall

QUIET_SECONDS = 0.8  # longer than the bot's outbox tick, so a push after the answer is caught


def signature(update: dict[str, Any]) -> str:
    """The kind of update, as the baseline tells them apart (see baseline_bot.signature)."""
    query = update.get("callback_query")
    if query is not None:
        return f"callback:{query.get('data')}"
    message = update.get("message") or {}
    if "contact" in message:
        return "contact"
    if "photo" in message or "document" in message:
        return "file"
    text = message.get("text", "")
    if text.startswith("/"):
        return f"command:{text.split()[0]}"
    return "text"


def template(call: RecordedCall, chat_id: int, update: dict[str, Any]) -> dict[str, Any]:
    """The call with this update's ids replaced by placeholders the baseline fills in."""
    if call.files:
        raise ValueError(f"{call.method} uploads a file; the baseline cannot replay that")
    query = update.get("callback_query") or {}
    message_id = (query.get("message") or update.get("message") or {}).get("message_id")
    params: dict[str, Any] = {}
    for name, value in call.params.items():
        if name == "chat_id" and value == chat_id:
            value = "$chat"
        elif name == "message_id" and value == message_id:
            value = "$message"
        elif name == "callback_query_id" and value == query.get("id"):
            value = "$callback"
        elif name == "file_id" and call.method == "getFile":
            value = "$file"
        params[name] = value
    return {"method": call.method, "params": params}


async def _quiet(tracker: Tracker, since: list[tuple[float, RecordedCall]]) -> None:
    while True:
        await asyncio.sleep(0.1)
        calls = [t for t, c in since if c.method not in POLLING]
        if not calls or time.perf_counter() - calls[-1] > QUIET_SECONDS:
            return


async def record_journey(
    tracker: Tracker, citizen: Citizen, steps: tuple[Step, ...] = JOURNEY
) -> dict[str, Any]:
    """One citizen through `steps`, alone: every call the bot made per step."""
    script: dict[str, Any] = {"steps": {}}
    for step in steps:
        tracker.recording = recording = []
        await citizen.step(step)
        await _quiet(tracker, recording)
        tracker.recording = None
        update = next(
            u
            for _, call in recording
            if call.method == "getUpdates" and call.ok
            for u in call.result or ()
            if update_chat(u) == citizen.user_id
        )
        calls = [c for _, c in recording if c.method not in POLLING and c.ok]
        script["steps"][signature(update)] = {
            "name": step.name,
            "calls": [template(c, citizen.user_id, update) for c in calls],
        }
    return script


def sends_per_step(script: dict[str, Any]) -> dict[str, list[str]]:
    return {s["name"]: [c["method"] for c in s["calls"]] for s in script["steps"].values()}
