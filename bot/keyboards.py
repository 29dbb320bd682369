"""Keyboards of the dialog. Every label comes from the locale files."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from typing import ParamSpec, TypeVar

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot import callbacks as cb
from bot.i18n import Texts, t
from core.models import DeliveryMethod, LossReason, PickupOffice

P = ParamSpec("P")
M = TypeVar("M")


def per_locale(build: Callable[P, M]) -> Callable[P, M]:
    """Build a keyboard once per language and arguments, then hand out the same one.

    Building one is a pydantic validation per button and a packed callback each: for /start's
    consent keyboard that was about a sixth of the update's CPU. aiogram's types are frozen, so
    one instance can go out with any number of messages. The arguments must be hashable; the
    variants are few (two languages, a handful of flags, the offices of each region).
    """
    built: dict[tuple[Hashable, ...], M] = {}

    @functools.wraps(build)
    def cached(*args: P.args, **kwargs: P.kwargs) -> M:
        texts = Texts.get_current(no_error=False)
        key = (texts, texts.current_locale, args, tuple(sorted(kwargs.items())))
        keyboard = built.get(key)
        if keyboard is None:
            keyboard = built[key] = build(*args, **kwargs)
        return keyboard

    return cached


def _button(text_key: str, data: cb.CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=t(text_key), callback_data=data.pack())


def _operator_row() -> list[InlineKeyboardButton]:
    return [_button("button.operator", cb.AskOperator())]


def inline(
    rows: Sequence[Sequence[InlineKeyboardButton]], *, operator: bool = True
) -> InlineKeyboardMarkup:
    keyboard = [list(row) for row in rows]
    if operator:
        keyboard.append(_operator_row())
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


@per_locale
def operator_only() -> InlineKeyboardMarkup:
    return inline([])


@per_locale
def consent() -> InlineKeyboardMarkup:
    return inline(
        [
            [_button("button.consent_accept", cb.Consent(action=cb.ConsentAction.ACCEPT))],
            [_button("button.consent_text", cb.Consent(action=cb.ConsentAction.SHOW_TEXT))],
            [_button("button.consent_decline", cb.Consent(action=cb.ConsentAction.DECLINE))],
        ]
    )


@per_locale
def share_contact() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=t("button.share_contact"), request_contact=True)],
            # An inline button cannot sit beside a reply keyboard: the operator is a text button.
            [KeyboardButton(text=t("button.operator"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=t("button.share_contact_placeholder"),
    )


@per_locale
def profile_confirmation() -> InlineKeyboardMarkup:
    return inline(
        [
            [
                _button("button.its_me", cb.ProfileAnswer(is_me=True)),
                _button("button.not_me", cb.ProfileAnswer(is_me=False)),
            ]
        ]
    )


@per_locale
def dead_end() -> InlineKeyboardMarkup:
    """Never leave a citizen with nothing to press: a human, or start again."""
    return inline([[_button("button.restart", cb.Restart())]])


@per_locale
def reasons() -> InlineKeyboardMarkup:
    return inline(
        [[_button(f"reason.{reason.value}", cb.Reason(reason=reason))] for reason in LossReason]
    )


@per_locale
def delivery_methods(
    methods: Sequence[DeliveryMethod] = tuple(DeliveryMethod),
) -> InlineKeyboardMarkup:
    return inline(
        [[_button(f"delivery.{method.value}", cb.Delivery(method=method))] for method in methods]
    )


def offices(items: Sequence[PickupOffice]) -> InlineKeyboardMarkup:
    return _offices(tuple(items))


@per_locale
def _offices(items: tuple[PickupOffice, ...]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=office.name, callback_data=cb.Office(office_id=office.id).pack()
            )
        ]
        for office in items
    ]
    rows.append([_button("button.other_delivery", cb.Edit(field=cb.EditField.DELIVERY))])
    return inline(rows)


@per_locale
def summary() -> InlineKeyboardMarkup:
    return inline(
        [
            [_button("button.edit_reason", cb.Edit(field=cb.EditField.REASON))],
            [_button("button.edit_passport", cb.Edit(field=cb.EditField.PASSPORT))],
            [_button("button.edit_scan", cb.Edit(field=cb.EditField.SCAN))],
            [_button("button.edit_delivery", cb.Edit(field=cb.EditField.DELIVERY))],
            [_button("button.submit", cb.Summary(action=cb.SummaryAction.SUBMIT))],
        ]
    )


def invoice(pay_text: str) -> InlineKeyboardMarkup:
    # Telegram requires the pay button first in an invoice's keyboard.
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=pay_text, pay=True)],
            [_button("button.cancel_payment", cb.Summary(action=cb.SummaryAction.CANCEL_PAYMENT))],
        ]
    )


@per_locale
def languages() -> InlineKeyboardMarkup:
    return inline(
        [
            [
                InlineKeyboardButton(
                    text=t("lang.name", locale=code), callback_data=cb.Language(locale=code).pack()
                )
                for code in ("ru", "en")
            ]
        ],
        operator=False,
    )


@per_locale
def profile(*, email: bool = True, confirmed: bool = False) -> InlineKeyboardMarkup:
    """The email buttons only when email is configured (SMTP_URL); withdrawing consent always."""
    rows = []
    if email:
        rows.append([_button("button.set_email", cb.Profile(action=cb.ProfileAction.SET_EMAIL))])
        if confirmed:
            rows.append([_button("email.button.remove", cb.Email(action=cb.EmailAction.REMOVE))])
    rows.append([_button("button.forget_me", cb.Forget(action=cb.ForgetAction.ASK))])
    return inline(rows, operator=False)


@per_locale
def forget_confirmation() -> InlineKeyboardMarkup:
    return inline(
        [
            [_button("button.forget_confirm", cb.Forget(action=cb.ForgetAction.CONFIRM))],
            [_button("button.forget_cancel", cb.Forget(action=cb.ForgetAction.CANCEL))],
        ],
        operator=False,
    )


_REMOVE = ReplyKeyboardRemove()


def remove() -> ReplyKeyboardRemove:
    return _REMOVE
