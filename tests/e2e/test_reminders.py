"""Reminders end to end: the unmodified bot on the sandbox clock, moved forward by the tests.

Each test moves the clock past (or just short of) a reminder's time, waits for a reminder tick
at that time (tests/e2e/clock.py), and reads what the citizen got.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from tests.e2e.clock import CLOCK_ENV, advance, bot_now, move_to, settle
from tests.e2e.conftest import StartBot
from tests.e2e.journey import IVANOV, KOZLOV, Citizen, new_citizen

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


async def reminders_of(c: Citizen, key: str = "reminder.dialog") -> list[dict]:
    snippet = c.snippet(key)
    return [m for m in await c.user.messages() if snippet in message_text(m)]


async def at_passport_step(c: Citizen) -> None:
    await c.consent()
    await c.login(IVANOV)
    await c.reason()  # step 4: the passport number


async def test_an_unfinished_dialog_is_reminded_after_a_day_at_most_twice_and_continues_there(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot(CLOCK_ENV)
    c = await new_citizen(client, texts)
    await at_passport_step(c)

    await advance(client, 23 * HOUR)
    await settle(bot, client)
    assert await reminders_of(c) == []  # not before the delay

    await advance(client, HOUR + timedelta(minutes=1))
    await settle(bot, client)
    [reminder] = await reminders_of(c)
    assert c.step_line(4).split()[0] not in message_text(reminder)  # a reminder, not the step
    assert "4" in message_text(reminder)
    assert c.t("step_name.passport_number") in message_text(reminder)

    await c.press("reminder.continue")  # exactly where the citizen stopped
    prompt = await c.expect("restore.passport.prompt")
    assert c.step_line(4) in message_text(prompt)

    await advance(client, DAY + timedelta(minutes=1))
    await settle(bot, client)
    assert len(await reminders_of(c)) == 2
    await advance(client, 3 * DAY)
    await settle(bot, client)
    assert len(await reminders_of(c)) == 2  # REMINDER_DIALOG_MAX

    await c.passport(IVANOV)  # and the dialog goes on from there
    await c.scan()


async def test_quiet_hours_shift_a_reminder_to_nine_in_the_citizens_own_region(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot({**CLOCK_ENV, "QUIET_HOURS": "22:00-09:00"})
    novosibirsk = ZoneInfo("Asia/Novosibirsk")  # KOZLOV's region, UTC+7; IVANOV is in Moscow
    now = (await bot_now(client)).astimezone(novosibirsk)
    stop_at = datetime.combine(now.date() + DAY, datetime.min.time(), novosibirsk)
    await move_to(client, stop_at.replace(hour=23))  # both stop at 23:00 in Novosibirsk
    await settle(bot, client)  # the bot follows the clock before the citizens start
    kozlov = await new_citizen(client, texts, user_id=7201)
    await kozlov.consent()
    await kozlov.login(KOZLOV)
    ivanov = await new_citizen(client, texts, user_id=7202)
    await ivanov.consent()
    await ivanov.login(IVANOV)

    # A day later: 23:30 in Novosibirsk (quiet), 19:30 in Moscow (not).
    await move_to(client, stop_at.replace(hour=23, minute=30) + DAY)
    await settle(bot, client)
    assert len(await reminders_of(ivanov)) == 1
    assert await reminders_of(kozlov) == []  # shifted, not dropped

    await kozlov.user.send_command("/reminders")
    shown = message_text(await kozlov.expect("reminder.settings.on"))
    assert kozlov.t("reminder.settings.zone.own", zone="UTC+7") in shown
    assert f"{(stop_at + 2 * DAY).date():%d.%m.%Y} 09:00" in shown

    await move_to(client, stop_at.replace(hour=8, minute=59) + 2 * DAY)
    await settle(bot, client)
    assert await reminders_of(kozlov) == []
    await move_to(client, stop_at.replace(hour=9, minute=1) + 2 * DAY)
    await settle(bot, client)
    assert len(await reminders_of(kozlov)) == 1


async def test_reminders_turned_off_are_not_sent_and_come_back_when_turned_on(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot(CLOCK_ENV)
    c = await new_citizen(client, texts)
    await at_passport_step(c)
    await c.user.send_command("/reminders")
    shown = message_text(await c.expect("reminder.settings.on"))
    assert c.t("reminder.settings.scheduled") in shown
    await c.press("reminder.button.off")
    await c.expect("reminder.settings.off")

    await advance(client, DAY + HOUR)
    await settle(bot, client)
    assert await reminders_of(c) == []

    await c.user.send_command("/reminders")
    await c.expect("reminder.settings.off")
    await c.press("reminder.button.on")
    await settle(bot, client)
    assert len(await reminders_of(c)) == 1  # due all along: sent at the next tick


async def test_a_reminder_missed_while_the_bot_was_down_is_sent_once_after_the_restart(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot(CLOCK_ENV)
    c = await new_citizen(client, texts)
    await at_passport_step(c)
    await bot.stop()
    await advance(client, 3 * DAY)  # many ticks' worth, and past the second reminder's time too
    await bot.start()
    await settle(bot, client)
    await advance(client, HOUR)
    await settle(bot, client)
    assert len(await reminders_of(c)) == 1


async def test_no_reminder_once_the_dialog_is_cancelled_or_finished(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    bot = await start_bot(CLOCK_ENV)
    cancelled = await new_citizen(client, texts, user_id=7301)
    await at_passport_step(cancelled)
    finished = await new_citizen(client, texts, user_id=7302)
    await finished.to_delivery(IVANOV)
    await finished.choose_electronic()
    await finished.submit()
    await finished.wait_status("ready")
    await cancelled.user.send_command("/cancel")
    await cancelled.expect("cancel.done")

    await advance(client, 2 * DAY)
    await settle(bot, client)
    assert await reminders_of(cancelled) == []
    assert await reminders_of(finished) == []
    await cancelled.user.send_command("/reminders")
    assert c_nothing(cancelled, message_text(await cancelled.expect("reminder.settings.on")))


def c_nothing(c: Citizen, text: str) -> bool:
    return c.t("reminder.settings.nothing") in text


async def test_every_status_push_and_status_say_what_happens_next_and_when(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    await start_bot({**CLOCK_ENV, "CHECK_DELAY_SECONDS": "600"})
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    await c.submit()
    await c.user.send_command("/status")
    status = message_text(await c.expect("status.application"))
    assert c.t("next.check") in status
    assert c.snippet("next.by") in status  # a date from the configured delays

    await advance(client, timedelta(minutes=11))
    push = message_text(await c.wait_status("processing"))
    assert c.t("next.check") in push and c.snippet("next.by") in push
    await advance(client, timedelta(minutes=11))
    ready = message_text(await c.wait_status("ready"))
    assert c.t("next.done") in ready
