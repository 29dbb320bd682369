"""The time zone of each subject of the Russian Federation, by its official name (DOMAIN.md).

Citizens' reminders keep quiet hours in the zone of their region; a region missing here (or a
citizen whose record is unknown) falls back to TIMEZONE. Names are compared as the register and
the office list compare them (core.validators.normalize_region).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

from core.validators import normalize_region

_ZONES: dict[str, tuple[str, ...]] = {
    "Europe/Kaliningrad": ("Калининградская область",),
    "Europe/Moscow": (
        "г. Москва",
        "г. Санкт-Петербург",
        "Московская область",
        "Ленинградская область",
        "Белгородская область",
        "Брянская область",
        "Владимирская область",
        "Воронежская область",
        "Ивановская область",
        "Калужская область",
        "Костромская область",
        "Курская область",
        "Липецкая область",
        "Орловская область",
        "Рязанская область",
        "Смоленская область",
        "Тамбовская область",
        "Тверская область",
        "Тульская область",
        "Ярославская область",
        "Архангельская область",
        "Вологодская область",
        "Мурманская область",
        "Новгородская область",
        "Псковская область",
        "Республика Карелия",
        "Республика Коми",
        "Ненецкий автономный округ",
        "Нижегородская область",
        "Пензенская область",
        "Ростовская область",
        "Краснодарский край",
        "Ставропольский край",
        "Республика Адыгея",
        "Республика Адыгея (Адыгея)",
        "Республика Дагестан",
        "Республика Ингушетия",
        "Кабардино-Балкарская Республика",
        "Карачаево-Черкесская Республика",
        "Республика Северная Осетия — Алания",
        "Чеченская Республика",
        "Республика Калмыкия",
        "Республика Марий Эл",
        "Республика Мордовия",
        "Республика Татарстан",
        "Республика Татарстан (Татарстан)",
        "Чувашская Республика",
        "Чувашская Республика — Чувашия",
        "Донецкая Народная Республика",
        "Луганская Народная Республика",
        "Запорожская область",
        "Херсонская область",
    ),
    "Europe/Simferopol": ("Республика Крым", "г. Севастополь"),
    "Europe/Kirov": ("Кировская область",),
    "Europe/Volgograd": ("Волгоградская область",),
    "Europe/Samara": ("Самарская область", "Удмуртская Республика"),
    "Europe/Astrakhan": ("Астраханская область",),
    "Europe/Saratov": ("Саратовская область",),
    "Europe/Ulyanovsk": ("Ульяновская область",),
    "Asia/Yekaterinburg": (
        "Свердловская область",
        "Челябинская область",
        "Курганская область",
        "Оренбургская область",
        "Тюменская область",
        "Ханты-Мансийский автономный округ — Югра",
        "Ямало-Ненецкий автономный округ",
        "Республика Башкортостан",
        "Пермский край",
    ),
    "Asia/Omsk": ("Омская область",),
    "Asia/Novosibirsk": ("Новосибирская область",),
    "Asia/Tomsk": ("Томская область",),
    "Asia/Novokuznetsk": ("Кемеровская область — Кузбасс", "Кемеровская область"),
    "Asia/Barnaul": ("Алтайский край", "Республика Алтай"),
    "Asia/Krasnoyarsk": ("Красноярский край", "Республика Тыва", "Республика Хакасия"),
    "Asia/Irkutsk": ("Иркутская область", "Республика Бурятия"),
    "Asia/Chita": ("Забайкальский край",),
    "Asia/Yakutsk": ("Амурская область", "Республика Саха (Якутия)"),
    "Asia/Vladivostok": (
        "Приморский край",
        "Хабаровский край",
        "Еврейская автономная область",
    ),
    "Asia/Magadan": ("Магаданская область",),
    "Asia/Sakhalin": ("Сахалинская область",),
    "Asia/Kamchatka": ("Камчатский край",),
    "Asia/Anadyr": ("Чукотский автономный округ",),
}

REGION_TIME_ZONES: Mapping[str, str] = MappingProxyType(
    {normalize_region(region): zone for zone, regions in _ZONES.items() for region in regions}
)


def zone_of_region(region: str | None, fallback: tzinfo) -> tzinfo:
    """The IANA zone of a region by its official name; `fallback` (TIMEZONE) when unknown."""
    if not region:
        return fallback
    name = REGION_TIME_ZONES.get(normalize_region(region))
    return ZoneInfo(name) if name else fallback
