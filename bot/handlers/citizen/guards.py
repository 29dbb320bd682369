"""What must not reach the dialog's steps: buttons on messages too old to act on, and commands
the bot does not have (a step taking text would otherwise read "/whatever" as its answer)."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InaccessibleMessage, Message

from bot.dialogs.answers import Answers
from bot.dialogs.flow import Dialog
from bot.handlers.citizen.fallback import hint_for
from bot.i18n import t

# Included before every other citizen router.
too_old = Router(name=f"{__name__}.too_old")
# Included after every router with commands (and the operator chat, which relays everything).
unknown_commands = Router(name=f"{__name__}.unknown_commands")


async def on_inaccessible_message(query: CallbackQuery) -> bool:
    # Telegram shows the bot a message older than 48 hours only as its chat and id.
    return isinstance(query.message, InaccessibleMessage)


@too_old.callback_query(on_inaccessible_message)
async def button_too_old(query: CallbackQuery) -> None:
    await query.answer(t("hint.stale_button"), show_alert=True)


async def is_command(message: Message) -> bool:
    return any(e.type == "bot_command" and e.offset == 0 for e in message.entities or ())


@unknown_commands.message(is_command)
async def unknown_command(
    message: Message, state: FSMContext, answers: Answers, dialog: Dialog
) -> None:
    """Not one of ours (or another bot's, "/help@other_bot"): say so, then the step's hint."""
    text, markup = hint_for(await state.get_state(), dialog, answers)
    await message.answer(f"{t('input.unknown_command')}\n\n{text}", reply_markup=markup)
