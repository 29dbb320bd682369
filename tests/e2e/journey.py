"""A citizen going through the dialog, written in the bot's own texts (so tests follow the
locale files, not copies of them)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from bot.i18n import Texts
from sandbox.client import SandboxClient, UserHandle, message_text
from tests.fixtures_scans import make_jpeg

TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Person:
    phone: str
    passport: str
    enp: str
    surname: str
    region: str


# From the demo register (storage/demo/register.csv).
IVANOV = Person("+79990000001", "45 08 123456", "0040106028104484", "Иванов", "г. Москва")
PETROVA = Person("+79990000002", "4512 654321", "5020325585569078", "Петрова", "г. Москва")
KOZLOV = Person(
    "+79990000015", "5014 606060", "6390232227177619", "Козлов", "Новосибирская область"
)
UNKNOWN_PHONE = "+79998887766"


def plain(text: str) -> str:
    return html.unescape(TAG.sub("", text))


def button_labels(message: dict[str, Any]) -> list[str]:
    """Labels of a message's inline keyboard, row by row."""
    markup = message.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


async def new_citizen(
    client: SandboxClient, texts: Texts, user_id: int = 7001, lang: str = "ru"
) -> Citizen:
    user = await client.user(user_id=user_id, first_name="Ivan", language_code=lang)
    return Citizen(user, texts, locale=lang)


class Citizen:
    def __init__(self, user: UserHandle, texts: Texts, locale: str = "ru") -> None:
        self.user = user
        self.texts = texts
        self.locale = locale
        self.presses: list[dict[str, Any]] = []  # every callback button pressed, as answered

    def t(self, key: str, **params: Any) -> str:
        return plain(self.texts.t(key, locale=self.locale, **params))

    def snippet(self, key: str) -> str:
        """A piece of a text that does not depend on its placeholders."""
        template = plain(self.texts.t(key, locale=self.locale))
        head = template.split("{", 1)[0].strip().splitlines()[0] if "{" in template else template
        return head.strip().splitlines()[0][:60]

    async def expect(self, key: str, timeout: float = 10.0) -> dict[str, Any]:
        return await self.user.wait_text(self.snippet(key), timeout)

    async def press(self, key: str, **params: Any) -> dict[str, Any]:
        return await self.press_label(self.t(key, **params))

    async def press_label(self, label: str) -> dict[str, Any]:
        result = await self.user.press(label)
        if result.get("kind") == "callback":
            self.presses.append(result)
        return result

    def step_line(self, number: int) -> str:
        return self.t("restore.step", number=number, total=6)

    async def expect_hint(self, hint_key: str, step: int) -> dict[str, Any]:
        """The hint of a step, headed "Step N of 6", after the last action."""
        line, hint = self.step_line(step), self.snippet(hint_key)
        return await self.user.wait_for(
            lambda m: line in message_text(m) and hint in message_text(m)
        )

    async def last_message(self) -> dict[str, Any]:
        messages = await self.user.messages()
        return messages[-1]

    # --- the steps of the journey -------------------------------------------------------

    async def consent(self) -> None:
        await self.user.send_command("/start")
        await self.expect("restore.consent.prompt")
        await self.press("button.consent_accept")
        await self.expect("restore.contact.prompt")

    async def login(self, person: Person) -> None:
        await self.user.share_contact(phone=person.phone, own=True)
        await self.expect("restore.profile.prompt")
        await self.press("button.its_me")
        await self.expect("restore.reason.prompt")

    async def reason(self, reason: str = "lost") -> None:
        await self.press(f"reason.{reason}")
        await self.expect("restore.passport.prompt")

    async def passport(self, person: Person) -> None:
        await self.user.send_text(person.passport)
        await self.expect("restore.scan.prompt")

    async def scan(self, data: bytes | None = None) -> None:
        await self.user.send_photo(data or make_jpeg(1200, 800))
        await self.expect("restore.delivery.prompt")

    async def to_delivery(self, person: Person = IVANOV) -> None:
        await self.consent()
        await self.login(person)
        await self.reason()
        await self.passport(person)
        await self.scan()

    async def choose_electronic(self) -> dict[str, Any]:
        await self.press("delivery.electronic")
        return await self.expect("summary.title")

    async def choose_post(
        self, postcode: str = "101000", address: str = "Moscow, Tverskaya 1, 5"
    ) -> None:
        await self.press("delivery.post")
        await self.expect("restore.postcode.prompt")
        await self.user.send_text(postcode)
        await self.expect("restore.address.prompt")
        await self.user.send_text(address)
        await self.expect("summary.title")

    async def choose_pickup(self) -> None:
        await self.press("delivery.pickup")
        await self.expect("restore.office.prompt")
        messages = await self.user.messages()
        keyboard = messages[-1]["reply_markup"]["inline_keyboard"]
        await self.press_label(keyboard[0][0]["text"])
        await self.expect("summary.title")

    async def submit(self) -> str:
        await self.press("button.submit")
        message = await self.expect("summary.submitted")
        number = re.search(r"\d{4}-\d{6}", message_text(message))
        assert number is not None, message_text(message)
        return number.group(0)

    async def wait_status(self, status: str, timeout: float = 15.0) -> dict[str, Any]:
        """The push telling that the application reached `status` (statuses arrive in order)."""
        pattern = re.compile(rf": {re.escape(self.t(f'status.name.{status}'))}(\n|$)")
        return await self.user.wait_for(lambda m: bool(pattern.search(message_text(m))), timeout)
