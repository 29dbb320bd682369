from datetime import date

import pytest

from core.errors import DomainError
from core.models import Passport
from core.validators import (
    InvalidInput,
    ValidationError,
    format_snils,
    is_valid_enp,
    is_valid_snils,
    luhn_check_digit,
    normalize_phone,
    normalize_region,
    parse_address,
    parse_email,
    parse_enp,
    parse_free_text,
    parse_iso_date,
    parse_passport,
    parse_postcode,
    parse_snils,
    snils_check_number,
)


def code_of(call, *args, **kwargs) -> InvalidInput:
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return info.value.code


def test_validation_error_is_a_domain_error_without_the_input_in_its_message() -> None:
    with pytest.raises(DomainError) as info:
        parse_snils("112-233-445 96")
    assert "112" not in str(info.value)
    assert str(info.value) == InvalidInput.SNILS_CHECKSUM.value


# ---------------------------------------------------------------- ЕНП


def test_enp_check_digit_matches_the_domain_example() -> None:
    assert luhn_check_digit("845199912289999") == "0"
    assert is_valid_enp("8451999122899990")


@pytest.mark.parametrize(("payload", "check"), [("7992739871", "3"), ("0", "0"), ("1", "8")])
def test_luhn_check_digit_on_known_values(payload: str, check: str) -> None:
    assert luhn_check_digit(payload) == check


@pytest.mark.parametrize("bad", ["", "12a", "１２"])
def test_luhn_check_digit_refuses_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        luhn_check_digit(bad)


@pytest.mark.parametrize(
    "raw", ["8451999122899990", "8451 9991 2289 9990", " 8451-9991-2289-9990 "]
)
def test_parse_enp_accepts_grouped_input(raw: str) -> None:
    assert parse_enp(raw) == "8451999122899990"


@pytest.mark.parametrize("last", "123456789")
def test_parse_enp_rejects_every_wrong_check_digit(last: str) -> None:
    assert not is_valid_enp("845199912289999" + last)
    assert code_of(parse_enp, "845199912289999" + last) is InvalidInput.ENP_CHECKSUM


@pytest.mark.parametrize(
    "raw", ["", "845199912289999", "84519991228999900", "845199912289999O", "٨451999122899990"]
)
def test_parse_enp_rejects_wrong_length_or_characters(raw: str) -> None:
    assert code_of(parse_enp, raw) is InvalidInput.ENP_FORMAT


def test_enp_detects_a_swap_of_adjacent_digits() -> None:
    assert not is_valid_enp("4851999122899990")


# ---------------------------------------------------------------- СНИЛС


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("112-233-445 95", "11223344595"),
        ("987-654-321 83", "98765432183"),
        ("11223344595", "11223344595"),
    ],
)
def test_parse_snils_accepts_domain_examples(raw: str, digits: str) -> None:
    assert parse_snils(raw) == digits


@pytest.mark.parametrize("raw", ["112-233-445 96", "987-654-321 38", "11223344500"])
def test_parse_snils_rejects_broken_control_number(raw: str) -> None:
    assert code_of(parse_snils, raw) is InvalidInput.SNILS_CHECKSUM


@pytest.mark.parametrize(
    "raw", ["", "112-233-445", "112-233-445 9", "112-233-445 955", "abc-def-ghi jk"]
)
def test_parse_snils_rejects_bad_format(raw: str) -> None:
    assert code_of(parse_snils, raw) is InvalidInput.SNILS_FORMAT


def weighted_sum(first_nine: str) -> int:
    return sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True))


@pytest.mark.parametrize(("first_nine", "total"), [("050234316", 100), ("016103396", 101)])
def test_snils_control_is_00_when_the_sum_is_100_or_101(first_nine: str, total: int) -> None:
    assert weighted_sum(first_nine) == total
    assert snils_check_number(first_nine) == "00"
    assert is_valid_snils(first_nine + "00")


def test_snils_sum_below_100_is_the_control_itself() -> None:
    assert weighted_sum("112233445") == 95
    assert snils_check_number("112233445") == "95"


@pytest.mark.parametrize(
    ("first_nine", "total", "control"),
    [("987654321", 285, "83"), ("820981233", 201, "00"), ("368898975", 302, "00")],
)
def test_snils_sum_above_101_is_taken_mod_101_with_100_as_00(
    first_nine: str, total: int, control: str
) -> None:
    assert weighted_sum(first_nine) == total
    assert snils_check_number(first_nine) == control


def test_old_snils_numbers_are_not_checked() -> None:
    assert is_valid_snils("00100199812")
    assert not is_valid_snils("00100199912")


def test_format_snils() -> None:
    assert format_snils("11223344595") == "112-233-445 95"
    with pytest.raises(ValueError):
        format_snils("1122334459")


# ---------------------------------------------------------------- passport


@pytest.mark.parametrize(
    "raw",
    [
        "45 08 123456",
        "4508123456",
        "4508 № 123456",
        "4508-123456",
        "серия 4508 номер 123456",
        "Серия: 45 08, номер: 123456",
        "45 08 123 456",
        " 4508\u00a0123456 ",
    ],
)
def test_parse_passport_accepts_the_forms_people_type(raw: str) -> None:
    assert parse_passport(raw) == Passport(series="4508", number="123456")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "450812345",  # 9 digits
        "45081234567",  # 11 digits
        "450 8123456",  # series split in the wrong place
        "45081 23456",
        "4508 123456 7",
        "серия номер",
        "4508 " + "x" * 80 + " 123456",
        "٤٥٠٨ ١٢٣٤٥٦",
    ],
)
def test_parse_passport_rejects_other_inputs(raw: str) -> None:
    assert code_of(parse_passport, raw) is InvalidInput.PASSPORT_FORMAT


# ---------------------------------------------------------------- postcode, address


@pytest.mark.parametrize(
    ("raw", "code"), [("101000", "101000"), (" 630 099 ", "630099"), ("420111", "420111")]
)
def test_parse_postcode(raw: str, code: str) -> None:
    assert parse_postcode(raw) == code


@pytest.mark.parametrize("raw", ["", "10100", "1010000", "012345", "701000", "90210a"])
def test_parse_postcode_rejects(raw: str) -> None:
    assert code_of(parse_postcode, raw) is InvalidInput.POSTCODE_FORMAT


def test_parse_address_collapses_whitespace_and_checks_length() -> None:
    assert parse_address("  г. Москва,\n ул. Примерная,  д. 1 ") == "г. Москва, ул. Примерная, д. 1"
    assert code_of(parse_address, "Москва") is InvalidInput.ADDRESS_TOO_SHORT
    assert code_of(parse_address, "   ") is InvalidInput.TEXT_EMPTY
    assert code_of(parse_address, "д" * 301) is InvalidInput.TEXT_TOO_LONG


# ---------------------------------------------------------------- phone


@pytest.mark.parametrize(
    "raw",
    [
        "8 (916) 123-45-67",
        "+7 916 1234567",
        "79161234567",
        "9161234567",
        "+7 (916) 123-45-67",
        "8-916-123-45-67",
        " +79161234567 ",
    ],
)
def test_normalize_phone_russian_forms(raw: str) -> None:
    assert normalize_phone(raw) == "+79161234567"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+375 29 123-45-67", "+375291234567"),
        ("+12345678", "+12345678"),
    ],
)
def test_normalize_phone_keeps_other_country_codes_with_a_plus(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "+",
        "12345",
        "+123456",  # 6 digits
        "+1234567890123456",  # 16 digits
        "+7916123456",  # +7 with 10 digits
        "+791612345678",
        "442079460958",  # a foreign number without the plus
        "59161234567",
        "+0123456789",
        "8 916 123 45 67 доб. 1",
        "+7 916 1234567+",
    ],
)
def test_normalize_phone_rejects(raw: str) -> None:
    assert code_of(normalize_phone, raw) is InvalidInput.PHONE_FORMAT


# ---------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    ("raw", "email"),
    [
        (" Ivan.Petrov@Example.COM ", "Ivan.Petrov@example.com"),
        ("user+tag@mail.example.ru", "user+tag@mail.example.ru"),
        ("ivan@почта.РФ", "ivan@почта.рф"),
        ("ivan@xn--80a1acny.xn--p1ai", "ivan@xn--80a1acny.xn--p1ai"),
    ],
)
def test_parse_email(raw: str, email: str) -> None:
    assert parse_email(raw) == email


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ivan",
        "ivan@",
        "@example.com",
        "ivan@example",
        "iv an@example.com",
        "a@@b.ru",
        "a..b@c.ru",
        "a@b.c",
        "a@-b.ru",
    ],
)
def test_parse_email_rejects(raw: str) -> None:
    assert code_of(parse_email, raw) is InvalidInput.EMAIL_FORMAT


# ---------------------------------------------------------------- free text


def test_parse_free_text_strips_and_collapses() -> None:
    assert parse_free_text("  забыл\n\n в  такси\t ") == "забыл в такси"
    assert parse_free_text("a\u200bb\x00c") == "ab c"


def test_parse_free_text_refuses_what_only_looks_like_text() -> None:
    # Braille blank and Hangul fillers show as nothing; right-to-left overrides are dropped.
    assert code_of(parse_free_text, "\u2800\u3164 \uffa0") is InvalidInput.TEXT_EMPTY
    assert code_of(parse_free_text, "\u200b\u202e\ufeff") is InvalidInput.TEXT_EMPTY
    assert code_of(parse_free_text, "😭 🏠 ★ !!") is InvalidInput.TEXT_NO_WORDS
    assert parse_free_text("дом 5 🏠") == "дом 5 🏠"
    assert parse_free_text("Tverskaya 1\u202e, 5") == "Tverskaya 1, 5"
    assert parse_free_text("شارع 5") == "شارع 5"


def test_parse_free_text_limits() -> None:
    assert code_of(parse_free_text, " \n\t ") is InvalidInput.TEXT_EMPTY
    assert code_of(parse_free_text, "ab", min_len=3) is InvalidInput.TEXT_TOO_SHORT
    assert code_of(parse_free_text, "x" * 501) is InvalidInput.TEXT_TOO_LONG
    assert parse_free_text("x" * 500) == "x" * 500
    assert parse_free_text("abc", max_len=3) == "abc"


# ---------------------------------------------------------------- region, date


@pytest.mark.parametrize(
    "spelling", ["г. Москва", "г.Москва", "Г. МОСКВА", " г.  москва ", "г.\u00a0Москва"]
)
def test_normalize_region_ignores_case_and_spacing(spelling: str) -> None:
    assert normalize_region(spelling) == normalize_region("г. Москва")


def test_normalize_region_treats_yo_as_ye_and_dashes_alike() -> None:
    assert normalize_region("Орловская область") != normalize_region("Московская область")
    assert normalize_region("Ханты-Мансийский автономный округ — Югра") == normalize_region(
        "ханты–мансийский автономный округ - югра"
    )
    assert normalize_region("Республика Марий Эл ё") == normalize_region("республика марий эл Е")


def test_parse_iso_date() -> None:
    assert parse_iso_date("1985-06-12") == date(1985, 6, 12)
    assert parse_iso_date(" 2000-02-29 ") == date(2000, 2, 29)


@pytest.mark.parametrize(
    "raw", ["", "12.06.1985", "19850612", "1985-6-12", "2001-02-29", "1985-W24-3"]
)
def test_parse_iso_date_rejects(raw: str) -> None:
    assert code_of(parse_iso_date, raw) is InvalidInput.DATE_FORMAT
