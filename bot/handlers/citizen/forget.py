"""/forget_me (also offered in /profile): the citizen withdraws consent and, once they confirm,
everything the bot keeps about them is erased; they are told what was deleted and what stays."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import Forget, ForgetAction
from bot.desk.history import RecentChats
from bot.dialogs.flow import callback_message, pressed
from bot.i18n import t
from core.retention import DataRetention, Erasure

router = Router(name=__name__)


def erasure_text(erasure: Erasure) -> str:
    if not erasure.found:
        return t("forget.nothing")
    lines = [t("forget.done")]
    if erasure.withdrawn:
        lines.append(t("forget.withdrawn", numbers=", ".join(erasure.withdrawn)))
    if erasure.kept:
        lines.append(t("forget.kept", numbers=", ".join(erasure.kept)))
    lines.append(t("forget.telegram"))
    return "\n\n".join(lines)


@router.message(Command("forget_me"))
async def forget_me(message: Message) -> None:
    await message.answer(t("forget.confirm"), reply_markup=keyboards.forget_confirmation())


@router.callback_query(Forget.filter(F.action == ForgetAction.ASK))
async def forget_asked(query: CallbackQuery) -> None:
    await query.answer()
    await callback_message(query).answer(
        t("forget.confirm"), reply_markup=keyboards.forget_confirmation()
    )


@router.callback_query(Forget.filter(F.action == ForgetAction.CANCEL))
async def forget_cancelled(query: CallbackQuery) -> None:
    message = await pressed(query)
    await message.answer(t("forget.cancelled"))


@router.callback_query(Forget.filter(F.action == ForgetAction.CONFIRM))
async def forget_confirmed(
    query: CallbackQuery, retention: DataRetention, recent: RecentChats
) -> None:
    message = await pressed(query)
    erasure = await retention.erase_citizen(query.from_user.id)
    await message.answer(erasure_text(erasure), reply_markup=keyboards.remove())
    recent.forget(query.from_user.id)  # last: the card's memory of this chat goes too
