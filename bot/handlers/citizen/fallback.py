"""Registered last: whatever a step cannot take gets a short hint and the step stays."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.dialogs.answers import Answers
from bot.dialogs.flow import with_step
from bot.dialogs.restoration import ProfileForm, Restoration, step_for
from bot.i18n import t

router = Router(name=__name__)


async def rest_of_album(message: Message, answers: Answers) -> bool:
    return message.media_group_id is not None and message.media_group_id == answers.album_id


@router.message(rest_of_album)
async def ignore_rest_of_album(message: Message) -> None:
    """The first file of an album was taken and the citizen was told so."""


@router.message()
async def hint(message: Message, state: FSMContext) -> None:
    current = await state.get_state()
    if current == ProfileForm.email.state:
        # A side trip from the dialog: ask again rather than point to /start, which would
        # throw the citizen's answers away.
        await message.answer(t("profile.ask_email"))
        return
    step = step_for(current)
    if step is None:
        await message.answer(t("hint.start"))
        return
    markup = keyboards.share_contact() if step.state == Restoration.contact else None
    await message.answer(with_step(step.state, t(step.hint)), reply_markup=markup)


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    """A button from an earlier step or an old message: say so instead of doing nothing."""
    await query.answer(t("hint.stale_button"), show_alert=True)
