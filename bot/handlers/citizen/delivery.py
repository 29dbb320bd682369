"""Step 5: how the duplicate reaches the citizen: electronic, paper by post, paper pickup."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import Delivery, Office
from bot.dialogs.answers import Answers
from bot.dialogs.flow import Dialog, pressed
from bot.dialogs.restoration import Restoration
from bot.filters import Check
from bot.i18n import t
from bot.messages import validation_error_text
from core.models import DeliveryMethod
from core.validators import ValidationError, parse_free_text, parse_postcode

router = Router(name=__name__)
ADDRESS_MIN, ADDRESS_MAX = 5, 300


@router.callback_query(StateFilter(Restoration.delivery), Delivery.filter())
async def delivery_chosen(
    query: CallbackQuery,
    callback_data: Delivery,
    state: FSMContext,
    answers: Answers,
    dialog: Dialog,
) -> None:
    message = await pressed(query)
    method = callback_data.method
    answers.delivery = method
    if method is DeliveryMethod.ELECTRONIC:
        answers.postcode = answers.address = answers.office_id = None
        await dialog.summary(message, state, answers)
    elif method is DeliveryMethod.POST:
        answers.office_id = None
        await dialog.ask(message, state, answers, Restoration.postcode)
    else:
        context = dialog.context(answers)
        person = context.person
        if not context.offices:
            answers.delivery = None
            region = escape(person.region) if person else ""
            await dialog.ask(
                message,
                state,
                answers,
                Restoration.delivery,
                text=t("delivery.no_office", region=region),
                markup=keyboards.delivery_methods((DeliveryMethod.ELECTRONIC, DeliveryMethod.POST)),
            )
            return
        await dialog.ask(message, state, answers, Restoration.office)


@router.message(StateFilter(Restoration.postcode), Check(F.text))
async def postcode_typed(
    message: Message, state: FSMContext, answers: Answers, dialog: Dialog
) -> None:
    try:
        answers.postcode = parse_postcode(message.text or "")
    except ValidationError as error:
        await message.answer(validation_error_text(error), reply_markup=keyboards.operator_only())
        return
    await dialog.ask(message, state, answers, Restoration.address)


@router.message(StateFilter(Restoration.address), Check(F.text))
async def address_typed(
    message: Message,
    state: FSMContext,
    answers: Answers,
    dialog: Dialog,
) -> None:
    try:
        address = parse_free_text(message.text or "", max_len=ADDRESS_MAX)
        if len(address) < ADDRESS_MIN:
            await message.answer(t("invalid.address_too_short", min_len=ADDRESS_MIN))
            return
    except ValidationError as error:
        await message.answer(validation_error_text(error, max_len=ADDRESS_MAX))
        return
    answers.address = address
    await dialog.summary(message, state, answers)


@router.callback_query(StateFilter(Restoration.office), Office.filter())
async def office_chosen(
    query: CallbackQuery,
    callback_data: Office,
    state: FSMContext,
    answers: Answers,
    dialog: Dialog,
) -> None:
    office = dialog.offices.get(callback_data.office_id)
    if office is None:
        await query.answer(t("delivery.office_unknown"), show_alert=True)
        return
    message = await pressed(query)
    answers.office_id = office.id
    answers.postcode = answers.address = None
    await dialog.summary(message, state, answers)
