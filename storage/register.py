"""The embedded register of insured persons: a CSV file loaded into memory with indexes.

Every row is validated at load; all bad rows are reported at once with their line numbers, each
problem naming the column and why it is wrong. The file is personal data and these messages get
logged, so a value is quoted only where it identifies nobody: a malformed date or sex code. ENP,
SNILS, passport, phone and names are described, never echoed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TypeVar

from core.errors import RegisterFileError
from core.models import InsuredPerson, Passport, Sex
from core.validators import (
    InvalidInput,
    ValidationError,
    normalize_phone,
    parse_enp,
    parse_iso_date,
    parse_snils,
)

DEMO_REGISTER_PATH = Path(__file__).with_name("demo") / "register.csv"

REGISTER_COLUMNS = (
    "enp",
    "snils",
    "last_name",
    "first_name",
    "middle_name",
    "sex",
    "birth_date",
    "passport_series",
    "passport_number",
    "phone",
    "region",
    "smo_name",
    "smo_phone",
    "valid_from",
)

T = TypeVar("T")

_UNIQUE_COLUMNS = ("enp", "snils", "phone")


class InMemoryRegister:
    """core.ports.RegisterLookup over a list of people, indexed by phone and by ENP."""

    def __init__(self, people: Iterable[InsuredPerson]) -> None:
        self._people: list[InsuredPerson] = []
        self._by_phone: dict[str, InsuredPerson] = {}
        self._by_enp: dict[str, InsuredPerson] = {}
        for person in people:
            if person.enp in self._by_enp:
                raise ValueError("duplicate ENP in the register")
            if person.phone in self._by_phone:
                raise ValueError("duplicate phone in the register")
            self._people.append(person)
            self._by_enp[person.enp] = person
            self._by_phone[person.phone] = person

    def by_phone(self, phone: str) -> InsuredPerson | None:
        """Any usual spelling of the number ("8 916 ...", "79161234567" from Telegram) matches."""
        try:
            return self._by_phone.get(normalize_phone(phone))
        except ValidationError:
            return None

    def by_enp(self, enp: str) -> InsuredPerson | None:
        return self._by_enp.get("".join(enp.split()))

    def people(self) -> Sequence[InsuredPerson]:
        """In file order."""
        return tuple(self._people)

    def __len__(self) -> int:
        return len(self._people)

    def __iter__(self) -> Iterator[InsuredPerson]:
        return iter(self._people)


def read_csv_rows(
    path: Path, columns: Sequence[str]
) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """Rows of a UTF-8 CSV (BOM allowed) with their first line numbers, or problems found.

    A missing column or an undecodable file is a problem at line 1 and stops there. Extra columns
    are ignored; a row with too few or too many fields is reported.
    """
    line = 1  # where the record being read starts
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            # csv.reader, not DictReader: DictReader skips blank lines silently, which would
            # shift the line numbers reported after them.
            reader = csv.reader(file, strict=True)
            header = [name.strip() for name in next(reader, [])]
            missing = [name for name in columns if name not in header]
            if missing:
                return [], [(1, f"missing column(s): {', '.join(missing)}")]
            index = {name: header.index(name) for name in columns}
            rows: list[tuple[int, dict[str, str]]] = []
            problems: list[tuple[int, str]] = []
            # line_num is the last physical line read; a quoted field may span several lines.
            line = reader.line_num + 1
            for record in reader:
                record_line, line = line, reader.line_num + 1
                if not record:
                    continue
                if len(record) != len(header):
                    problems.append(
                        (
                            record_line,
                            f"has {len(record)} fields, expected {len(header)} as in the header"
                            " (a comma inside a value needs the value in double quotes)",
                        )
                    )
                    continue
                rows.append((record_line, {name: record[i].strip() for name, i in index.items()}))
    except UnicodeDecodeError:
        return [], [(1, "not UTF-8 text")]
    except csv.Error as error:
        return [], [(line, f"malformed CSV ({error})")]
    return rows, problems


# Why a core validator refused a value, in the words of the register's format (docs/deployer.md).
_REASONS = {
    InvalidInput.ENP_FORMAT: "expected 16 digits",
    InvalidInput.ENP_CHECKSUM: "the check digit (the last one) does not match the other 15",
    InvalidInput.SNILS_FORMAT: "expected 11 digits, as XXX-XXX-XXX YY",
    InvalidInput.SNILS_CHECKSUM: "the control number (the last two digits) does not match",
}
# A date-like value is safe to quote; anything else in a date column may be a shifted phone
# or passport number.
_DATE_SHAPED = re.compile(r"[0-9]{1,4}[-./][0-9]{1,2}[-./][0-9]{1,4}")
# Cyrillic capital EM and ZHE: a register typed in Russian often has them instead of M / F.
_CYRILLIC_SEX = ("\u041c", "\u0416")
_ISO_SHAPED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadValue(ValueError):
    """A field's value is wrong; the message says why (and is safe to log)."""


class _RowParser:
    """Parses the fields of one row, collecting a problem per bad field instead of stopping."""

    def __init__(self, row: dict[str, str]) -> None:
        self.row = row
        self.problems: list[str] = []
        self.parsed: dict[str, object] = {}

    def field(self, name: str, parse: Callable[[str], T], fallback: T) -> T:
        # The fallback only keeps types simple; a row with any problem is thrown away.
        value = self.row[name]
        if not value:
            self.problems.append(f"{name}: empty")
            return fallback
        try:
            parsed = parse(value)
        except ValidationError as error:
            self.problems.append(f"{name}: {_REASONS.get(error.code, 'invalid')}")
            return fallback
        except BadValue as error:
            self.problems.append(f"{name}: {error}")
            return fallback
        self.parsed[name] = parsed
        return parsed


def _parse_person(row: dict[str, str]) -> tuple[InsuredPerson | None, _RowParser]:
    fields = _RowParser(row)
    # Parsed in column order, so the problems read in the order of the file's columns.
    enp = fields.field("enp", parse_enp, "")
    snils = fields.field("snils", parse_snils, "")
    last_name = fields.field("last_name", str, "")
    first_name = fields.field("first_name", str, "")
    sex = fields.field("sex", _sex, Sex.MALE)
    birth_date = fields.field("birth_date", _date, date.min)
    series = fields.field("passport_series", _passport_series, "")
    number = fields.field("passport_number", _passport_number, "")
    phone = fields.field("phone", _e164, "")
    region = fields.field("region", str, "")
    smo_name = fields.field("smo_name", str, "")
    smo_phone = fields.field("smo_phone", str, "")
    valid_from = fields.field("valid_from", _date, date.max)
    if not fields.problems and valid_from < birth_date:
        fields.problems.append("valid_from: earlier than birth_date (a policy starts after birth)")
    if fields.problems:
        return None, fields
    person = InsuredPerson(
        enp=enp,
        snils=snils,
        last_name=last_name,
        first_name=first_name,
        middle_name=row["middle_name"] or None,
        sex=sex,
        birth_date=birth_date,
        passport=Passport(series=series, number=number),
        phone=phone,
        region=region,
        smo_name=smo_name,
        smo_phone=smo_phone,
        valid_from=valid_from,
    )
    return person, fields


def _sex(value: str) -> Sex:
    try:
        return Sex(value.upper())
    except ValueError:
        if value.upper() in _CYRILLIC_SEX:
            raise BadValue(f"{value} is a Cyrillic letter; write the Latin M or F") from None
        if len(value) <= 10 and not any(c.isdigit() for c in value):
            raise BadValue(f"{value} is not M or F") from None
        raise BadValue("not M or F") from None


def _date(value: str) -> date:
    try:
        return parse_iso_date(value)
    except ValidationError:
        if _ISO_SHAPED.fullmatch(value):
            raise BadValue(f"{value} is not a date (expected YYYY-MM-DD)") from None
        if _DATE_SHAPED.fullmatch(value):
            raise BadValue(f"{value} is not written as YYYY-MM-DD") from None
        raise BadValue("not a date (expected YYYY-MM-DD)") from None


def _digits(value: str, count: int) -> str:
    if not re.fullmatch(r"[0-9]+", value):
        raise BadValue(f"expected {count} digits, found other characters")
    if len(value) != count:
        raise BadValue(f"expected {count} digits, found {len(value)}")
    return value


def _passport_series(value: str) -> str:
    return _digits("".join(value.split()), 4)  # "45 08" as printed in the passport


def _passport_number(value: str) -> str:
    return _digits(value, 6)


def _e164(value: str) -> str:
    """The file must hold E.164 already; a number that only normalises to it is refused."""
    try:
        normalized = normalize_phone(value)
    except ValidationError:
        raise BadValue("not a phone number (expected E.164, like +74951234567)") from None
    if normalized != value:
        raise BadValue("write it in E.164: a plus, the country code, no spaces (+74951234567)")
    return value


def load_register(path: Path | str) -> InMemoryRegister:
    """Load and validate the register CSV; RegisterFileError lists every bad row."""
    path = Path(path)
    rows, problems = read_csv_rows(path, REGISTER_COLUMNS)
    people: list[InsuredPerson] = []
    first_line_of: dict[tuple[str, str], int] = {}
    for line, row in rows:
        person, fields = _parse_person(row)
        # Duplicates are checked on every value that parsed, even in an otherwise bad row,
        # so one pass reports everything.
        for column in _UNIQUE_COLUMNS:
            value = fields.parsed.get(column)
            if value is None:
                continue
            seen = first_line_of.setdefault((column, str(value)), line)
            if seen != line:
                fields.problems.append(f"{column}: duplicate of line {seen}")
        if fields.problems:
            problems.append((line, "; ".join(fields.problems)))
        elif person is not None:
            people.append(person)
    if problems:
        raise RegisterFileError(str(path), sorted(problems))
    return InMemoryRegister(people)
