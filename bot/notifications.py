"""The citizen's outbox kinds become messages: status pushes, the policy PDF, "an operator
joined", in the citizen's language. Each sender sends one row through `Delivery` and returns the
message id; what to do when it fails is core's business (core/outbox.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import tzinfo
from html import escape

from aiogram.enums import ChatAction
from aiogram.methods import SendChatAction, SendDocument, SendMessage
from aiogram.types import BufferedInputFile

from bot.delivery import Delivery
from bot.i18n import Texts
from bot.times import citizen_time, office_hours, zone_of_application
from core.delivery_methods import policy_for
from core.errors import ApplicationNotFound, DeliveryFailed
from core.models import Application, ApplicationStatus, Notification, StatusChange
from core.next_step import NextStep
from core.policy_document import POLICY_LABEL_KEYS, render_policy_pdf
from core.ports import Clock, PickupOffices, UnitOfWorkFactory
from core.restoration import RestorationService
from core.time_zones import CitizenZone

log = logging.getLogger(__name__)
POLICY_LOCALE = "ru"  # the extract is a Russian document whatever the chat language
# Telegram shows "sending a file..." until the file arrives: worth a call (and a slot of the
# bot's 30 messages a second) only when the citizen would otherwise wait, not before a render
# of a few milliseconds.
UPLOAD_ACTION_AFTER_SECONDS = 0.5


def status_name(status: ApplicationStatus, texts: Texts, locale: str | None = None) -> str:
    return texts.t(f"status.name.{status.value}", locale=locale)


def reason_text(reason: str | None, texts: Texts, locale: str | None = None) -> str:
    """A rejection reason: a code from core (translated) or an operator's own words (escaped)."""
    if not reason:
        return ""
    key = f"rejection.{reason}"
    text = texts.t(key, locale=locale)
    return escape(reason) if text == key else text


def status_line(change: StatusChange, zone: CitizenZone, texts: Texts | None = None) -> str:
    texts = texts or Texts.get_current(no_error=False)  # type: ignore[assignment]
    assert isinstance(texts, Texts)
    line = texts.t(
        "status.history_line",
        at=citizen_time(change.at, zone, texts),
        status=status_name(change.to_status, texts),
    )
    if change.reason:
        line += f" ({reason_text(change.reason, texts)})"
    return line


def next_step_text(
    step: NextStep, texts: Texts, zone: CitizenZone, locale: str | None = None
) -> str:
    """ "What happens next, and when", in plain words."""
    if step.expected_at is not None:
        when = texts.t(
            "next.by", locale=locale, at=citizen_time(step.expected_at, zone, texts, locale)
        )
    elif step.late:
        when = texts.t("next.late", locale=locale)
    else:
        when = ""
    text = texts.t(f"next.{step.kind.value}", locale=locale)
    return texts.t("next.line", locale=locale, step=text, when=when).rstrip()


class PolicySender:
    """Sends the electronic policy: by stored file_id when Telegram has it, else rendered."""

    def __init__(
        self,
        *,
        restoration: RestorationService,
        delivery: Delivery,
        texts: Texts,
        clock: Clock,
        timezone: tzinfo,
        upload_action_after: float = UPLOAD_ACTION_AFTER_SECONDS,
    ) -> None:
        self.restoration = restoration
        self.delivery = delivery
        self.texts = texts
        self.clock = clock
        self.timezone = timezone
        self.upload_action_after = upload_action_after
        self.labels: Mapping[str, str] = {
            key: texts.t(key, locale=POLICY_LOCALE) for key in POLICY_LABEL_KEYS
        }

    async def render(self, application: Application) -> tuple[bytes, str]:
        """The policy PDF and its file name (for the chat, and attached to the email)."""
        person = await self.restoration.person_for(application)
        if person is None:
            raise DeliveryFailed("the insured person is no longer in the register")
        # Rendering is CPU work: keep it off the event loop.
        pdf = await asyncio.to_thread(
            render_policy_pdf,
            person,
            application_number=application.number,
            issued_on=self.clock.now().astimezone(self.timezone).date(),
            labels=self.labels,
        )
        return pdf, f"polis-oms-{person.enp[-4:]}.pdf"

    async def send(self, application: Application, caption: str | None = None) -> int:
        """Returns the id of the message carrying the PDF; `caption` instead of the plain one
        (the READY push, CitizenNotices.policy_ready)."""
        chat_id = application.chat_id
        if caption is None:
            caption = self.texts.t(
                "policy.caption", locale=application.locale, number=application.number
            )
        if application.policy_file_id:
            sent = await self.delivery.send(
                SendDocument(chat_id=chat_id, document=application.policy_file_id, caption=caption),
                chat_id=chat_id,
            )
            return sent.message_id
        pdf, filename = await self._render_showing_upload(application)
        document = BufferedInputFile(pdf, filename=filename)
        sent = await self.delivery.send(
            SendDocument(chat_id=chat_id, document=document, caption=caption), chat_id=chat_id
        )
        if sent.document is not None:
            await self.restoration.record_policy_file_id(application.id, sent.document.file_id)
        return sent.message_id

    async def _render_showing_upload(self, application: Application) -> tuple[bytes, str]:
        """render(), with "sending a file..." in the chat if it takes longer than
        `upload_action_after` (a busy machine, a slow register)."""
        rendering = asyncio.ensure_future(self.render(application))
        try:
            done, _ = await asyncio.wait({rendering}, timeout=self.upload_action_after)
            if not done:
                chat_id = application.chat_id
                await self.delivery.send(
                    SendChatAction(chat_id=chat_id, action=ChatAction.UPLOAD_DOCUMENT),
                    chat_id=chat_id,
                )
            return await rendering
        finally:
            rendering.cancel()  # a no-op once it is done; else nobody is left to wait for it


async def _application_of(
    restoration: RestorationService, notification: Notification
) -> Application | None:
    try:
        return await restoration.get(int(str(notification.payload["application_id"])))
    except ApplicationNotFound:
        return None  # erased on the citizen's request: nothing to tell


class CitizenNotices:
    """Status pushes and desk news for the citizen, from outbox rows holding only ids."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        restoration: RestorationService,
        delivery: Delivery,
        texts: Texts,
        offices: PickupOffices,
        timezone: tzinfo,
        policy_sender: PolicySender,
    ) -> None:
        self.uow_factory = uow_factory
        self.restoration = restoration
        self.delivery = delivery
        self.texts = texts
        self.offices = offices
        self.policy_sender = policy_sender
        self.timezone = timezone  # TIMEZONE: times' zone when the citizen's region is unknown

    async def status_message(self, application: Application, status: ApplicationStatus) -> str:
        """The status push: the status, what it means, the reason of a rejection, and what
        happens next (while the status is still the current one)."""
        zone = await zone_of_application(self.restoration, application, self.timezone)
        text = self.status_text(application, status, zone)
        locale = application.locale
        if status is ApplicationStatus.REJECTED and application.rejection_reason:
            text += "\n" + self.texts.t(
                "status.reason",
                locale=locale,
                reason=reason_text(application.rejection_reason, self.texts, locale),
            )
        if application.status is status:
            step = self.restoration.next_step(application)
            text += "\n\n" + next_step_text(step, self.texts, zone, locale)
        return text

    async def _send(self, chat_id: int, text: str) -> int:
        sent = await self.delivery.send(SendMessage(chat_id=chat_id, text=text), chat_id=chat_id)
        return sent.message_id

    async def status_changed(self, notification: Notification) -> int | None:
        application = await _application_of(self.restoration, notification)
        if application is None:
            return None
        status = ApplicationStatus(str(notification.payload["status"]))
        text = await self.status_message(application, status)
        return await self._send(notification.chat_id, text)

    async def policy_ready(self, notification: Notification) -> int | None:
        """READY of an electronic application: the policy PDF, its caption the status push."""
        application = await _application_of(self.restoration, notification)
        if application is None:
            return None
        caption = await self.status_message(application, ApplicationStatus.READY)
        return await self.policy_sender.send(application, caption=caption)

    async def operator_joined(self, notification: Notification) -> int | None:
        async with self.uow_factory(read_only=True) as uow:
            conversation = await uow.conversations.get(notification.chat_id)
            citizen = await uow.citizens.get(notification.chat_id)
        if conversation is None or not conversation.operator_name:
            return None  # released again before this went out
        locale = citizen.locale if citizen else None
        text = self.texts.t(
            "support.operator_joined", locale=locale, name=escape(conversation.operator_name)
        )
        return await self._send(notification.chat_id, text)

    def status_text(
        self, application: Application, status: ApplicationStatus, zone: CitizenZone
    ) -> str:
        locale = application.locale
        text = self.texts.t(
            "status.changed",
            locale=locale,
            number=application.number,
            status=status_name(status, self.texts, locale),
        )
        extra_key = f"status.explain.{status.value}"
        params: dict[str, str] = {}
        if status is ApplicationStatus.READY_FOR_PICKUP and application.office_id:
            office = self.offices.get(application.office_id)
            if office is not None:
                params = {
                    "office": escape(f"{office.name}, {office.address}"),
                    "hours": office_hours(office, zone, self.texts, locale),
                }
        elif status is ApplicationStatus.SENT_BY_POST:
            params = {"address": escape(f"{application.postcode}, {application.address}")}
        elif status is ApplicationStatus.APPROVED and policy_for(application.delivery).paper:
            extra_key = "status.explain.approved_paper"
        explanation = self.texts.t(extra_key, locale=locale, **params)
        return f"{text}\n{explanation}" if explanation != extra_key else text
