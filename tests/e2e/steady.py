"""A citizen who carries on whatever happens to the bot's processes (kill -9, a web worker gone):
acts on the step their dialog is at, read from where the bot keeps it, and does it again when no
answer came, as people do when a message seems lost. Used by the crash and scale-out tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sandbox.client import SandboxError, SandboxTimeoutError
from tests.e2e.journey import IVANOV, Citizen, button_labels
from tests.fixtures_scans import make_jpeg

SCAN = make_jpeg(1200, 800)


class Records(Protocol):
    """Where the test reads what the bot recorded (its database, its Redis)."""

    async def step(self, user_id: int) -> str:
        """The step the citizen's dialog is at ("" before /start)."""
        ...

    async def submitted(self, user_id: int) -> bool: ...


class SteadyCitizen:
    def __init__(
        self,
        records: Records,
        citizen: Citizen,
        plan: str = "electronic",
        on_scan: Callable[[], None] | None = None,
    ) -> None:
        self.records = records
        self.c = citizen
        self.plan = plan
        self.uid = citizen.user.user_id
        self.on_scan = on_scan  # told when the scan has been sent (a moment to kill at)
        self.repeated = 0  # actions done again because no answer came

    async def press(self, key: str, **params: Any) -> None:
        try:
            await self.c.user.press(self.c.t(key, **params), timeout=3)
        except SandboxError as error:
            if error.status != 404:
                raise
            # The buttons are gone (taken off by a tap a killed process was handling): ask again.
            await self.c.user.send_text("?")

    async def press_an_office(self) -> None:
        for message in reversed(await self.c.user.messages()):
            markup = message.get("reply_markup") or {}
            rows = markup.get("inline_keyboard", [])
            if any(b.get("callback_data", "").startswith("of:") for row in rows for b in row):
                label = button_labels(message)[0]
                await self.c.user.press(label, message_id=message["message_id"], timeout=3)
                return
        await self.c.user.send_text("?")

    async def send_scan(self) -> None:
        await self.c.user.send_photo(SCAN)
        if self.on_scan is not None:
            self.on_scan()

    def action(self, step: str) -> Callable[[], Awaitable[Any]]:
        user = self.c.user
        actions: dict[str, Callable[[], Awaitable[Any]]] = {
            "": lambda: user.send_command("/start"),
            "consent": lambda: self.press("button.consent_accept"),
            "contact": lambda: user.share_contact(phone=IVANOV.phone, own=True),
            "confirm_profile": lambda: self.press("button.its_me"),
            "reason": lambda: self.press("reason.lost"),
            "passport_number": lambda: user.send_text(IVANOV.passport),
            "passport_scan": self.send_scan,
            "delivery": lambda: self.press(f"delivery.{self.plan}"),
            "postcode": lambda: user.send_text("101000"),
            "address": lambda: user.send_text("Moscow, Tverskaya 1, 5"),
            "office": self.press_an_office,
            "summary": lambda: self.press("button.submit"),
        }
        return actions[step]

    async def journey(self) -> None:
        """Acts on the step the dialog is at until the application is submitted."""
        last = "-"
        for _ in range(60):
            if await self.records.submitted(self.uid):
                return
            step = await self.records.step(self.uid)
            if step == last:
                self.repeated += 1  # no answer came: do it again, as people do
            last = step
            await self.action(step)()
            await self.settle(step)
        raise AssertionError(f"citizen {self.uid} is stuck at {await self.records.step(self.uid)}")

    async def settle(self, before: str) -> None:
        """Wait for an answer, then for the dialog to move (either may never come)."""
        try:
            await self.c.user.wait_for(lambda m: True, timeout=4)
        except SandboxTimeoutError:
            pass
        for _ in range(20):
            if await self.records.step(self.uid) != before or await self.records.submitted(
                self.uid
            ):
                return
            await asyncio.sleep(0.1)
