"""Registered last: whatever a step cannot take gets a short hint and the step stays."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.dialogs.answers import Answers, save_answers
from bot.dialogs.flow import Dialog, with_step
from bot.dialogs.restoration import Markup, ProfileForm, SupportChat, step_for
from bot.filters import Check
from bot.i18n import t

router = Router(name=__name__)


async def rest_of_album(message: Message, answers: Answers) -> bool:
    return message.media_group_id is not None and message.media_group_id == answers.album_id


def hint_for(current: str | None, dialog: Dialog, answers: Answers) -> tuple[str, Markup]:
    """What to say to something the current step cannot take, and the step's keyboard again:
    the prompt's buttons may be gone (taken off by a tap the bot could not finish, say in a
    crash), and "choose with a button" must never point at nothing."""
    if current == ProfileForm.email.state:
        # A side trip from the dialog: ask again rather than point to /start, which would
        # throw the citizen's answers away.
        return t("profile.ask_email"), None
    step = step_for(current)
    if step is None:
        return t("hint.start"), None
    return with_step(step.state, t(step.hint)), step.keyboard(dialog.context(answers))


@router.message(rest_of_album)
async def ignore_rest_of_album(message: Message) -> None:
    """The first file of an album was answered already (taken, or hinted at)."""


@router.message()
async def hint(message: Message, state: FSMContext, answers: Answers, dialog: Dialog) -> None:
    if message.media_group_id is not None:
        # An album comes as one update per file: one hint for all of them.
        answers.album_id = message.media_group_id
        await save_answers(state, answers)
    text, markup = hint_for(await state.get_state(), dialog, answers)
    await message.answer(text, reply_markup=markup)


@router.edited_message(Check(F.chat.type == "private"))
async def edited(message: Message, state: FSMContext, answers: Answers, dialog: Dialog) -> None:
    """Telegram sends edits of old messages too. Taking one as an answer would change an
    answer behind the dialog's back (or answer the wrong step), so ask for it anew."""
    current = await state.get_state()
    if current == SupportChat.with_operator.state:
        await message.answer(t("input.edited"))
        return
    text, markup = hint_for(current, dialog, answers)
    await message.answer(f"{t('input.edited')}\n\n{text}", reply_markup=markup)


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    """A button from an earlier step or an old message: say so instead of doing nothing."""
    await query.answer(t("hint.stale_button"), show_alert=True)
