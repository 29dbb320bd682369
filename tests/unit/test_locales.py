"""Every text the bot can show exists in Russian and English, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.app import COMMANDS, DESK_COMMANDS
from bot.desk.templates import REJECTION_CODES, TEMPLATES
from bot.dialogs.restoration import STEPS, Restoration
from bot.i18n import LOCALES, load_catalog
from core.models import ApplicationStatus, DeliveryMethod, LossReason
from core.next_step import NextStepKind
from core.policy_document import POLICY_LABEL_KEYS
from core.reminders import ReminderTopic
from core.restoration import RejectionReason
from core.scan_check import ScanProblem
from core.support import ConversationStatus
from core.validators import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
LITERAL_KEY = re.compile(r"""\b(?:t|_button)\(\s*(?:t,\s*)?["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""")


def catalog(locale: str) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in load_catalog(locale) if m.id}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def keys_used_in_code() -> set[str]:
    keys: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        keys.update(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    keys.update(f"reason.{r.value}" for r in LossReason)
    keys.update(f"delivery.{d.value}" for d in DeliveryMethod)
    keys.update(f"status.name.{s.value}" for s in ApplicationStatus)
    keys.update(f"invalid.{code.value}" for code in InvalidInput)
    keys.update(f"scan.error.{p.value}" for p in ScanProblem)
    keys.update(f"rejection.{r.value}" for r in RejectionReason)
    keys.update(f"command.{name}" for name in (*COMMANDS, *DESK_COMMANDS))
    keys.update(POLICY_LABEL_KEYS)
    keys.update(step.prompt for step in STEPS)
    keys.update(step.hint for step in STEPS)
    keys.update(f"step_name.{state.state.split(':')[-1]}" for state in Restoration.__states__)
    keys.update(f"desk.card.status.{status.value}" for status in ConversationStatus)
    keys.update(f"template.{name}.{part}" for name in TEMPLATES for part in ("title", "text"))
    keys.update(f"rejection.{code}" for code in REJECTION_CODES)
    keys.update(f"next.{kind.value}" for kind in NextStepKind)
    citizens_topics = [t for t in ReminderTopic if t is not ReminderTopic.OVERDUE]
    keys.update(f"reminder.{topic.value}" for topic in citizens_topics)
    keys.update(f"reminder.settings.item.{topic.value}" for topic in citizens_topics)
    keys.update(("reminder.button.on", "reminder.button.off"))
    return keys


@pytest.mark.parametrize("locale", LOCALES)
def test_every_key_used_by_the_bot_is_translated(locale: str) -> None:
    texts = catalog(locale)
    missing = sorted(k for k in keys_used_in_code() if not texts.get(k))
    assert missing == []


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    ru, en = catalog("ru"), catalog("en")
    assert set(ru) == set(en)
    differing = [k for k in ru if placeholders(ru[k]) != placeholders(en[k])]
    assert differing == []


def test_russian_catalogue_declares_three_plural_forms() -> None:
    assert load_catalog("ru").num_plurals == 3


def test_no_russian_text_in_python_code() -> None:
    cyrillic_literal = re.compile(r"""["'][^"'\n]*[А-Яа-яЁё][^"'\n]*["']""")
    offenders = []
    for folder in ("bot", "core", "storage", "sandbox"):
        for path in (ROOT / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if cyrillic_literal.search(code):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []


# Words the Russian texts once spelled with «е» where they need «ё»; the catalogue uses «ё».
YO_WORDS = (
    "ещё",
    "нашёл",
    "возвращён",
    "вернёт",
    "займёт",
    "счёт",
    "чёткое",
    "нечётким",
    "повреждён",
    "защищён",
    "подтверждённой",
    "даётся",
)


def test_russian_texts_write_yo() -> None:
    spelled_with_ye = {word: word.replace("ё", "е") for word in YO_WORDS}
    offenders = sorted(
        f"{key}: {plain}"
        for key, text in catalog("ru").items()
        for plain in spelled_with_ye.values()
        if re.search(rf"(?<!\w){plain}(?!\w)", text, re.IGNORECASE)
    )
    assert offenders == []
