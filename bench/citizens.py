"""Citizens acting in the emulator, in-process: what the sandbox's control API does for a browser
page, minus the HTTP, so the driver spends its (shared) CPU on the emulator's Bot API side.

The electronic journey is nine steps; each ends when the bot's answer carrying the step's
expected text arrives (texts come from the bot's locale files, as in the e2e tests).
"""

from __future__ import annotations

import asyncio
import copy
import re
from dataclasses import dataclass
from typing import Any

from bench.register import BenchPerson, person
from bench.tracker import Tracker, Wait, call_text
from bot.i18n import Texts, create_texts
from sandbox.demo_scan import demo_passport_scan
from sandbox.emulator import Emulator, RecordedCall, actions

ANSWER_METHODS = frozenset({"sendMessage", "editMessageText", "sendDocument", "sendPhoto"})
_MARKUP = re.compile(r"<[^>]+>|\{[^}]*\}|\n")


@dataclass(frozen=True)
class Step:
    name: str
    expect: str  # locale key of the answer that completes the step
    action: str  # command | press | contact | text | photo
    arg: str = ""  # the command, or the locale key of the button's label


JOURNEY: tuple[Step, ...] = (
    Step("/start", "restore.consent.prompt", "command", "/start"),
    Step("consent", "restore.contact.prompt", "press", "button.consent_accept"),
    Step("contact", "restore.profile.prompt", "contact"),
    Step("confirm profile", "restore.reason.prompt", "press", "button.its_me"),
    Step("reason", "restore.passport.prompt", "press", "reason.lost"),
    Step("passport number", "restore.scan.prompt", "text"),
    Step("scan upload", "restore.delivery.prompt", "photo"),
    Step("delivery", "summary.title", "press", "delivery.electronic"),
    Step("submit", "summary.submitted", "press", "button.submit"),
)
STEP_NAMES = tuple(step.name for step in JOURNEY)


def snippet(template: str) -> str:
    """The longest literal piece of a message template: no markup, no placeholders."""
    pieces = [piece.strip() for piece in _MARKUP.split(template)]
    return max(pieces, key=len)


@dataclass
class Sample:
    step: str
    injected: float
    handed: float
    answered: float
    calls: int
    errors: int

    @property
    def latency(self) -> float:
        return self.answered - self.handed


class Driver:
    """People for the bot to talk to: creates them and carries out their steps."""

    def __init__(self, emulator: Emulator, tracker: Tracker, texts: Texts | None = None) -> None:
        self.emulator = emulator
        self.world = emulator.world
        self.tracker = tracker
        self.texts = texts or create_texts()
        self.snippets = {step.expect: self._snippet(step.expect) for step in JOURNEY}
        self.labels = {
            step.arg: self.texts.t(step.arg, locale="ru")
            for step in JOURNEY
            if step.action == "press"
        }
        # One upload, shared: the emulator's resizing is the client's work, not the bot's.
        self._photo_sizes = self.world.files.add_photo(demo_passport_scan())

    def _snippet(self, key: str) -> str:
        return snippet(self.texts.t(key, locale="ru"))

    def answer_check(self, key: str) -> Any:
        text = self.snippets.get(key) or self._snippet(key)

        def done(call: RecordedCall) -> bool:
            return call.method in ANSWER_METHODS and text in call_text(call)

        return done

    def citizen(self, user_id: int, person_index: int) -> Citizen:
        self.world.add_user(user_id, "Пётр", "Тестов", language_code="ru")
        return Citizen(self, user_id, person(person_index))


class Citizen:
    def __init__(self, driver: Driver, user_id: int, who: BenchPerson) -> None:
        self.driver = driver
        self.user_id = user_id
        self.person = who
        self.samples: list[Sample] = []

    async def step(self, step: Step, timeout: float = 60.0) -> Sample:
        driver = self.driver
        wait = driver.tracker.expect(self.user_id, driver.answer_check(step.expect))
        try:
            pressing = self._act(step, timeout)
            if pressing is not None:
                await asyncio.wait_for(asyncio.gather(pressing, wait.future), timeout)
            else:
                await asyncio.wait_for(wait.future, timeout)
        except BaseException:
            driver.tracker.forget(self.user_id)
            raise
        sample = _sample(step.name, wait)
        self.samples.append(sample)
        return sample

    def _act(self, step: Step, timeout: float) -> Any:
        world = self.driver.world
        chat = world.chats[self.user_id]
        user = world.users[self.user_id]
        if step.action == "press":
            label = self.driver.labels[step.arg]
            return actions.press(world, chat, user, label, wait_seconds=timeout)
        if step.action == "command":
            content = actions.text_content(step.arg)
        elif step.action == "text":
            content = actions.text_content(self.person.passport)
        elif step.action == "contact":
            content = actions.contact_content(user, self.person.phone, own=True)
        elif step.action == "photo":
            content = {"photo": copy.deepcopy(self.driver._photo_sizes)}
        else:
            raise ValueError(step.action)
        actions.user_message(world, chat, user, content)
        return None

    async def journey(self, steps: tuple[Step, ...] = JOURNEY, timeout: float = 60.0) -> None:
        for step in steps:
            await self.step(step, timeout)


def _sample(name: str, wait: Wait) -> Sample:
    assert wait.handed is not None and wait.answered is not None
    return Sample(name, wait.injected, wait.handed, wait.answered, len(wait.methods), wait.errors)
