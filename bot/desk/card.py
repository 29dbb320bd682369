"""What an operator sees first in a citizen's topic: the card and its buttons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Desk, DeskAction
from bot.dialogs.restoration import TOTAL_STEPS, step_for
from core.delivery_methods import policy_for
from core.models import Application, ApplicationStatus, InsuredPerson
from core.support import Conversation, ConversationStatus

Translate = Callable[..., str]
WHO = {"citizen": "👤", "bot": "🤖"}


def masked_phone(phone: str) -> str:
    return f"{phone[:5]}***{phone[-4:]}" if len(phone) > 9 else "***"


def render(
    t: Translate,
    *,
    conversation: Conversation,
    person: InsuredPerson | None,
    phone: str | None,
    blocked: bool,
    step_state: str | None,
    applications: Sequence[Application],
    recent: Sequence[tuple[str, str]],
) -> str:
    identity = escape(person.masked_profile) if person else t("desk.card.unidentified")
    lines = [
        t("desk.card.title", name=escape(conversation.citizen_name or t("desk.citizen"))),
        t("desk.card.identity", identity=identity),
    ]
    if person is not None:
        lines.append(t("desk.card.region", region=escape(person.region)))
    if phone:
        lines.append(t("desk.card.phone", phone=masked_phone(phone)))
    if blocked:
        lines.append(t("desk.card.blocked"))
    step = step_for(step_state)
    lines.append(
        t(
            "desk.card.step",
            number=step.number,
            total=TOTAL_STEPS,
            step=t(f"step_name.{step_state.split(':')[-1]}"),
        )
        if step is not None and step_state
        else t("desk.card.no_step")
    )
    lines.append(t(f"desk.card.status.{conversation.status.value}"))
    if applications:
        lines.append(t("desk.card.applications"))
        for application in applications:
            line = t(
                "desk.card.application",
                number=application.number,
                status=t(f"status.name.{application.status.value}"),
                delivery=t(f"delivery.{application.delivery.value}"),
            )
            lines.append(line)
    if recent:
        lines.append(t("desk.card.recent"))
        lines.extend(f"{WHO.get(who, '•')} {escape(text)}" for who, text in recent)
    return "\n".join(lines)


def _button(t: Translate, key: str, data: Desk) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=t(key), callback_data=data.pack())


def keyboard(
    t: Translate, conversation: Conversation, application: Application | None
) -> InlineKeyboardMarkup:
    user_id = conversation.user_id
    rows: list[list[InlineKeyboardButton]] = []
    talk: list[InlineKeyboardButton] = []
    if conversation.status is not ConversationStatus.WITH_OPERATOR:
        talk.append(_button(t, "desk.button.take", Desk(action=DeskAction.TAKE, user_id=user_id)))
    if conversation.status is not ConversationStatus.RELEASED:
        talk.append(
            _button(t, "desk.button.release", Desk(action=DeskAction.RELEASE, user_id=user_id))
        )
    if talk:
        rows.append(talk)
    if application is not None:
        act = dict(user_id=user_id, application_id=application.id)
        status = application.status
        if status in (ApplicationStatus.SUBMITTED, ApplicationStatus.PROCESSING):
            rows.append(
                [
                    _button(t, "desk.button.approve", Desk(action=DeskAction.APPROVE, **act)),
                    _button(t, "desk.button.reject", Desk(action=DeskAction.REJECT, **act)),
                ]
            )
        if not status.is_final and status is not ApplicationStatus.APPROVED:
            rows.append(
                [_button(t, "desk.button.new_scan", Desk(action=DeskAction.NEW_SCAN, **act))]
            )
        policy = policy_for(application.delivery)
        if status is ApplicationStatus.APPROVED and policy.handed_over_by_operator:
            key = f"desk.button.{policy.outcome.value}"
            rows.append([_button(t, key, Desk(action=DeskAction.HANDED_OVER, **act))])
        if status is ApplicationStatus.READY_FOR_PICKUP:
            # The citizen collected it: the "your policy is waiting" reminders stop.
            rows.append(
                [_button(t, "desk.button.collected", Desk(action=DeskAction.COLLECTED, **act))]
            )
    return InlineKeyboardMarkup(inline_keyboard=rows)
