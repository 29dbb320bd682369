"""Step 4: passport series and number, checked against the register, and a photo or scan."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.chat_action import ChatActionSender

from bot import keyboards
from bot.desk.service import OperatorDesk
from bot.dialogs.answers import Answers, save_answers
from bot.dialogs.flow import Dialog
from bot.dialogs.restoration import Restoration
from bot.filters import Check
from bot.i18n import t
from bot.messages import scan_rejected_text, validation_error_text
from bot.settings import Settings
from bot.uploads import ScanChecker, download_scan
from core.desk import SupportDesk
from core.errors import ApplicationNotFound
from core.models import StoredFile
from core.ports import Clock, FileVault, RegisterLookup
from core.restoration import RestorationService
from core.scan_check import ScanRejected
from core.support import RelayDirection
from core.validators import ValidationError, parse_passport

router = Router(name=__name__)
log = logging.getLogger(__name__)

MAX_PASSPORT_ATTEMPTS = 3
MAX_SCAN_BYTES = 10 * 1024 * 1024


@router.message(StateFilter(Restoration.passport_number), Check(F.text))
async def passport_typed(
    message: Message,
    state: FSMContext,
    answers: Answers,
    register: RegisterLookup,
    support: SupportDesk,
    dialog: Dialog,
    clock: Clock,
    settings: Settings,
) -> None:
    now = clock.now()
    if answers.passport_locked_until is not None:
        if now < answers.passport_locked_until:
            # Nothing typed is checked while locked, so guessing gains nothing.
            await message.answer(
                t("passport.locked", minutes=minutes_left(answers.passport_locked_until, now)),
                reply_markup=keyboards.operator_only(),
            )
            return
        answers.passport_attempts, answers.passport_locked_until = 0, None
        await save_answers(state, answers)
    try:
        passport = parse_passport(message.text or "")
    except ValidationError as error:
        await message.answer(validation_error_text(error), reply_markup=keyboards.operator_only())
        return
    person = register.by_enp(answers.enp) if answers.enp else None
    if person is None or person.passport != passport:
        answers.passport_attempts += 1
        left = MAX_PASSPORT_ATTEMPTS - answers.passport_attempts
        if left > 0:
            await save_answers(state, answers)
            await message.answer(
                t("passport.mismatch", n=left), reply_markup=keyboards.operator_only()
            )
            return
        answers.passport_locked_until = now + settings.passport_lock
        await save_answers(state, answers)
        await message.answer(
            t("passport.locked_now", minutes=minutes_left(answers.passport_locked_until, now)),
            reply_markup=keyboards.operator_only(),
        )
        if message.from_user is not None:
            await support.alert(
                message.from_user.id,
                message.from_user.first_name,
                reason="desk.reason.passport_mismatch",
            )
        return
    answers.passport_series, answers.passport_number = passport.series, passport.number
    answers.passport_attempts = 0
    await dialog.next_or_summary(message, state, answers, Restoration.passport_scan)


def minutes_left(until: datetime, now: datetime) -> int:
    """Whole minutes, rounded up: "1" until the lock is over, never "0"."""
    return max(1, math.ceil((until - now).total_seconds() / 60))


@router.message(StateFilter(Restoration.passport_scan), Check(F.photo | F.document))
async def scan_uploaded(
    message: Message,
    bot: Bot,
    state: FSMContext,
    answers: Answers,
    vault: FileVault,
    restoration: RestorationService,
    desk: OperatorDesk,
    dialog: Dialog,
    scan_checker: ScanChecker,
) -> None:
    if message.media_group_id is not None:
        if message.media_group_id == answers.album_id:
            return  # the rest of an album whose first file was taken
        answers.album_id = message.media_group_id
        await message.answer(t("scan.album_first_taken"))
    if message.photo:
        file = message.photo[-1]  # Telegram lists sizes smallest first
    else:
        assert message.document is not None
        file = message.document
    # Refuse what is too large before downloading it (Telegram states the size).
    if file.file_size is not None and file.file_size > MAX_SCAN_BYTES:
        await message.answer(t("scan.error.too_large", limit_mb=MAX_SCAN_BYTES // (1024 * 1024)))
        await save_answers(state, answers)
        return
    async with ChatActionSender(bot=bot, chat_id=message.chat.id, action=ChatAction.TYPING):
        try:
            # Capped while streaming too: Telegram does not always state file_size.
            data = await download_scan(bot, file.file_id, max_bytes=MAX_SCAN_BYTES)
            info = await scan_checker.check(
                data, max_bytes=MAX_SCAN_BYTES, telegram_photo=bool(message.photo)
            )
        except ScanRejected as error:
            log.info("scan refused: %s", error.code.value)
            await save_answers(state, answers)
            await message.answer(scan_rejected_text(error), reply_markup=keyboards.operator_only())
            return
        stored = await vault.put(data, info.suffix)
    if answers.rescan_application_id is not None:
        await replace_application_scan(message, state, answers, stored, vault, restoration, desk)
        return
    if answers.scan_name and answers.scan_name != stored.name:
        await vault.delete(answers.scan_name)  # keep only the scan the check needs (152-FZ)
    answers.scan_name, answers.scan_sha256, answers.scan_size = (
        stored.name,
        stored.sha256,
        stored.size,
    )
    await message.answer(t("scan.accepted"))
    await dialog.next_or_summary(message, state, answers, Restoration.delivery)


async def replace_application_scan(
    message: Message,
    state: FSMContext,
    answers: Answers,
    stored: StoredFile,
    vault: FileVault,
    restoration: RestorationService,
    desk: OperatorDesk,
) -> None:
    """An operator asked for a new photo of a submitted application: swap it and tell them."""
    assert answers.rescan_application_id is not None and message.from_user is not None
    application_id, answers.rescan_application_id = answers.rescan_application_id, None
    try:
        old = await restoration.replace_scan(application_id, stored, user_id=message.from_user.id)
    except ApplicationNotFound:
        old = None
    if old is not None:
        await vault.delete(old.name)  # keep only the scan the check needs (152-FZ)
    await state.set_state(None)
    await save_answers(state, answers)
    await message.answer(t("support.new_scan_received"))
    conversation = await desk.conversation(message.from_user.id) if desk.enabled else None
    if conversation is not None:
        await desk.note(conversation, desk.t("desk.scan_received"))
        await desk.relay(message, conversation, RelayDirection.TO_OPERATORS)
