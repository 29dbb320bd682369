"""Inline button payloads: ids and small enums only, always well under Telegram's 64 bytes."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from core.models import DeliveryMethod, LossReason


class ConsentAction(StrEnum):
    ACCEPT = "y"
    DECLINE = "n"
    SHOW_TEXT = "t"


class Consent(CallbackData, prefix="cs"):
    action: ConsentAction


class ProfileAnswer(CallbackData, prefix="me"):
    is_me: bool


class Reason(CallbackData, prefix="rs"):
    reason: LossReason


class Delivery(CallbackData, prefix="dl"):
    method: DeliveryMethod


class Office(CallbackData, prefix="of"):
    office_id: str


class EditField(StrEnum):
    REASON = "reason"
    PASSPORT = "passport"
    SCAN = "scan"
    DELIVERY = "delivery"


class Edit(CallbackData, prefix="ed"):
    field: EditField


class SummaryAction(StrEnum):
    SUBMIT = "submit"
    CANCEL_PAYMENT = "nopay"


class Summary(CallbackData, prefix="sm"):
    action: SummaryAction


class Language(CallbackData, prefix="lg"):
    locale: str


class ProfileAction(StrEnum):
    SET_EMAIL = "email"


class Profile(CallbackData, prefix="pf"):
    action: ProfileAction


class ForgetAction(StrEnum):
    ASK = "ask"
    CONFIRM = "yes"
    CANCEL = "no"


class Forget(CallbackData, prefix="fg"):
    """Withdraw consent and erase one's data (/forget_me, or from /profile)."""

    action: ForgetAction


class AskOperator(CallbackData, prefix="op"):
    """ "Contact an operator", offered at every step of the dialog."""


class Restart(CallbackData, prefix="rst"):
    """Start the journey again (after a dead end such as an unknown phone)."""


class BackToForm(CallbackData, prefix="bf"):
    """The citizen leaves the operator chat and returns to the form."""


class DeskAction(StrEnum):
    TAKE = "take"
    RELEASE = "back"
    APPROVE = "ok"
    REJECT = "no"
    NEW_SCAN = "scan"
    HANDED_OVER = "done"
    COLLECTED = "got"  # the paper copy was handed to the citizen at the office


class Desk(CallbackData, prefix="dk"):
    """A button on an operator's card; ids only."""

    action: DeskAction
    user_id: int
    application_id: int = 0


class DeskReject(CallbackData, prefix="dr"):
    code: str  # a rejection template, or TYPED_REASON for the operator's own words
    user_id: int
    application_id: int


class DeskTemplate(CallbackData, prefix="dt"):
    name: str
    user_id: int


TYPED_REASON = "typed"


class ReminderAction(StrEnum):
    CONTINUE = "go"  # back to the step the citizen stopped at
    ON = "on"
    OFF = "off"


class Reminder(CallbackData, prefix="rm"):
    """A reminder's "continue" button and /reminders' switch; no id needed: the dialog is the
    citizen's own."""

    action: ReminderAction


class EmailAction(StrEnum):
    REMOVE = "rm"  # stop emails: the confirmed address is forgotten


class Email(CallbackData, prefix="em"):
    action: EmailAction
