"""Pure validators of what a citizen types. Each parser returns a normalised value or raises
ValidationError with a code; bot/ maps the code to a message in the user's language.

Error messages carry the code only, never the input: inputs are personal data and errors get logged.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from functools import lru_cache

from core.errors import DomainError
from core.models import Passport


class InvalidInput(StrEnum):
    ENP_FORMAT = "enp_format"
    ENP_CHECKSUM = "enp_checksum"
    SNILS_FORMAT = "snils_format"
    SNILS_CHECKSUM = "snils_checksum"
    PASSPORT_FORMAT = "passport_format"
    POSTCODE_FORMAT = "postcode_format"
    PHONE_FORMAT = "phone_format"
    EMAIL_FORMAT = "email_format"
    TEXT_EMPTY = "text_empty"
    TEXT_NO_WORDS = "text_no_words"
    TEXT_TOO_SHORT = "text_too_short"
    TEXT_TOO_LONG = "text_too_long"
    DATE_FORMAT = "date_format"
    ADDRESS_TOO_SHORT = "address_too_short"


class ValidationError(DomainError):
    def __init__(self, code: InvalidInput) -> None:
        super().__init__(code.value)
        self.code = code


# ASCII digits only: str.isdigit() and a plain \d also accept Arabic-Indic and other digits.
_DIGITS = re.compile(r"[0-9]+")
# What people put between digit groups: spaces (incl. NBSP), hyphens, dashes, dots.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.]+")


def _only_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _strip_separators(raw: str) -> str:
    return _SEPARATORS.sub("", raw)


# ---------------------------------------------------------------- ЕНП (unified policy number)


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit to append to `digits` (ISO/HL7 27931 Mod10 for the ENP)."""
    if not digits or not _only_digits(digits):
        raise ValueError("digits expected")
    total = 0
    # Doubling starts at the rightmost payload digit, since the check digit will follow it.
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_enp(enp: str) -> bool:
    return len(enp) == 16 and _only_digits(enp) and luhn_check_digit(enp[:15]) == enp[15]


def parse_enp(raw: str) -> str:
    """16 digits; spaces and hyphens between groups are allowed in the input."""
    enp = _strip_separators(raw)
    if len(enp) != 16 or not _only_digits(enp):
        raise ValidationError(InvalidInput.ENP_FORMAT)
    if not is_valid_enp(enp):
        raise ValidationError(InvalidInput.ENP_CHECKSUM)
    return enp


# ---------------------------------------------------------------- СНИЛС

# Numbers up to 001-001-998 were issued before the check digit rule and are not checked.
_SNILS_UNCHECKED_MAX = 1_001_998


def snils_check_number(first_nine: str) -> str:
    """The two control digits of a SNILS: weights 9..1, then mod 101 with 100 and 101 as 00."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True))
    if total < 100:
        control = total
    elif total in (100, 101):
        control = 0
    else:
        control = total % 101
        if control == 100:
            control = 0
    return f"{control:02d}"


def is_valid_snils(snils: str) -> bool:
    """11 digits, already normalised (no separators)."""
    if len(snils) != 11 or not _only_digits(snils):
        return False
    if int(snils[:9]) <= _SNILS_UNCHECKED_MAX:
        return True
    return snils_check_number(snils[:9]) == snils[9:]


def parse_snils(raw: str) -> str:
    """Normalise "112-233-445 95" or "11223344595" to "11223344595"."""
    snils = _strip_separators(raw)
    if len(snils) != 11 or not _only_digits(snils):
        raise ValidationError(InvalidInput.SNILS_FORMAT)
    if not is_valid_snils(snils):
        raise ValidationError(InvalidInput.SNILS_CHECKSUM)
    return snils


def format_snils(digits: str) -> str:
    """Display form: "11223344595" -> "112-233-445 95"."""
    if len(digits) != 11 or not _only_digits(digits):
        raise ValueError("11 digits expected")
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


# ---------------------------------------------------------------- passport

# Long enough for "серия 4508 номер 123456" and friends, short enough to reject pasted paragraphs.
_PASSPORT_MAX_INPUT = 64


def parse_passport(raw: str) -> Passport:
    """Series (4 digits) and number (6 digits) from the forms people type.

    Only the digit groups matter, so words around them (series/number labels, "No") in any language
    pass. There must be 10 digits in all, written either as one run or with a break right after
    the series ("45 08 123456", "4508-123456", "45 08 123 456"); "450 8123456" is refused.
    """
    if len(raw) > _PASSPORT_MAX_INPUT:
        raise ValidationError(InvalidInput.PASSPORT_FORMAT)
    groups = _DIGITS.findall(raw)
    digits = "".join(groups)
    if len(digits) != 10 or len(groups) > 5:
        raise ValidationError(InvalidInput.PASSPORT_FORMAT)
    if len(groups) > 1:
        boundaries = set()
        length = 0
        for group in groups:
            length += len(group)
            boundaries.add(length)
        if 4 not in boundaries:
            raise ValidationError(InvalidInput.PASSPORT_FORMAT)
    return Passport(series=digits[:4], number=digits[4:])


# ---------------------------------------------------------------- postal address

# Russian Post indices begin with 1-6 (the first digit is the macro-region); 0, 7, 8 and 9
# are not used in Russia, so such a number is a typo or a foreign code.
_POSTCODE = re.compile(r"[1-6][0-9]{5}")


def parse_postcode(raw: str) -> str:
    postcode = _strip_separators(raw)
    if not _POSTCODE.fullmatch(postcode):
        raise ValidationError(InvalidInput.POSTCODE_FORMAT)
    return postcode


def parse_address(raw: str, *, min_len: int = 10, max_len: int = 300) -> str:
    """A postal address as free text; too short to be deliverable is its own error."""
    try:
        return parse_free_text(raw, min_len=min_len, max_len=max_len)
    except ValidationError as error:
        if error.code is InvalidInput.TEXT_TOO_SHORT:
            raise ValidationError(InvalidInput.ADDRESS_TOO_SHORT) from None
        raise


# ---------------------------------------------------------------- phone and e-mail

_PHONE_ALLOWED = re.compile(r"\+?[0-9\s\-().\u2010-\u2015]+")
_PHONE_NOISE = re.compile(r"[\s\-().\u2010-\u2015]+")


def normalize_phone(raw: str) -> str:
    """E.164. Russian numbers in any usual form -> +7XXXXXXXXXX.

    Without a plus only Russian forms are understood: 10 digits, or 11 starting with 8 (trunk
    prefix) or 7 (Telegram's contact button sends the number without the plus). With a plus any
    country code is kept if the number has 8-15 digits (+7 numbers must have exactly 11).
    """
    text = raw.strip()
    if not _PHONE_ALLOWED.fullmatch(text):
        raise ValidationError(InvalidInput.PHONE_FORMAT)
    has_plus = text.startswith("+")
    digits = _PHONE_NOISE.sub("", text.removeprefix("+"))
    if not _only_digits(digits):
        raise ValidationError(InvalidInput.PHONE_FORMAT)
    if has_plus:
        if digits.startswith("7"):
            if len(digits) != 11:
                raise ValidationError(InvalidInput.PHONE_FORMAT)
        elif not 8 <= len(digits) <= 15 or digits.startswith("0"):
            raise ValidationError(InvalidInput.PHONE_FORMAT)
        return f"+{digits}"
    if len(digits) == 10:
        return f"+7{digits}"
    if len(digits) == 11 and digits[0] in "78":
        return f"+7{digits[1:]}"
    raise ValidationError(InvalidInput.PHONE_FORMAT)


# Pragmatic, not RFC 5322: one @, no spaces, a dotted domain with a 2+ letter TLD.
# Domain labels may be non-ASCII (".рф" addresses exist), or punycode ("xn--p1ai").
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_TLD = r"(?:[^\W\d_]{2,63}|[xX][nN]--[0-9a-zA-Z-]{1,59})"
_EMAIL = re.compile(rf"(?P<local>[^@\s\"(),:;<>\[\\\]]{{1,64}})@(?P<domain>(?:{_LABEL}\.)+{_TLD})")


def parse_email(raw: str) -> str:
    email = raw.strip()
    match = _EMAIL.fullmatch(email)
    if match is None or len(email) > 254 or ".." in match["local"]:
        raise ValidationError(InvalidInput.EMAIL_FORMAT)
    # The local part may be case-sensitive by RFC; only the domain is safe to lower-case.
    return f"{match['local']}@{match['domain'].lower()}"


# ---------------------------------------------------------------- free text, regions, dates


# Characters that show as nothing yet are neither whitespace nor format characters to Python:
# the braille blank and the Hangul fillers, which people use to send an "empty" message.
_BLANKS = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def parse_free_text(raw: str, *, min_len: int = 1, max_len: int = 500) -> str:
    """Strip, drop control characters, collapse whitespace (newlines included) to single spaces.

    Format characters (zero-width, right-to-left overrides) are dropped: echoed back, an
    override would turn the rest of the bot's line around. Text without a single letter or
    digit (only emoji or symbols) is refused: it answers no question the dialog asks."""
    visible = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BLANKS else ch
        for ch in raw
        if unicodedata.category(ch) != "Cf"  # zero-width and other format characters
    )
    text = " ".join(visible.split())
    if not text:
        raise ValidationError(InvalidInput.TEXT_EMPTY)
    if not any(unicodedata.category(ch)[0] in "LN" for ch in text):
        raise ValidationError(InvalidInput.TEXT_NO_WORDS)
    if len(text) < min_len:
        raise ValidationError(InvalidInput.TEXT_TOO_SHORT)
    if len(text) > max_len:
        raise ValidationError(InvalidInput.TEXT_TOO_LONG)
    return text


# «ё» is often written as «е»; registers and office lists differ in it. Escapes keep the
# source free of Cyrillic literals.
_YO_TO_YE = str.maketrans({"\u0451": "\u0435"})
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_WHITESPACE = re.compile(r"\s+")


# A few hundred region spellings at most; the dialog asks for the offices of one on every step.
@lru_cache(maxsize=1024)
def normalize_region(name: str) -> str:
    """A key for comparing region names, so a register and an office list written by different
    people match (see the tests for the Moscow spellings).

    Case, yo/ye, every kind of dash and all whitespace are ignored; whitespace is removed
    entirely, so a name with or without a space after the dot of the "city" prefix agrees.
    """
    text = unicodedata.normalize("NFKC", name).casefold().translate(_YO_TO_YE)
    text = _DASHES.sub("-", text)
    return _WHITESPACE.sub("", text)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_iso_date(raw: str) -> date:
    """YYYY-MM-DD exactly (date.fromisoformat alone also takes "20250101" and week dates)."""
    text = raw.strip()
    if not _ISO_DATE.fullmatch(text):
        raise ValidationError(InvalidInput.DATE_FORMAT)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(InvalidInput.DATE_FORMAT) from None
