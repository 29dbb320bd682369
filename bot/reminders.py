"""Reminders on the Telegram side: APScheduler runs the tick, the senders turn reminder rows into
messages, and the dialog's states say what an unfinished dialog waits for.

What is due is core's business (core/reminders.py), computed from the database by the bot's
clock on every tick; APScheduler only decides when to look (real time, in memory, no job store:
nothing to lose in a restart).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, tzinfo
from html import escape

from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import ValidationError

from bot.callbacks import Reminder, ReminderAction
from bot.delivery import Delivery
from bot.dialogs.answers import answers_from
from bot.dialogs.control import CitizenDialogs
from bot.dialogs.restoration import TOTAL_STEPS, Restoration, step_for
from bot.i18n import Texts
from bot.times import citizen_time, office_hours, zone_label, zone_of_application
from core.errors import ApplicationNotFound
from core.models import ApplicationStatus, Notification
from core.ports import PickupOffices
from core.reminders import CitizenReminders, DialogWait, ReminderTopic
from core.restoration import RestorationService

log = logging.getLogger(__name__)
JOB_ID = "reminders"

_DIALOG_STATES = frozenset(state.state for state in Restoration.__states__)


def dialog_waits(state: str, data: Mapping[str, object]) -> DialogWait | None:
    """What a dialog in `state` waits for the citizen to do, or None (not in the dialog)."""
    if state not in _DIALOG_STATES:
        return None  # finished, cancelled, with an operator, or typing an email
    try:
        answers = answers_from(dict(data))
    except ValidationError:
        return None
    if state == Restoration.passport_scan.state and answers.rescan_application_id is not None:
        return DialogWait(ReminderTopic.NEW_SCAN, str(answers.rescan_application_id))
    if answers.run_id is None:
        return None
    if state == Restoration.payment.state:
        return DialogWait(ReminderTopic.PAYMENT, answers.run_id)
    return DialogWait(ReminderTopic.DIALOG, answers.run_id)


class ReminderSchedule:
    """One APScheduler job every REMINDER_TICK_SECONDS starts the tick in a task of our own.

    APScheduler 3 cancels a running coroutine job when it shuts down; the job therefore only
    starts the tick (and returns at once), and stop() waits for a tick in progress, so a
    shutdown never cuts a transaction. Ticks never overlap.
    """

    def __init__(self, tick: Callable[[], Awaitable[object]], interval: float) -> None:
        self._tick = tick
        self._interval = interval
        self._stopped = False
        self._running: asyncio.Task[None] | None = None
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        # Each run is routine; its log line every few seconds would drown the rest.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self._fire,
            "interval",
            seconds=self._interval,
            id=JOB_ID,
            next_run_time=datetime.now(UTC),  # a first look at once: what was missed while down
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler

    async def _fire(self) -> None:
        if self._stopped or (self._running is not None and not self._running.done()):
            return
        self._running = asyncio.create_task(self._run(), name="reminder-tick")

    async def _run(self) -> None:
        try:
            await self._tick()
        except Exception:  # one failed tick must not end the schedule
            log.exception("reminder tick failed; retrying at the next one")

    async def stop(self) -> None:
        self._stopped = True
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._running is not None:
            await self._running  # a tick in progress finishes its transaction


def continue_keyboard(label: str) -> InlineKeyboardMarkup:
    data = Reminder(action=ReminderAction.CONTINUE).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)]]
    )


class ReminderNotices:
    """The senders of the citizens' reminder rows; each checks its reason is still there."""

    def __init__(
        self,
        *,
        dialogs: CitizenDialogs,
        restoration: RestorationService,
        delivery: Delivery,
        texts: Texts,
        offices: PickupOffices,
        timezone: tzinfo,
    ) -> None:
        self.dialogs = dialogs
        self.restoration = restoration
        self.delivery = delivery
        self.texts = texts
        self.offices = offices
        self.timezone = timezone  # TIMEZONE: for a citizen whose region's zone is unknown

    async def dialog(self, notification: Notification) -> int | None:
        """An unfinished dialog, a new photo asked for, an unpaid invoice: with "continue"."""
        user_id = notification.chat_id
        state = self.dialogs.state_of(user_id)
        current = await state.get_state()
        wait = dialog_waits(current, await state.get_data()) if current else None
        expected = (notification.payload.get("topic"), notification.payload.get("subject"))
        if wait is None or (wait.topic.value, wait.subject) != expected:
            return None  # finished, cancelled or moved on since: nothing to remind
        locale = await self.dialogs.locale_of(user_id)
        step = step_for(current)
        assert step is not None and current is not None
        text = self.texts.t(
            f"reminder.{wait.topic.value}",
            locale=locale,
            number=step.number,
            total=TOTAL_STEPS,
            step=self.texts.t(f"step_name.{current.split(':')[-1]}", locale=locale),
        )
        text += "\n\n" + self.texts.t("reminder.footer", locale=locale)
        markup = continue_keyboard(self.texts.t("reminder.continue", locale=locale))
        sent = await self.delivery.send(
            SendMessage(chat_id=user_id, text=text, reply_markup=markup), chat_id=user_id
        )
        return sent.message_id

    async def pickup(self, notification: Notification) -> int | None:
        """The paper copy still waits at the office: where, and when it is open."""
        try:
            application = await self.restoration.get(
                int(str(notification.payload["application_id"]))
            )
        except ApplicationNotFound:
            return None
        if application.status is not ApplicationStatus.READY_FOR_PICKUP:
            return None  # collected (or erased) since
        office = self.offices.get(application.office_id) if application.office_id else None
        locale = application.locale
        zone = await zone_of_application(self.restoration, application, self.timezone)
        text = self.texts.t(
            "reminder.pickup",
            locale=locale,
            number=application.number,
            office=escape(f"{office.name}, {office.address}") if office else "—",
            hours=office_hours(office, zone, self.texts, locale) if office else "—",
        )
        text += "\n\n" + self.texts.t("reminder.footer", locale=locale)
        chat_id = application.chat_id
        sent = await self.delivery.send(SendMessage(chat_id=chat_id, text=text), chat_id=chat_id)
        return sent.message_id


def reminders_text(view: CitizenReminders, texts: Texts, locale: str, quiet: str) -> str:
    """/reminders: on or off, and what is scheduled, in the citizen's own time zone (or in
    TIMEZONE, saying so, when their region's is unknown)."""
    zone = view.zone
    label = zone_label(zone.zone, datetime.now(UTC), texts, locale)
    zone_note = texts.t(
        "reminder.settings.zone.own" if zone.own else "reminder.settings.zone.default",
        locale=locale,
        zone=label,
    )
    lines = [
        texts.t(
            "reminder.settings.on" if view.enabled else "reminder.settings.off",
            locale=locale,
            zone=zone_note,
            quiet=escape(quiet),
        )
    ]
    if view.enabled and view.upcoming:
        lines.append(texts.t("reminder.settings.scheduled", locale=locale))
        for item in view.upcoming:
            left = (
                texts.t("reminder.settings.left", locale=locale, n=item.left)
                if item.left is not None
                else texts.t("reminder.settings.until_collected", locale=locale)
            )
            lines.append(
                texts.t(
                    f"reminder.settings.item.{item.topic.value}",
                    locale=locale,
                    at=citizen_time(item.at, zone, texts, locale),
                    number=item.application_number or "",
                    left=left,
                )
            )
    elif view.enabled:
        lines.append(texts.t("reminder.settings.nothing", locale=locale))
    return "\n".join(lines)


def reminders_keyboard(enabled: bool, texts: Texts, locale: str) -> InlineKeyboardMarkup:
    action = ReminderAction.OFF if enabled else ReminderAction.ON
    label = texts.t(f"reminder.button.{action.value}", locale=locale)
    data = Reminder(action=action).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)]]
    )
