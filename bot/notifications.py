"""Outbox rows become messages: status pushes and the policy PDF, in the citizen's language."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta, tzinfo
from html import escape

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.methods import SendChatAction, SendDocument, SendMessage
from aiogram.types import BufferedInputFile

from bot.delivery import Delivery, DeliveryFailed, RecipientUnreachable
from bot.desk.service import OperatorDesk
from bot.i18n import Texts
from core.errors import ApplicationNotFound
from core.models import (
    Application,
    ApplicationStatus,
    DeliveryMethod,
    Notification,
    NotificationKind,
    StatusChange,
)
from core.policy_document import POLICY_LABEL_KEYS, render_policy_pdf
from core.ports import Clock, PickupOffices, UnitOfWorkFactory
from core.restoration import RestorationService, rejection_code

log = logging.getLogger(__name__)
POLICY_LOCALE = "ru"  # the extract is a Russian document whatever the chat language


def status_name(status: ApplicationStatus, texts: Texts, locale: str | None = None) -> str:
    return texts.t(f"status.name.{status.value}", locale=locale)


def reason_text(reason: str | None, texts: Texts, locale: str | None = None) -> str:
    """A rejection reason: a code from core (translated) or an operator's own words (escaped)."""
    if not reason:
        return ""
    key = f"rejection.{reason}"
    text = texts.t(key, locale=locale)
    return escape(reason) if text == key else text


def status_line(change: StatusChange, timezone: tzinfo, texts: Texts | None = None) -> str:
    texts = texts or Texts.get_current(no_error=False)  # type: ignore[assignment]
    assert isinstance(texts, Texts)
    line = texts.t(
        "status.history_line",
        at=f"{change.at.astimezone(timezone):%d.%m.%Y %H:%M}",
        status=status_name(change.to_status, texts),
    )
    if change.reason:
        line += f" ({reason_text(change.reason, texts)})"
    return line


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
    ) -> None:
        self.restoration = restoration
        self.delivery = delivery
        self.texts = texts
        self.clock = clock
        self.timezone = timezone
        self.labels: Mapping[str, str] = {
            key: texts.t(key, locale=POLICY_LOCALE) for key in POLICY_LABEL_KEYS
        }

    async def send(self, bot: Bot, application: Application) -> None:
        chat_id = application.chat_id
        caption = self.texts.t(
            "policy.caption", locale=application.locale, number=application.number
        )
        if application.policy_file_id:
            await self.delivery.send(
                SendDocument(chat_id=chat_id, document=application.policy_file_id, caption=caption),
                chat_id=chat_id,
            )
            return
        person = await self.restoration.person_for(application)
        if person is None:
            raise DeliveryFailed("the insured person is no longer in the register")
        await bot(SendChatAction(chat_id=chat_id, action=ChatAction.UPLOAD_DOCUMENT))
        # Rendering is CPU work: keep it off the event loop.
        pdf = await asyncio.to_thread(
            render_policy_pdf,
            person,
            application_number=application.number,
            issued_on=self.clock.now().astimezone(self.timezone).date(),
            labels=self.labels,
        )
        document = BufferedInputFile(pdf, filename=f"polis-oms-{person.enp[-4:]}.pdf")
        sent = await self.delivery.send(
            SendDocument(chat_id=chat_id, document=document, caption=caption), chat_id=chat_id
        )
        if sent.document is not None:
            await self.restoration.record_policy_file_id(application.id, sent.document.file_id)


class OutboxWorker:
    """Sends committed outbox rows in order; a row that waits holds back its chat's later ones."""

    def __init__(
        self,
        *,
        bot: Bot,
        desk: OperatorDesk,
        uow_factory: UnitOfWorkFactory,
        restoration: RestorationService,
        delivery: Delivery,
        policy_sender: PolicySender,
        texts: Texts,
        clock: Clock,
        offices: PickupOffices,
        max_attempts: int = 8,
    ) -> None:
        self.bot = bot
        self.desk = desk
        self.uow_factory = uow_factory
        self.restoration = restoration
        self.delivery = delivery
        self.policy_sender = policy_sender
        self.texts = texts
        self.clock = clock
        self.offices = offices
        self.max_attempts = max_attempts
        self._lock = asyncio.Lock()

    async def drain(self, limit: int = 100) -> int:
        if self._lock.locked():
            return 0
        async with self._lock:
            async with self.uow_factory() as uow:
                due = list(await uow.outbox.due(self.clock.now(), limit))
            held: set[int] = set()
            sent = 0
            for notification in due:
                if notification.chat_id in held:
                    continue
                if await self._deliver(notification):
                    sent += 1
                else:
                    held.add(notification.chat_id)
            return sent

    async def _deliver(self, notification: Notification) -> bool:
        assert notification.id is not None
        try:
            await self._send(notification)
        except RecipientUnreachable as error:
            await self._finish(notification.id, failed=f"unreachable: {error}")
            await self._mark_blocked(notification.chat_id)
            return True
        except DeliveryFailed as error:
            if notification.attempts + 1 >= self.max_attempts:
                log.error("notification %s given up: %s", notification.id, error)
                await self._finish(notification.id, failed=str(error))
                return True
            delay = timedelta(seconds=min(300, 2 ** (notification.attempts + 1)))
            async with self.uow_factory() as uow:
                await uow.outbox.postpone(notification.id, self.clock.now() + delay)
                await uow.commit()
            return False
        await self._finish(notification.id)
        return True

    async def _finish(self, notification_id: int, *, failed: str | None = None) -> None:
        async with self.uow_factory() as uow:
            if failed is None:
                await uow.outbox.mark_sent(notification_id)
            else:
                await uow.outbox.mark_failed(notification_id, failed)
            await uow.commit()

    async def _mark_blocked(self, chat_id: int) -> None:
        citizen = await self.restoration.get_citizen(chat_id)
        if citizen is not None and not citizen.blocked_bot:
            citizen.blocked_bot = True
            await self.restoration.save_citizen(citizen)

    async def _send(self, notification: Notification) -> None:
        application_id = int(str(notification.payload["application_id"]))
        try:
            application = await self.restoration.get(application_id)
        except ApplicationNotFound:
            return  # erased on the citizen's request: nothing to tell
        if notification.kind is NotificationKind.POLICY_DOCUMENT:
            await self.policy_sender.send(self.bot, application)
            return
        text = self.status_text(application, ApplicationStatus(str(notification.payload["status"])))
        reason = notification.payload.get("reason")
        if reason:
            text += "\n" + self.texts.t(
                "status.reason",
                locale=application.locale,
                reason=reason_text(str(reason), self.texts, application.locale),
            )
        await self.delivery.send(
            SendMessage(chat_id=notification.chat_id, text=text), chat_id=notification.chat_id
        )
        await self.desk.on_status_changed(application)
        if rejection_code(str(reason) if reason else None) is not None:
            # An automatic rejection by the register check: operators should look at it.
            await self.desk.alert(application.user_id, "", reason_key="desk.reason.rejected")

    def status_text(self, application: Application, status: ApplicationStatus) -> str:
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
                    "hours": escape(office.hours),
                }
        elif status is ApplicationStatus.SENT_BY_POST:
            params = {"address": escape(f"{application.postcode}, {application.address}")}
        elif (
            status is ApplicationStatus.APPROVED
            and application.delivery is not DeliveryMethod.ELECTRONIC
        ):
            extra_key = "status.explain.approved_paper"
        explanation = self.texts.t(extra_key, locale=locale, **params)
        return f"{text}\n{explanation}" if explanation != extra_key else text
