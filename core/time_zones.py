"""The time zone of each subject of the Russian Federation, by its official name.

Citizens' reminders keep quiet hours in the zone of their region; a region missing from the table
(or a citizen whose record is unknown) falls back to TIMEZONE. Names are compared as the register
and the office list compare them (core.validators.normalize_region). The table is data, in
core/data/region_time_zones.csv (columns region, zone), read once on first use.

Times shown to a citizen are in their region's zone too; when that is unknown they are in TIMEZONE,
and then the text says which zone it is (bot/times.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from functools import cache
from importlib import resources
from types import MappingProxyType
from zoneinfo import ZoneInfo

from core.validators import normalize_region


@cache
def region_time_zones() -> Mapping[str, str]:
    """Normalised region name -> IANA zone name."""
    text = resources.files("core").joinpath("data/region_time_zones.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return MappingProxyType({normalize_region(row["region"]): row["zone"] for row in rows})


@dataclass(frozen=True, slots=True)
class CitizenZone:
    """The zone a citizen's times are shown in, and whether it is their own region's: a time in
    their own zone needs no label, a time in TIMEZONE (their region unknown) does."""

    zone: tzinfo
    own: bool


def citizen_zone(region: str | None, fallback: tzinfo) -> CitizenZone:
    """The zone of a citizen's region by its official name; `fallback` (TIMEZONE) when unknown."""
    name = region_time_zones().get(normalize_region(region)) if region else None
    return CitizenZone(ZoneInfo(name), own=True) if name else CitizenZone(fallback, own=False)


def zone_of_region(region: str | None, fallback: tzinfo) -> tzinfo:
    """The IANA zone of a region by its official name; `fallback` (TIMEZONE) when unknown."""
    return citizen_zone(region, fallback).zone
