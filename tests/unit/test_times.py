"""bot/times.py: a time in the citizen's own zone bare, in any other zone with its label."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Texts, create_texts
from bot.reminders import reminders_text
from bot.times import citizen_time, office_hours, zone_label
from core.models import PickupOffice
from core.reminders import CitizenReminders, ReminderTopic, Upcoming
from core.time_zones import CitizenZone, citizen_zone

MOSCOW = ZoneInfo("Europe/Moscow")
AT = datetime(2026, 11, 27, 9, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def texts() -> Texts:
    return create_texts()


def office(region: str) -> PickupOffice:
    return PickupOffice("x-1", region, "Office", "Street, 1", "9:00-18:00 <Mon-Fri>")


@pytest.mark.parametrize(
    ("zone", "locale", "label"),
    [
        ("Europe/Moscow", "ru", "МСК"),
        ("Europe/Moscow", "en", "Moscow time"),
        ("Asia/Yekaterinburg", "ru", "UTC+5"),
        ("Asia/Kolkata", "en", "UTC+5:30"),
        ("America/New_York", "en", "UTC-5"),
        ("UTC", "ru", "UTC"),
    ],
)
def test_a_zone_is_labelled_by_its_name_or_its_offset(
    zone: str, locale: str, label: str, texts: Texts
) -> None:
    assert zone_label(ZoneInfo(zone), AT, texts, locale) == label


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_a_time_in_the_citizens_own_zone_has_no_label(locale: str, texts: Texts) -> None:
    zone = citizen_zone("Новосибирская область", MOSCOW)
    assert zone == CitizenZone(ZoneInfo("Asia/Novosibirsk"), own=True)
    assert citizen_time(AT, zone, texts, locale) == "27.11.2026 16:05"


@pytest.mark.parametrize(("locale", "shown"), [("ru", "12:05 МСК"), ("en", "12:05 Moscow time")])
def test_a_time_in_timezone_says_so(locale: str, shown: str, texts: Texts) -> None:
    zone = citizen_zone("Atlantis", MOSCOW)
    assert zone == CitizenZone(MOSCOW, own=False)
    assert citizen_time(AT, zone, texts, locale) == f"27.11.2026 {shown}"
    far = citizen_zone(None, ZoneInfo("Asia/Vladivostok"))
    assert citizen_time(AT, far, texts, locale) == "27.11.2026 19:05 UTC+10"


def test_office_hours_in_the_citizens_own_zone_are_as_written(texts: Texts) -> None:
    own = citizen_zone("г. Москва", MOSCOW)
    assert office_hours(office("г. Москва"), own, texts, "ru", AT) == "9:00-18:00 &lt;Mon-Fri&gt;"
    # Another region with the same clock needs no label either.
    assert office_hours(office("Тверская область"), own, texts, "ru", AT).endswith("&gt;")


@pytest.mark.parametrize(("locale", "label"), [("ru", "(время UTC+7)"), ("en", "(UTC+7)")])
def test_office_hours_in_another_zone_name_it(locale: str, label: str, texts: Texts) -> None:
    novosibirsk = office("Новосибирская область")
    shown = office_hours(novosibirsk, citizen_zone("г. Москва", MOSCOW), texts, locale, AT)
    assert shown == f"9:00-18:00 &lt;Mon-Fri&gt; {label}"
    # A citizen of unknown region is not assumed to live in the office's zone.
    unknown = citizen_zone(None, ZoneInfo("Asia/Novosibirsk"))
    assert office_hours(novosibirsk, unknown, texts, locale, AT).endswith(label)


def test_office_hours_of_a_region_of_unknown_zone_are_as_written(texts: Texts) -> None:
    unknown = citizen_zone(None, MOSCOW)
    assert (
        office_hours(office("Atlantis"), unknown, texts, "ru", AT) == "9:00-18:00 &lt;Mon-Fri&gt;"
    )


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_reminders_say_the_zone_is_the_regions_or_timezone(locale: str, texts: Texts) -> None:
    upcoming = [Upcoming(ReminderTopic.DIALOG, AT, 2)]
    own = CitizenReminders(True, True, citizen_zone("Свердловская область", MOSCOW), upcoming)
    shown = reminders_text(own, texts, locale, "22:00–09:00")
    assert texts.t("reminder.settings.zone.own", locale=locale, zone="UTC+5") in shown
    assert "27.11.2026 14:05 — " in shown

    unknown = CitizenReminders(True, True, citizen_zone(None, MOSCOW), upcoming)
    shown = reminders_text(unknown, texts, locale, "22:00–09:00")
    moscow = texts.t("time.zone.moscow", locale=locale)
    assert texts.t("reminder.settings.zone.default", locale=locale, zone=moscow) in shown
    assert f"27.11.2026 12:05 {moscow} — " in shown
