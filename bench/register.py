"""A register of insured persons big enough for thousands of citizens at once.

Person i has the phone +7990<i:07d> and passport 45<i%100:02d> <i:06d>; ENP and SNILS carry valid
check digits, so the bot's loader accepts the file as it would a real one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from core.validators import luhn_check_digit, snils_check_number
from storage.register import REGISTER_COLUMNS

REGIONS = ("г. Москва", "г. Санкт-Петербург", "Новосибирская область", "Республика Татарстан")


@dataclass(frozen=True)
class BenchPerson:
    index: int
    phone: str
    passport: str  # as typed: "4512 000123"
    enp: str


def person(index: int) -> BenchPerson:
    series = f"45{index % 100:02d}"
    return BenchPerson(index, f"+7990{index:07d}", f"{series} {index:06d}", enp(index))


def enp(index: int) -> str:
    body = f"77{index:013d}"
    return body + luhn_check_digit(body)


def snils(index: int) -> str:
    # Above 001-001-998, where the check number applies.
    first_nine = f"{2_000_000 + index:09d}"
    digits = first_nine + snils_check_number(first_nine)
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def write_register(path: Path, count: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(REGISTER_COLUMNS)
        for i in range(count):
            p = person(i)
            series, number = p.passport.split()
            writer.writerow(
                [
                    p.enp,
                    snils(i),
                    "Тестов",
                    "Пётр",
                    "Нагрузочный" if i % 3 else "",
                    "M" if i % 2 else "F",
                    f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    series,
                    number,
                    p.phone,
                    REGIONS[i % len(REGIONS)],
                    "АО «СК «Бенч-Мед» (демо)",
                    "+78000000101",
                    "2015-01-01",
                ]
            )
    return path
