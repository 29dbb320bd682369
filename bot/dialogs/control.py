"""The citizen's dialog as the operator desk steers it (core.desk.DialogControl).

An operator's action arrives in the operator's update, not the citizen's; each method here takes
the citizen's own dialog lock first, so it cannot interleave with an update of the citizen (whose
handler would otherwise write its stale state back over the operator's change).
"""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.methods import SendMessage

from bot import keyboards
from bot.delivery import Delivery
from bot.dialogs.answers import Answers, answers_from
from bot.dialogs.flow import CitizenChat, Dialog, move
from bot.dialogs.restoration import Restoration, SupportChat
from bot.dialogs.situation import standing_of
from bot.i18n import Texts
from bot.locks import DialogLocks, private_dialog
from core.ports import UnitOfWorkFactory
from core.restoration import RestorationService


async def pause(state: FSMContext, answers: Answers) -> None:
    """From now on the citizen's messages go to the operators; the step is remembered.
    Called with the citizen's lock held (their own update, or CitizenDialogs below)."""
    current = await state.get_state()
    if current != SupportChat.with_operator.state:
        answers.resume_state = current
    await move(state, SupportChat.with_operator, answers)


class CitizenDialogs:
    def __init__(
        self,
        *,
        bot_id: int,
        storage: BaseStorage,
        locks: DialogLocks,
        dialog: Dialog,
        delivery: Delivery,
        texts: Texts,
        uow_factory: UnitOfWorkFactory,
        restoration: RestorationService,
    ) -> None:
        self._bot_id = bot_id
        self._storage = storage
        self._locks = locks
        self._dialog = dialog
        self._delivery = delivery
        self._texts = texts
        self._uow_factory = uow_factory
        self._restoration = restoration

    def state_of(self, user_id: int) -> FSMContext:
        # The key aiogram builds for a private chat: chat id == user id, no thread.
        key = StorageKey(bot_id=self._bot_id, chat_id=user_id, user_id=user_id)
        return FSMContext(storage=self._storage, key=key)

    async def locale_of(self, user_id: int) -> str:
        answers = answers_from(await self.state_of(user_id).get_data())
        if answers.locale:
            return answers.locale
        async with self._uow_factory(read_only=True) as uow:
            citizen = await uow.citizens.get(user_id)
        return citizen.locale if citizen else self._texts.default_locale

    async def pause(self, user_id: int) -> None:
        async with self._locks.hold(private_dialog(user_id)):
            state = self.state_of(user_id)
            await pause(state, answers_from(await state.get_data()))

    async def resume(self, user_id: int, *, notice: str | None) -> None:
        async with self._locks.hold(private_dialog(user_id)):
            state = self.state_of(user_id)
            if await state.get_state() != SupportChat.with_operator.state:
                return  # the citizen went back by themselves already
            answers = answers_from(await state.get_data())
            locale = await self.locale_of(user_id)
            with self._texts.use_locale(locale):
                if notice is not None:
                    # The notice fits where the citizen stands (form, submitted, finished...).
                    standing = await standing_of(
                        user_id, form_step=answers.resume_state, restoration=self._restoration
                    )
                    text = self._texts.t(standing.key(notice), number=standing.number)
                    await self._delivery.send(
                        SendMessage(chat_id=user_id, text=text), chat_id=user_id
                    )
                chat = CitizenChat(self._delivery, user_id)
                await self._dialog.resume(chat, state, answers)

    async def reopen_scan(self, user_id: int, application_id: int) -> None:
        async with self._locks.hold(private_dialog(user_id)):
            state = self.state_of(user_id)
            answers = answers_from(await state.get_data())
            answers.rescan_application_id = application_id
            answers.resume_state = None
            with self._texts.use_locale(await self.locale_of(user_id)):
                await self._dialog.ask(
                    CitizenChat(self._delivery, user_id),
                    state,
                    answers,
                    Restoration.passport_scan,
                    text=self._texts.t("support.new_scan_requested"),
                    markup=keyboards.operator_only(),
                )
