"""Step 6: the summary with a way to correct each answer, the optional fee, and submit."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, LabeledPrice, Message, PreCheckoutQuery

from bot import keyboards
from bot.callbacks import Edit, EditField, Summary, SummaryAction
from bot.dialogs.answers import Answers, save_step
from bot.dialogs.flow import Dialog, callback_message, pressed
from bot.dialogs.restoration import Restoration
from bot.filters import Check
from bot.i18n import Texts, t
from bot.settings import Settings
from core.delivery_methods import policy_for
from core.models import ApplicationDraft
from core.restoration import RestorationService

router = Router(name=__name__)
log = logging.getLogger(__name__)


@router.callback_query(StateFilter(Restoration.summary), Edit.filter())
@router.callback_query(StateFilter(Restoration.office), Edit.filter(F.field == EditField.DELIVERY))
async def edit_answer(
    query: CallbackQuery,
    callback_data: Edit,
    state: FSMContext,
    answers: Answers,
    dialog: Dialog,
) -> None:
    message = await pressed(query)
    if await state.get_state() == Restoration.summary.state:
        answers.editing = True
    match callback_data.field:
        case EditField.REASON:
            await dialog.ask(message, state, answers, Restoration.reason)
        case EditField.PASSPORT:
            # The attempts go on counting: correcting the answer is no way round the limit.
            await dialog.ask(message, state, answers, Restoration.passport_number)
        case EditField.SCAN:
            await dialog.ask(message, state, answers, Restoration.passport_scan)
        case EditField.DELIVERY:
            await dialog.ask(message, state, answers, Restoration.delivery)


def build_draft(
    answers: Answers, *, user_id: int, chat_id: int, locale: str
) -> ApplicationDraft | None:
    passport, scan = answers.passport, answers.scan
    if not (
        answers.enp and answers.reason and passport and scan and answers.delivery and answers.run_id
    ):
        return None
    draft = ApplicationDraft(
        user_id=user_id,
        chat_id=chat_id,
        enp=answers.enp,
        loss_reason=answers.reason,
        loss_reason_text=answers.reason_text,
        passport=passport,
        scan=scan,
        delivery=answers.delivery,
        locale=locale,
        postcode=answers.postcode,
        address=answers.address,
        office_id=answers.office_id,
        idempotency_key=answers.run_id,
    )
    return draft if policy_for(draft.delivery).is_complete(draft) else None


def fee_applies(answers: Answers, settings: Settings) -> bool:
    if answers.delivery is None:
        return False
    return policy_for(answers.delivery).fee_kopecks(settings.paper_fee_kopecks) > 0


@router.callback_query(Summary.filter(F.action == SummaryAction.SUBMIT))
async def submit(
    query: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    answers: Answers,
    restoration: RestorationService,
    settings: Settings,
    texts: Texts,
) -> None:
    message = callback_message(query)
    current = await state.get_state()
    draft = build_draft(
        answers, user_id=query.from_user.id, chat_id=message.chat.id, locale=texts.current_locale
    )
    if draft is None:
        await query.answer(t("summary.stale"), show_alert=True)
        return
    if current != Restoration.summary.state:
        # A second tap, or a retry: the idempotency key finds the first application. A tap that
        # races an invoice (not paid yet) or a correction must not submit anything.
        application = await restoration.submitted(draft.idempotency_key)
        if application is None:
            key = "hint.payment" if current == Restoration.payment.state else "hint.stale_button"
            await query.answer(t(key), show_alert=True)
            return
        await query.answer(
            t("summary.already_submitted", number=application.number), show_alert=True
        )
        return
    await query.answer()
    if fee_applies(answers, settings):
        await message.edit_reply_markup(reply_markup=None)
        await send_invoice(bot, message.chat.id, answers, settings)
        await state.set_state(Restoration.payment)
        return
    await finish(message, state, answers, restoration, draft, summary=message)


async def finish(
    message: Message,
    state: FSMContext,
    answers: Answers,
    restoration: RestorationService,
    draft: ApplicationDraft,
    *,
    summary: Message | None = None,
) -> None:
    """Submit; the receipt goes under the summary, in place of its buttons, when `summary` is
    the summary's message (no new message: the citizen is looking at it, and each message to a
    chat waits for Telegram's rate limits), else as a new message."""
    application = await restoration.submit(draft)
    # Keeps run_id, so a late second tap is recognised (usually stored already: no write).
    await save_step(state, None, answers, answers_first=False)
    receipt = t("summary.submitted", number=application.number)
    if summary is not None:
        try:
            await summary.edit_text(f"{summary.html_text}\n\n{receipt}", reply_markup=None)
            return
        except TelegramBadRequest as error:  # too old to edit, or too long with the receipt
            log.info("summary not edited (%s): receipt sent as a message", error.message)
            await summary.edit_reply_markup(reply_markup=None)
    await message.answer(receipt)


async def send_invoice(bot: Bot, chat_id: int, answers: Answers, settings: Settings) -> None:
    assert settings.payment_provider_token is not None and answers.run_id is not None
    await bot.send_invoice(
        chat_id=chat_id,
        title=t("payment.title"),
        description=t("payment.description"),
        payload=answers.run_id,
        provider_token=settings.payment_provider_token.get_secret_value(),
        currency=settings.payment_currency,
        prices=[LabeledPrice(label=t("payment.price_label"), amount=settings.paper_fee_kopecks)],
        reply_markup=keyboards.invoice(t("payment.pay_button")),
    )


@router.pre_checkout_query()
async def pre_checkout(query: PreCheckoutQuery, state: FSMContext, answers: Answers) -> None:
    # Telegram waits at most 10 seconds for this answer; check only what is local.
    if (
        await state.get_state() == Restoration.payment.state
        and query.invoice_payload == answers.run_id
    ):
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=t("payment.stale"))


@router.message(StateFilter(Restoration.payment), Check(F.successful_payment))
async def paid(
    message: Message,
    state: FSMContext,
    answers: Answers,
    restoration: RestorationService,
    texts: Texts,
) -> None:
    payment = message.successful_payment
    assert payment is not None and message.from_user is not None
    draft = build_draft(
        answers, user_id=message.from_user.id, chat_id=message.chat.id, locale=texts.current_locale
    )
    if draft is None or payment.invoice_payload != answers.run_id:
        log.warning("payment for a journey that is gone; needs a refund by an operator")
        await message.answer(t("payment.orphaned"))
        return
    draft.fee_paid_kopecks = payment.total_amount
    await message.answer(t("payment.received"))
    await finish(message, state, answers, restoration, draft)


@router.callback_query(
    Restoration.payment, Summary.filter(F.action == SummaryAction.CANCEL_PAYMENT)
)
async def payment_cancelled(
    query: CallbackQuery,
    state: FSMContext,
    answers: Answers,
    dialog: Dialog,
) -> None:
    message = await pressed(query)
    await message.answer(t("payment.cancelled"))
    await dialog.summary(message, state, answers)
