"""Reminder use cases against the fake unit of work: what is due, when, and that it is recorded
with its outbox row so a restart sends nothing twice."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.models import (
    Application,
    ApplicationStatus,
    Citizen,
    DeliveryMethod,
    DialogSnapshot,
    Notification,
    NotificationKind,
)
from core.reminders import (
    DialogWait,
    QuietHours,
    ReminderPolicy,
    ReminderService,
    ReminderTopic,
    parse_clock_time,
)
from core.support import Conversation, ConversationStatus
from core.time_zones import zone_of_region
from tests.fakes import FakeClock, FakeDialogSnapshots, FakeRegister, FakeUnitOfWorkFactory
from tests.unit.test_restoration import ENP, PERSON, Env, make_draft

ROOT = Path(__file__).resolve().parents[2]
MOSCOW = ZoneInfo("Europe/Moscow")
USER = 100
DESK = -1001
# 09:00 UTC is 12:00 in Moscow: outside the quiet hours.
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def waits(state: str, data: object) -> DialogWait | None:
    return DialogWait(ReminderTopic.DIALOG, "run-1") if state == "Restoration:reason" else None


class Reminders:
    def __init__(self, policy: ReminderPolicy | None = None, desk: int | None = None) -> None:
        self.clock = FakeClock(START)
        self.db = FakeUnitOfWorkFactory()
        self.dialogs = FakeDialogSnapshots()
        self.service = ReminderService(
            uow_factory=self.db,
            dialogs=self.dialogs,
            clock=self.clock,
            register=FakeRegister([PERSON]),
            policy=policy or ReminderPolicy(),
            waits=waits,
            default_zone=MOSCOW,
            desk_chat_id=desk,  # a support chat: the morning digest too
        )

    def citizen(self, **fields: object) -> None:
        citizen = Citizen(user_id=USER, locale="ru", enp=ENP, consent_at=START)
        for name, value in fields.items():
            setattr(citizen, name, value)
        self.db.committed.citizens[USER] = citizen

    def stop_dialog(self, at: datetime, state: str = "Restoration:reason") -> None:
        self.dialogs.set_dialog(DialogSnapshot(USER, state, {}, at))

    def reminders(
        self, kind: NotificationKind = NotificationKind.REMINDER_DIALOG
    ) -> list[Notification]:
        return [n for n in self.db.notifications() if n.kind is kind]


async def test_an_unfinished_dialog_is_reminded_after_the_delay_and_at_most_the_limit() -> None:
    r = Reminders()
    r.citizen()
    r.stop_dialog(START)
    r.clock.advance(timedelta(hours=23, minutes=59))
    assert await r.service.tick() == 0
    r.clock.advance(timedelta(minutes=1))
    assert await r.service.tick() == 1
    assert await r.service.tick() == 0  # recorded with its row: never twice
    [row] = r.reminders()
    assert row.payload == {"topic": "dialog", "subject": "run-1"}  # codes only
    r.clock.advance(timedelta(days=1))
    assert await r.service.tick() == 1
    r.clock.advance(timedelta(days=5))
    assert await r.service.tick() == 0  # two at most
    assert len(r.reminders()) == 2


async def test_days_missed_while_down_give_one_reminder_not_one_per_tick() -> None:
    r = Reminders()
    r.citizen()
    r.stop_dialog(START)
    r.clock.advance(timedelta(days=10))
    assert await r.service.tick() == 1
    assert await r.service.tick() == 0


async def test_coming_back_to_the_dialog_restarts_the_delay() -> None:
    r = Reminders()
    r.citizen()
    r.stop_dialog(START)
    r.clock.advance(timedelta(days=1))
    await r.service.tick()
    r.stop_dialog(r.clock.advance(timedelta(hours=2)))  # "continue" pressed
    r.clock.advance(timedelta(hours=23))
    assert await r.service.tick() == 0
    r.clock.advance(timedelta(hours=1))
    assert await r.service.tick() == 1


@pytest.mark.parametrize(
    "fields",
    [{"reminders_off": True}, {"blocked_bot": True}, {"consent_at": None}],
    ids=["turned off", "blocked the bot", "no consent"],
)
async def test_no_reminder_to_who_turned_them_off_blocked_or_never_consented(
    fields: dict[str, object],
) -> None:
    r = Reminders()
    r.citizen(**fields)
    r.stop_dialog(START)
    r.clock.advance(timedelta(days=3))
    assert await r.service.tick() == 0


async def test_no_reminder_once_the_dialog_is_over() -> None:
    r = Reminders()
    r.citizen()
    r.stop_dialog(START, state="SupportChat:with_operator")  # not a step: waits() says None
    r.clock.advance(timedelta(days=3))
    assert await r.service.tick() == 0


async def test_quiet_hours_shift_a_reminder_to_their_end_in_the_citizens_zone() -> None:
    r = Reminders()
    r.citizen()
    # 20:00 UTC is 23:00 in Moscow (PERSON's region falls back to TIMEZONE: Moscow).
    night = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    r.clock.set(night)
    r.stop_dialog(night - timedelta(days=1))
    assert await r.service.tick() == 0
    view = await r.service.of_citizen(USER)
    assert [item.at for item in view.upcoming] == [datetime(2026, 11, 28, 6, 0, tzinfo=UTC)]
    r.clock.set(datetime(2026, 11, 28, 6, 0, tzinfo=UTC))  # 09:00 in Moscow
    assert await r.service.tick() == 1


async def test_a_paper_copy_waiting_at_the_office_is_reminded_every_few_days() -> None:
    env = Env()
    env.clock.set(START)
    r = Reminders()
    r.db, r.clock = env.db, env.clock
    r.service = ReminderService(
        uow_factory=env.db,
        dialogs=r.dialogs,
        clock=env.clock,
        register=env.register,
        policy=ReminderPolicy(),
        waits=waits,
        default_zone=MOSCOW,
    )
    r.citizen()
    application = await submit_pickup(env)
    assert application.status is ApplicationStatus.READY_FOR_PICKUP
    env.clock.advance(timedelta(days=3) - timedelta(minutes=1))
    assert await r.service.tick() == 0
    env.clock.advance(timedelta(minutes=2))
    assert await r.service.tick() == 1
    assert r.reminders(NotificationKind.REMINDER_PICKUP)[0].payload == {
        "application_id": application.id
    }
    env.clock.advance(timedelta(days=3))
    assert await r.service.tick() == 1
    await env.service.mark_collected(application.id, owner=USER, operator_id=5)
    env.clock.advance(timedelta(days=30))
    assert await r.service.tick() == 0


async def submit_pickup(env: Env) -> Application:
    application = await env.service.submit(make_draft(DeliveryMethod.PICKUP))
    for _ in range(3):
        env.clock.advance(timedelta(minutes=5))
        await env.service.process_due()
    return await env.service.get(application.id)


async def test_the_morning_digest_goes_once_a_day_after_its_hour() -> None:
    r = Reminders(desk=DESK)
    r.clock.set(datetime(2026, 11, 27, 5, 59, tzinfo=UTC))  # 08:59 in Moscow
    assert await r.service.tick() == 0
    r.clock.set(datetime(2026, 11, 27, 6, 0, tzinfo=UTC))
    assert await r.service.tick() == 1
    r.clock.advance(timedelta(hours=5))
    assert await r.service.tick() == 0
    r.clock.advance(timedelta(days=3))  # days missed: one digest, for today
    assert await r.service.tick() == 1
    assert len(r.reminders(NotificationKind.DESK_DIGEST)) == 2


async def test_the_digest_lists_overdue_applications_and_waiting_conversations() -> None:
    env = Env(desk_enabled=True)
    env.clock.set(START)
    service = ReminderService(
        uow_factory=env.db,
        dialogs=FakeDialogSnapshots(),
        clock=env.clock,
        register=env.register,
        policy=ReminderPolicy(service_level=timedelta(hours=72)),
        waits=waits,
        default_zone=MOSCOW,
        desk_chat_id=DESK,
    )
    late = await env.service.submit(make_draft(key="late"))
    await env.service.change_status(late.id, ApplicationStatus.PROCESSING, actor="operator:1")
    env.clock.advance(timedelta(hours=73))
    await env.service.submit(make_draft(key="recent", user_id=300))
    env.db.committed.conversations[200] = Conversation(
        200, ConversationStatus.WAITING, env.clock.now(), citizen_name="Anna"
    )
    assert await service.request_digest(thread_id=7)
    digest = await service.digest()
    assert [a.id for a, _ in digest.overdue] == [late.id]
    assert [c.user_id for c in digest.waiting] == [200]  # the overdue one is not listed twice
    notes = [n for n in env.db.notifications() if n.kind is NotificationKind.DESK_NOTE]
    assert [n.payload["note"] for n in notes] == ["desk.reason.overdue"]  # its topic, once
    await service.request_digest()
    assert len([n for n in env.db.notifications() if n.kind is NotificationKind.DESK_NOTE]) == 1
    rows = [n for n in env.db.notifications() if n.kind is NotificationKind.DESK_DIGEST]
    assert [(n.chat_id, n.payload) for n in rows] == [(DESK, {"thread_id": 7}), (DESK, {})]


async def test_reminders_can_be_turned_off_only_by_who_consented() -> None:
    r = Reminders()
    assert not await r.service.set_enabled(USER, False)
    r.citizen()
    assert await r.service.set_enabled(USER, False)
    assert r.db.citizens()[0].reminders_off
    assert not (await r.service.of_citizen(USER)).enabled


@pytest.mark.parametrize(
    ("local", "quiet"),
    [(time(21, 59), False), (time(22, 0), True), (time(3, 0), True), (time(9, 0), False)],
)
def test_quiet_hours_span_midnight(local: time, quiet: bool) -> None:
    assert QuietHours.parse("22:00-09:00").contains(local) is quiet


def test_quiet_hours_of_equal_ends_are_none_and_bad_text_is_refused() -> None:
    assert not QuietHours.parse("00:00-00:00").contains(time(3, 0))
    for bad in ("22-09", "25:00-09:00", "22:00"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)
    assert parse_clock_time("9:30") == time(9, 30)


def test_every_region_of_the_demo_register_and_offices_has_its_own_time_zone() -> None:
    regions = set()
    for name in ("register.csv", "pickup_offices.csv"):
        with (ROOT / "storage" / "demo" / name).open(encoding="utf-8") as file:
            regions |= {row["region"] for row in csv.DictReader(file)}
    fallback = ZoneInfo("UTC")
    assert all(zone_of_region(region, fallback) is not fallback for region in regions)
    novosibirsk = next(r for r in regions if zone_of_region(r, fallback).key == "Asia/Novosibirsk")
    assert zone_of_region(novosibirsk.upper(), fallback).key == "Asia/Novosibirsk"
    assert zone_of_region("Atlantis", fallback) is fallback


def test_the_time_zone_table_names_real_zones() -> None:
    with (ROOT / "core" / "data" / "region_time_zones.csv").open(encoding="utf-8") as file:
        zones = {row["zone"] for row in csv.DictReader(file)}
    assert all(ZoneInfo(zone) for zone in zones)
