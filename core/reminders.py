"""Reminders and the operators' digest: the bot speaks first, at the right time.

Nothing is scheduled in memory. Each tick (bot/reminders.py runs it with APScheduler) asks the
database what is due by the injected clock and, in one transaction, records each reminder as
sent and queues it as an outbox row. So a restart loses nothing, a reminder missed while the
bot was down goes out once (its record moves on with it, not once per missed tick), and a
reminder whose reason is gone is never computed. Senders check the reason again when they
send, since a queued row may wait behind a retry.

Citizens' reminders respect quiet hours in the zone of their region and go to those who
consented and did not turn them off (/reminders).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from core.desk import call_operators
from core.models import (
    Application,
    ApplicationStatus,
    Citizen,
    DialogSnapshot,
    Notification,
    NotificationKind,
    SentReminder,
)
from core.ports import Clock, RegisterLookup, UnitOfWork, UnitOfWorkFactory
from core.support import Conversation
from core.time_zones import CitizenZone, citizen_zone


class ReminderTopic(StrEnum):
    """Why a reminder is sent; with its subject (a dialog's run, an application) it is the key
    of the record that counts them."""

    DIALOG = "dialog"  # the dialog was left unfinished
    NEW_SCAN = "scan"  # an operator asked for a new passport photo
    PAYMENT = "payment"  # the invoice of a paid extra is not paid
    PICKUP = "pickup"  # the paper copy waits at the office
    OVERDUE = "overdue"  # (operators) an application past the service level got its topic


@dataclass(frozen=True, slots=True)
class DialogWait:
    """What an unfinished dialog waits for; the bot reads it from the dialog's state."""

    topic: ReminderTopic
    subject: str


# The bot's reading of a dialog state and its data: what the citizen is expected to do, or None.
DialogWaits = Callable[[str, Mapping[str, object]], DialogWait | None]

_CLOCK_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_clock_time(text: str) -> time:
    """ "HH:MM" on a 24-hour clock."""
    match = _CLOCK_TIME.match(text)
    if match is None:
        raise ValueError(f"expected HH:MM, got {text!r}")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"expected HH:MM, got {text!r}")
    return time(hour, minute)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """No citizen reminder from `start` to `end` local time; one due then waits for `end`."""

    start: time = time(22, 0)
    end: time = time(9, 0)

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """ "22:00-09:00"; equal ends mean no quiet hours."""
        start, separator, end = text.partition("-")
        if not separator:
            raise ValueError(f"expected HH:MM-HH:MM, got {text!r}")
        return cls(parse_clock_time(start), parse_clock_time(end))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: time) -> bool:
        local = local.replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # across midnight

    def first_allowed(self, at: datetime, zone: tzinfo) -> datetime:
        """`at`, or the end of the quiet hours it falls in (shifted, not dropped)."""
        local = at.astimezone(zone)
        if not self.contains(local.time()):
            return at
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        return end.astimezone(at.tzinfo)


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """The settings of reminders and of the digest (REMINDER_*, QUIET_HOURS, SERVICE_LEVEL_HOURS,
    DIGEST_AT)."""

    dialog_after: timedelta = timedelta(hours=24)
    dialog_max: int = 2
    action_after: timedelta = timedelta(hours=24)  # a new photo asked, an unpaid invoice: once
    pickup_every: timedelta = timedelta(days=3)
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    service_level: timedelta = timedelta(hours=72)
    digest_at: time = time(9, 0)

    def limit(self, topic: ReminderTopic) -> int | None:
        """How many reminders one reason gets; None: until the reason is gone."""
        match topic:
            case ReminderTopic.DIALOG:
                return self.dialog_max
            case ReminderTopic.PICKUP:
                return None
            case _:
                return 1

    def interval(self, topic: ReminderTopic) -> timedelta:
        match topic:
            case ReminderTopic.DIALOG:
                return self.dialog_after
            case ReminderTopic.PICKUP:
                return self.pickup_every
            case _:
                return self.action_after


@dataclass(frozen=True, slots=True)
class Upcoming:
    """A reminder the citizen will get, as /reminders shows it."""

    topic: ReminderTopic
    at: datetime  # when it goes out, quiet hours applied
    left: int | None  # how many more of this kind, None: until the reason is gone
    application_number: str | None = None


@dataclass(frozen=True, slots=True)
class CitizenReminders:
    consented: bool  # reminders are for citizens who consented to the processing
    enabled: bool
    zone: CitizenZone  # of the quiet hours and of the times shown
    upcoming: list[Upcoming]


@dataclass(frozen=True, slots=True)
class Digest:
    """What operators are told each morning and on /digest."""

    at: datetime
    service_level: timedelta
    overdue: list[tuple[Application, Conversation | None]]
    waiting: list[Conversation]


class ReminderService:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        register: RegisterLookup,
        policy: ReminderPolicy,
        waits: DialogWaits,
        default_zone: tzinfo,
        desk_chat_id: int | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._register = register
        self._policy = policy
        self._waits = waits
        self._default_zone = default_zone  # TIMEZONE: the desk's, and the fallback
        self._desk_chat_id = desk_chat_id  # None: no support chat, no digest

    @property
    def policy(self) -> ReminderPolicy:
        return self._policy

    # --- the tick -------------------------------------------------------------------------

    async def tick(self) -> int:
        """Queue every reminder (and the morning digest) that is due now; returns how many."""
        now = self._clock.now()
        queued = 0
        async with self._uow_factory() as uow:
            shortest = min(self._policy.dialog_after, self._policy.action_after)
            for snapshot in await uow.reminders.dialogs(idle_since=now - shortest):
                queued += await self._dialog_reminder(uow, snapshot, now)
            for application in await uow.reminders.applications_in(
                ApplicationStatus.READY_FOR_PICKUP
            ):
                queued += await self._pickup_reminder(uow, application, now)
            queued += await self._morning_digest(uow, now)
            await uow.reminders.record_tick(now)
            await uow.commit()
        return queued

    async def _dialog_reminder(
        self, uow: UnitOfWork, snapshot: DialogSnapshot, now: datetime
    ) -> int:
        wait = self._waits(snapshot.state, snapshot.data)
        if wait is None:
            return 0
        citizen = await self._reminded(uow, snapshot.user_id)
        if citizen is None or not await self._still_waits(uow, wait):
            return 0
        record = await self._record(uow, snapshot.user_id, wait.topic, wait.subject)
        due = self._due(wait.topic, snapshot.updated_at, record)
        if due is None or not self._may_send(due, now, self.zone_of(citizen)):
            return 0
        payload = {"topic": wait.topic.value, "subject": wait.subject}
        await self._queue(uow, record, now, NotificationKind.REMINDER_DIALOG, payload)
        return 1

    async def _pickup_reminder(
        self, uow: UnitOfWork, application: Application, now: datetime
    ) -> int:
        citizen = await self._reminded(uow, application.user_id)
        if citizen is None:
            return 0
        record = await self._record(
            uow, application.user_id, ReminderTopic.PICKUP, str(application.id)
        )
        # Counted from the status change that told the citizen it is ready.
        due = self._due(ReminderTopic.PICKUP, application.updated_at, record)
        if due is None or not self._may_send(due, now, self.zone_of(citizen)):
            return 0
        payload = {"application_id": application.id}
        await self._queue(uow, record, now, NotificationKind.REMINDER_PICKUP, payload)
        return 1

    @staticmethod
    async def _still_waits(uow: UnitOfWork, wait: DialogWait) -> bool:
        """A new photo is wanted only while the application is still being checked."""
        if wait.topic is not ReminderTopic.NEW_SCAN:
            return True
        application = await uow.applications.get(int(wait.subject))
        return application is not None and application.status in (
            ApplicationStatus.SUBMITTED,
            ApplicationStatus.PROCESSING,
        )

    def _due(self, topic: ReminderTopic, since: datetime, record: SentReminder) -> datetime | None:
        """When the next reminder for this reason is due (quiet hours aside), None if none is."""
        limit = self._policy.limit(topic)
        if limit is not None and record.sent >= limit:
            return None
        # After the last reminder, or after the reason last moved (the citizen came back).
        base = max(since, record.last_sent_at or since)
        return base + self._policy.interval(topic)

    def _may_send(self, due: datetime, now: datetime, zone: tzinfo) -> bool:
        return due <= now and not self._policy.quiet_hours.contains(now.astimezone(zone).time())

    async def _queue(
        self,
        uow: UnitOfWork,
        record: SentReminder,
        now: datetime,
        kind: NotificationKind,
        payload: dict[str, object],
    ) -> None:
        # The record and the row in one transaction: a restart finds it sent, never twice.
        record.sent += 1
        record.last_sent_at = now
        await uow.reminders.record_sent(record)
        await uow.outbox.add(
            Notification(chat_id=record.user_id, kind=kind, payload=payload, created_at=now)
        )

    @staticmethod
    async def _record(
        uow: UnitOfWork, user_id: int, topic: ReminderTopic, subject: str
    ) -> SentReminder:
        found = await uow.reminders.sent(user_id, topic.value, subject)
        return found or SentReminder(user_id=user_id, topic=topic.value, subject=subject)

    @staticmethod
    async def _reminded(uow: UnitOfWork, user_id: int) -> Citizen | None:
        """The citizen, if reminders may be sent to them."""
        citizen = await uow.citizens.get(user_id)
        if (
            citizen is None
            or citizen.consent_at is None
            or citizen.reminders_off
            or citizen.blocked_bot
        ):
            return None
        return citizen

    def zone_of(self, citizen: Citizen | None) -> tzinfo:
        """The zone of the citizen's region in the register; TIMEZONE when unknown."""
        return self.citizen_zone_of(citizen).zone

    def citizen_zone_of(self, citizen: Citizen | None) -> CitizenZone:
        person = self._register.by_enp(citizen.enp) if citizen and citizen.enp else None
        return citizen_zone(person.region if person else None, self._default_zone)

    # --- the citizen's view ---------------------------------------------------------------

    async def of_citizen(self, user_id: int) -> CitizenReminders:
        """What /reminders shows: whether they are on and what is scheduled, by when."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            citizen = await uow.citizens.get(user_id)
            shown = self.citizen_zone_of(citizen)
            zone = shown.zone
            if citizen is None or citizen.consent_at is None:
                return CitizenReminders(False, False, shown, [])
            upcoming: list[Upcoming] = []
            for snapshot in await uow.reminders.dialogs(user_id=user_id):
                wait = self._waits(snapshot.state, snapshot.data)
                if wait is not None and await self._still_waits(uow, wait):
                    record = await self._record(uow, user_id, wait.topic, wait.subject)
                    due = self._due(wait.topic, snapshot.updated_at, record)
                    if due is not None:
                        upcoming.append(self._upcoming(wait.topic, due, now, zone, record))
            for application in await uow.reminders.applications_in(
                ApplicationStatus.READY_FOR_PICKUP, user_id=user_id
            ):
                topic = ReminderTopic.PICKUP
                record = await self._record(uow, user_id, topic, str(application.id))
                due = self._due(topic, application.updated_at, record)
                if due is not None:
                    upcoming.append(
                        self._upcoming(topic, due, now, zone, record, application.number)
                    )
        upcoming.sort(key=lambda item: item.at)
        return CitizenReminders(True, not citizen.reminders_off, shown, upcoming)

    def _upcoming(
        self,
        topic: ReminderTopic,
        due: datetime,
        now: datetime,
        zone: tzinfo,
        record: SentReminder,
        number: str | None = None,
    ) -> Upcoming:
        at = self._policy.quiet_hours.first_allowed(max(due, now), zone)
        limit = self._policy.limit(topic)
        left = None if limit is None else limit - record.sent
        return Upcoming(topic, at, left, number)

    async def set_enabled(self, user_id: int, enabled: bool) -> bool:
        """Turn the citizen's reminders on or off; False when they never consented."""
        async with self._uow_factory() as uow:
            citizen = await uow.citizens.get(user_id)
            if citizen is None or citizen.consent_at is None:
                return False
            citizen.reminders_off = not enabled
            await uow.citizens.save(citizen)
            await uow.commit()
        return True

    # --- the operators' digest ------------------------------------------------------------

    async def request_digest(self, thread_id: int | None = None) -> bool:
        """/digest: queue the digest now (into the topic it was asked in). False without a
        support chat."""
        if self._desk_chat_id is None:
            return False
        async with self._uow_factory() as uow:
            await self._queue_digest(uow, self._clock.now(), thread_id)
            await uow.commit()
        return True

    async def _morning_digest(self, uow: UnitOfWork, now: datetime) -> int:
        """Once a day at DIGEST_AT (TIMEZONE), or at the first tick after it."""
        if self._desk_chat_id is None:
            return 0
        local = now.astimezone(self._default_zone)
        if local.time() < self._policy.digest_at:
            return 0
        last: date | None = await uow.reminders.last_digest_day()
        if last is not None and last >= local.date():
            return 0
        await uow.reminders.record_digest(local.date(), now)
        await self._queue_digest(uow, now, None)
        return 1

    async def _queue_digest(self, uow: UnitOfWork, now: datetime, thread_id: int | None) -> None:
        assert self._desk_chat_id is not None
        for application in await uow.reminders.open_applications(now - self._policy.service_level):
            # Operators act on an application from its topic: open one the first time it is
            # overdue (its note comes before the digest in the outbox, so the link exists).
            record = await self._record(
                uow, application.user_id, ReminderTopic.OVERDUE, str(application.id)
            )
            if record.sent == 0:
                await call_operators(
                    uow, application.user_id, name="", reason="desk.reason.overdue", now=now
                )
                record.sent, record.last_sent_at = 1, now
                await uow.reminders.record_sent(record)
        payload: dict[str, object] = {} if thread_id is None else {"thread_id": thread_id}
        await uow.outbox.add(
            Notification(
                chat_id=self._desk_chat_id,
                kind=NotificationKind.DESK_DIGEST,
                payload=payload,
                created_at=now,
            )
        )

    async def digest(self) -> Digest:
        """The overdue applications and the conversations waiting for an operator, now."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            overdue = [
                (application, await uow.conversations.get(application.user_id))
                for application in await uow.reminders.open_applications(
                    now - self._policy.service_level
                )
            ]
            listed = {application.user_id for application, _ in overdue}
            waiting = [
                conversation
                for conversation in await uow.reminders.waiting_conversations()
                if conversation.user_id not in listed
            ]
        return Digest(now, self._policy.service_level, overdue, waiting)
