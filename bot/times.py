"""The one place a time is written for a citizen.

A citizen reads times in their own region's zone (core/time_zones.py) with no label: that is what
their own clock says. When their region is unknown, times are in TIMEZONE and a short label says
which zone that is ("Moscow time", "UTC+5"); so do an office's hours in another zone than theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from html import escape

from babel.dates import format_datetime

from bot.i18n import Texts
from core.models import Application, PickupOffice
from core.restoration import RestorationService
from core.time_zones import CitizenZone, citizen_zone

PATTERN = "dd.MM.yyyy HH:mm"  # the same in both languages, as the texts' own dates are
# Moscow time has a name people use (time.zone.moscow); other zones are told by their offset.
MOSCOW = "Europe/Moscow"


def zone_label(zone: tzinfo, at: datetime, texts: Texts, locale: str | None = None) -> str:
    """Moscow's name for Moscow, else the UTC offset at `at`: "UTC+5", "UTC+5:30"."""
    if getattr(zone, "key", None) == MOSCOW:
        return texts.t("time.zone.moscow", locale=locale)
    minutes = int((at.astimezone(zone).utcoffset() or timedelta()).total_seconds()) // 60
    hours, rest = divmod(abs(minutes), 60)
    offset = f"{'-' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")
    return texts.t("time.zone.offset", locale=locale, offset=offset if minutes else "")


def citizen_time(
    moment: datetime, zone: CitizenZone, texts: Texts, locale: str | None = None
) -> str:
    """A moment as the citizen should read it: "27.11.2026 14:05", or "27.11.2026 14:05 UTC+5"
    when it is not in their own zone."""
    locale = locale or texts.current_locale
    at = format_datetime(moment, PATTERN, tzinfo=zone.zone, locale=locale)
    if zone.own:
        return at
    label = zone_label(zone.zone, moment, texts, locale)
    return texts.t("time.in_zone", locale=locale, at=at, zone=label)


def office_hours(
    office: PickupOffice,
    zone: CitizenZone,
    texts: Texts,
    locale: str | None = None,
    now: datetime | None = None,
) -> str:
    """An office's hours (HTML-escaped), which are its local time: labelled with its zone when
    that is not the citizen's own. An office in a region of unknown zone is left as written."""
    hours = escape(office.hours)
    office_zone = citizen_zone(office.region, zone.zone)
    if not office_zone.own:
        return hours
    # Offsets, not names: Moscow and Volgograd keep the same clock.
    at = now or datetime.now(UTC)
    if (
        zone.own
        and at.astimezone(office_zone.zone).utcoffset() == at.astimezone(zone.zone).utcoffset()
    ):
        return hours
    label = zone_label(office_zone.zone, at, texts, locale)
    return texts.t("time.hours_in_zone", locale=locale, hours=hours, zone=label)


async def zone_of_application(
    restoration: RestorationService, application: Application, default: tzinfo
) -> CitizenZone:
    """The zone of the applicant's region in the register; `default` (TIMEZONE) when unknown."""
    person = await restoration.person_for(application)
    return citizen_zone(person.region if person else None, default)
