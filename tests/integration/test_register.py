from datetime import date
from pathlib import Path

import pytest

from core.errors import RegisterFileError
from core.models import Passport, Sex
from core.validators import (
    is_valid_enp,
    is_valid_snils,
    luhn_check_digit,
    normalize_region,
    snils_check_number,
)
from storage.offices import DEMO_OFFICES_PATH, load_offices
from storage.register import DEMO_REGISTER_PATH, REGISTER_COLUMNS, load_register

HEADER = ",".join(REGISTER_COLUMNS)
GOOD = (
    "8451999122899990,112-233-445 95,Иванов,Иван,Иванович,M,1985-06-12,4508,123456,"
    "+79990000001,г. Москва,АО «СК «Демо-Мед»,+78000000101,2012-03-01"
)
GOOD_2 = (
    "0040106028104484,98765432183,Петрова-Водкина,Алёна,,F,1992-11-03,4512,654321,"
    "+79990000002,Московская область,ООО «Демо»,8 800 000-00-02,2013-01-15"
)


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path = tmp_path / "register.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_good_file_loads_with_indexes(tmp_path: Path) -> None:
    register = load_register(write(tmp_path, f"{HEADER}\n{GOOD}\n{GOOD_2}\n"))
    assert len(register) == 2
    ivanov = register.by_enp("8451999122899990")
    assert ivanov is not None
    assert ivanov.snils == "11223344595"
    assert ivanov.passport == Passport("4508", "123456")
    assert ivanov.birth_date == date(1985, 6, 12)
    assert ivanov.sex is Sex.MALE
    petrova = register.by_phone("+79990000002")
    assert petrova is not None
    assert petrova.middle_name is None
    assert petrova.masked_profile == "Петрова-Водкина А., 03.**.1992"
    assert [p.last_name for p in register.people()] == ["Иванов", "Петрова-Водкина"]


@pytest.mark.parametrize(
    "spelling",
    ["+79990000001", "79990000001", "8 (999) 000-00-01", "9990000001", "+7 999 000 00 01"],
)
def test_phone_lookup_accepts_any_usual_spelling(tmp_path: Path, spelling: str) -> None:
    register = load_register(write(tmp_path, f"{HEADER}\n{GOOD}\n"))
    person = register.by_phone(spelling)
    assert person is not None and person.last_name == "Иванов"


def test_unknown_or_garbage_lookups_give_none(tmp_path: Path) -> None:
    register = load_register(write(tmp_path, f"{HEADER}\n{GOOD}\n"))
    assert register.by_phone("+79990000009") is None
    assert register.by_phone("not a phone") is None
    assert register.by_enp("0000000000000000") is None
    assert register.by_enp("8451 9991 2289 9990") is not None


def test_bom_extra_columns_and_column_order_are_fine(tmp_path: Path) -> None:
    columns = ["note", *reversed(REGISTER_COLUMNS)]
    values = ["какая-то заметка", *reversed(GOOD.split(","))]
    text = "\ufeff" + ",".join(columns) + "\r\n" + ",".join(values) + "\r\n"
    register = load_register(write(tmp_path, text))
    assert register.by_enp("8451999122899990") is not None


def test_a_missing_column_is_an_error_naming_it(tmp_path: Path) -> None:
    header = HEADER.replace(",smo_phone", "")
    with pytest.raises(RegisterFileError) as info:
        load_register(write(tmp_path, f"{header}\n"))
    assert info.value.problems == [(1, "missing column(s): smo_phone")]


def unique_row(n: int, **changes: str) -> str:
    """A valid row with its own ЕНП, СНИЛС and phone, then the changes."""
    values = dict(zip(REGISTER_COLUMNS, GOOD.split(","), strict=True))
    enp = f"{n:015d}"
    snils = f"{100_000_000 + n:09d}"
    values.update(
        enp=enp + luhn_check_digit(enp),
        snils=snils + snils_check_number(snils),
        phone=f"+7999{n:07d}",
    )
    values.update(changes)
    return ",".join(values[c] for c in REGISTER_COLUMNS)


def test_every_bad_row_is_reported_with_its_line_number(tmp_path: Path) -> None:
    lines = [
        HEADER,  # 1
        GOOD,  # 2
        unique_row(3, enp="8451999122899991"),  # 3: Luhn
        unique_row(4, enp="8451999122899990"),  # 4: ЕНП of line 2
        unique_row(5, snils="112-233-445 96"),  # 5: СНИЛС control
        GOOD_2,  # 6
        unique_row(7, sex="X", snils="98765432183"),  # 7: sex, and СНИЛС of line 6
        unique_row(8, birth_date="12.06.1985"),  # 8
        unique_row(9, passport_series="45A8"),  # 9
        unique_row(10, phone="89990000010"),  # 10: not E.164
        unique_row(11, phone="+79990000002"),  # 11: phone of line 6
        unique_row(12, last_name=""),  # 12
        "1,2,3",  # 13: too few fields
        unique_row(14, valid_from="1980-01-01"),  # 14: before birth
        unique_row(15),  # 15: fine
    ]
    with pytest.raises(RegisterFileError) as info:
        load_register(write(tmp_path, "\n".join(lines) + "\n"))
    problems = dict(info.value.problems)
    assert problems == {
        3: "enp: the check digit (the last one) does not match the other 15",
        4: "enp: duplicate of line 2",
        5: "snils: the control number (the last two digits) does not match",
        7: "sex: X is not M or F; snils: duplicate of line 6",
        8: "birth_date: 12.06.1985 is not written as YYYY-MM-DD",
        9: "passport_series: expected 4 digits, found other characters",
        10: "phone: write it in E.164: a plus, the country code, no spaces (+74951234567)",
        11: "phone: duplicate of line 6",
        12: "last_name: empty",
        13: "has 3 fields, expected 14 as in the header"
        " (a comma inside a value needs the value in double quotes)",
        14: "valid_from: earlier than birth_date (a policy starts after birth)",
    }
    # Personal data stays out of the message, which ends up in logs.
    message = str(info.value)
    assert "4508" not in message and "+7999" not in message and "Иванов" not in message


def test_line_numbers_count_physical_lines_of_quoted_multiline_fields(tmp_path: Path) -> None:
    multiline = GOOD_2.replace("ООО «Демо»", '"ООО\n«Демо»"')
    bad = GOOD.replace("1985-06-12", "1985-13-12").replace("8451999122899990", "1234567812345670")
    bad = bad.replace("+79990000001", "+79990000003").replace("112-233-445 95", "00100199812")
    with pytest.raises(RegisterFileError) as info:
        load_register(write(tmp_path, f"{HEADER}\n{GOOD}\n{multiline}\n{bad}\n"))
    assert info.value.problems == [
        (5, "birth_date: 1985-13-12 is not a date (expected YYYY-MM-DD)")
    ]


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RegisterFileError) as info:
        load_register(write(tmp_path, f"{HEADER}\n{GOOD}\n", encoding="cp1251"))
    assert info.value.problems == [(1, "not UTF-8 text")]


# ---------------------------------------------------------------- the shipped demo data


def test_demo_register_loads_and_starts_with_the_memorable_person() -> None:
    register = load_register(DEMO_REGISTER_PATH)
    assert len(register) >= 24
    first = register.people()[0]
    assert first.full_name == "Иванов Иван Иванович"
    assert first.phone == "+79990000001"
    assert first.passport == Passport("4508", "123456")
    assert register.by_phone("+79990000001") == first
    people = register.people()
    assert all(is_valid_enp(p.enp) and is_valid_snils(p.snils) for p in people)
    assert all(p.phone.startswith("+7999") for p in people)
    assert len({p.passport for p in people}) == len(people)
    assert {Sex.MALE, Sex.FEMALE} == {p.sex for p in people}
    assert any(p.middle_name is None for p in people)
    assert any("-" in p.last_name for p in people)
    assert any("ё" in p.full_name.lower() for p in people)
    assert len({p.smo_name for p in people}) >= 3
    assert len({p.region for p in people}) >= 6


def test_demo_offices_cover_every_demo_region_but_novosibirsk() -> None:
    register = load_register(DEMO_REGISTER_PATH)
    offices = load_offices(DEMO_OFFICES_PATH)
    regions = {p.region for p in register.people()}
    without_office = {r for r in regions if not offices.for_region(r)}
    assert without_office == {"Новосибирская область"}
    for region in ("г. Москва", "г. Санкт-Петербург", "Московская область"):
        assert offices.for_region(region)
    assert all(o.name.startswith("ДЕМО") for o in offices.offices())
    assert all(
        normalize_region(o.region) in {normalize_region(r) for r in regions}
        for o in offices.offices()
    )


def test_malformed_csv_is_reported_with_its_line(tmp_path: Path) -> None:
    broken = GOOD_2.replace("ООО «Демо»", '"ООО" «Демо»')
    with pytest.raises(RegisterFileError) as info:
        load_register(write(tmp_path, f"{HEADER}\n{GOOD}\n{broken}\n"))
    [(line, problem)] = info.value.problems
    assert line == 3 and problem.startswith("malformed CSV")


def test_blank_lines_do_not_shift_line_numbers(tmp_path: Path) -> None:
    bad = unique_row(5, sex="?")
    with pytest.raises(RegisterFileError) as info:
        load_register(write(tmp_path, f"{HEADER}\n\n{GOOD}\n\n{bad}\n\n"))
    assert info.value.problems == [(5, "sex: ? is not M or F")]


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        (
            {"birth_date": "1990-13-01"},
            "birth_date: 1990-13-01 is not a date (expected YYYY-MM-DD)",
        ),
        (
            {"valid_from": "2012-02-30"},
            "valid_from: 2012-02-30 is not a date (expected YYYY-MM-DD)",
        ),
        ({"birth_date": "+79990000001"}, "birth_date: not a date (expected YYYY-MM-DD)"),
        ({"enp": "12345"}, "enp: expected 16 digits"),
        ({"snils": "112-233-445"}, "snils: expected 11 digits, as XXX-XXX-XXX YY"),
        ({"sex": "\u041c"}, "sex: \u041c is a Cyrillic letter; write the Latin M or F"),
        ({"sex": "4508123456"}, "sex: not M or F"),
        ({"passport_series": "450"}, "passport_series: expected 4 digits, found 3"),
        ({"passport_number": "1234567"}, "passport_number: expected 6 digits, found 7"),
        ({"phone": "call me"}, "phone: not a phone number (expected E.164, like +74951234567)"),
        ({"smo_name": ""}, "smo_name: empty"),
    ],
)
def test_a_bad_field_says_why(tmp_path: Path, changes: dict[str, str], why: str) -> None:
    with pytest.raises(RegisterFileError) as info:
        load_register(write(tmp_path, f"{HEADER}\n{unique_row(2, **changes)}\n"))
    assert info.value.problems == [(2, why)]
    # Identifiers are described, never quoted: the message ends up in logs.
    assert "+7999" not in str(info.value) and "4508" not in str(info.value)
