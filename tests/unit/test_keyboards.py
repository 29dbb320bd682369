"""Keyboards are built once per language and arguments, and still speak the current language."""

from __future__ import annotations

from bot import keyboards
from bot.i18n import create_texts
from core.models import DeliveryMethod


def labels(markup: object) -> list[str]:
    rows = getattr(markup, "inline_keyboard", None) or getattr(markup, "keyboard", [])
    return [button.text for row in rows for button in row]


def test_a_keyboard_is_built_once_per_language() -> None:
    texts = create_texts()
    with texts.context():
        with texts.use_locale("ru"):
            ru = keyboards.consent()
            assert keyboards.consent() is ru  # no pydantic validation per button per message
        with texts.use_locale("en"):
            en = keyboards.consent()
            assert keyboards.consent() is en

    assert en is not ru
    assert labels(ru) == [texts.t(f"button.{k}", locale="ru") for k in KEYS]
    assert labels(en) == [texts.t(f"button.{k}", locale="en") for k in KEYS]


KEYS = ("consent_accept", "consent_text", "consent_decline", "operator")


def test_keyboards_with_arguments_are_kept_apart() -> None:
    texts = create_texts()
    with texts.context(), texts.use_locale("en"):
        every = keyboards.delivery_methods()
        two = keyboards.delivery_methods((DeliveryMethod.ELECTRONIC, DeliveryMethod.POST))
        assert keyboards.delivery_methods() is every
        assert len(labels(every)) == len(DeliveryMethod) + 1
        assert len(labels(two)) == 3
        with_email = keyboards.profile(email=True, confirmed=True)
        without = keyboards.profile(email=False)
        assert keyboards.profile(email=True, confirmed=True) is with_email
        assert len(labels(with_email)) == 3
        assert len(labels(without)) == 1
