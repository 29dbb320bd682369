"""What operators see of a citizen's lines: personal data masked, the rest readable."""

from __future__ import annotations

import pytest

from core.masking import mask_personal


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("45 08 123456", "** ** ****56"),
        ("4508123456", "********56"),
        ("4508 № 123456", "**** № ****56"),
        ("Паспорт: 45 08 123456", "Паспорт: ** ** ****56"),
        ("4508-123456", "****-****56"),  # a passport typed like an application number
    ],
)
def test_passport_numbers_keep_only_their_last_two_digits(text: str, masked: str) -> None:
    assert mask_personal(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+79990000001", "+*********01"),
        ("+7 (999) 000-00-01", "+* (***) ***-**-01"),
        ("8 999 000 00 01", "* *** *** ** 01"),
    ],
)
def test_phone_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_personal(text) == masked


def test_postcodes_enp_and_snils_are_long_digit_runs() -> None:
    assert mask_personal("Индекс 101000") == "Индекс ****00"
    assert mask_personal("ЕНП 0040106028104484") == "ЕНП **************84"
    assert mask_personal("СНИЛС 112-233-445 95") == "СНИЛС ***-***-*** 95"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("г. Москва, ул. Тверская, д. 1, кв. 5", "г. Москва, ***, ***, ***"),
        ("Адрес: ул. Ленина 5", "Адрес: ***"),
        ("Живу на улице Мира, дом 3", "***, ***"),
        ("пр-т Мира 12 корп. 2", "***"),
        ("I live at 10 Downing Street, London", "***, London"),
        ("Apt 4, 221B Baker St.", "***, ***"),
    ],
)
def test_street_addresses_are_hidden_clause_by_clause(text: str, masked: str) -> None:
    assert mask_personal(text) == masked


def test_the_bots_own_prompts_keep_their_street_words() -> None:
    prompt = "Введите адрес доставки: город, улица, дом, квартира"
    assert mask_personal(prompt, addresses=False) == prompt
    assert mask_personal("Паспорт: 45 08 123456", addresses=False) == "Паспорт: ** ** ****56"


def test_values_known_to_be_personal_are_hidden_wherever_they_appear() -> None:
    # An address without street words: known because the citizen typed it at the address step.
    summary = "Адрес: 101000, Moscow,  Tverskaya 1, 5"
    assert mask_personal(summary, known=["moscow, tverskaya 1, 5", "101000"]) == "Адрес: ***, ***"


def test_email_addresses_keep_only_their_domain() -> None:
    assert mask_personal("пишите на ivan.petrov+oms@mail.ru") == "пишите на ***@mail.ru"


@pytest.mark.parametrize(
    "text",
    [
        "Заявление № 2611-000123 принято",
        "Application No. 2611-000123: Ready",
        "Шаг 4 из 6",
        "Step 4 of 6",
        "Иванов И. И., 12.**.1985",
        "Я дома, потерял полис в метро",
        "Пришлите фото до 10 МБ",
        "Короткое слово: ул",  # a known value shorter than 3 characters is not masked
    ],
)
def test_ordinary_lines_and_application_numbers_stay_readable(text: str) -> None:
    assert mask_personal(text, known=["ул"]) == text
