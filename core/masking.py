"""Hiding personal data in text shown to people who do not need it (the operators' card).

One function, `mask_personal`, applies the same rules everywhere: the values a citizen is known
to have typed as personal answers (their address, postcode, passport), e-mail addresses, clauses
of a postal address, and long runs of digits (passport numbers, phones, ЕНП, СНИЛС, postcodes),
which keep only their last two digits, as the masked phone and birth date of the profile keep a
part to recognise, not enough to learn. Application numbers ("№ 2611-000123") stay readable: they
identify an application, not a person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

HIDDEN = "***"
MIN_KNOWN_LENGTH = 3  # shorter "known values" would mask ordinary words

# An application number as the bot writes it: after «№» (ru) or "No." (en).
_DATA = Path(__file__).with_name("data")
_APPLICATION_NUMBER = r"(?:№|No\.)\s*\d{4}-\d{6}"
# Five digits or more, possibly grouped by spaces, hyphens, brackets or «№» ("4508 № 123456"),
# an optional leading +.
_DIGIT_RUN = r"\+?\d(?:[ \-()№]{0,3}\d){4,}"
_DIGITS = re.compile(rf"(?P<keep>{_APPLICATION_NUMBER})|(?P<run>{_DIGIT_RUN})")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _address_patterns(kind: str) -> str:
    """The alternatives of one kind from core/data/address_words.txt (data, not code: they are
    patterns for what people type, in Russian and English)."""
    lines = (_DATA / "address_words.txt").read_text(encoding="utf-8").splitlines()
    return "|".join(line.split(" ", 1)[1] for line in lines if line.startswith(f"{kind} "))


_ADDRESS_WORDS = _address_patterns("word")
_ADDRESS_ABBREVIATIONS = _address_patterns("abbreviation")
_ADDRESS = re.compile(
    rf"(?<![\w-])(?:(?:{_ADDRESS_WORDS})(?!\w)|(?:{_ADDRESS_ABBREVIATIONS})(?:\.|\s*(?=\d)))",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[^,;\n]+")


def mask_personal(text: str, known: Iterable[str] = (), *, addresses: bool = True) -> str:
    """`text` with personal data replaced; `known` are values the person gave as personal
    answers, hidden wherever they appear (case and spacing ignored). `addresses=False` leaves
    street words alone: for the bot's own texts, whose only addresses are the person's answers
    (known) and whose prompts name the parts of an address."""
    text = _mask_known(text, known)
    text = _EMAIL.sub(lambda m: f"{HIDDEN}@{m.group().rsplit('@', 1)[1]}", text)
    if addresses:
        text = _CLAUSE.sub(_mask_address_clause, text)
    return _DIGITS.sub(_mask_digit_run, text)


def _mask_known(text: str, known: Iterable[str]) -> str:
    values = {" ".join(v.split()) for v in known}
    for value in sorted((v for v in values if len(v) >= MIN_KNOWN_LENGTH), key=len, reverse=True):
        # Any spacing between the words of the value, as people retype it.
        words = (re.escape(word) for word in value.split())
        text = re.sub(r"\s+".join(words), HIDDEN, text, flags=re.IGNORECASE)
    return text


def _mask_address_clause(match: re.Match[str]) -> str:
    clause = match.group()
    if not _ADDRESS.search(clause):
        return clause
    # Keep a label before a colon ("Адрес: ...") and the clause's own spacing.
    label, colon, rest = clause.rpartition(":")
    if colon and _ADDRESS.search(rest) and not _ADDRESS.search(label):
        return f"{label}{colon}{_keep_spacing(rest, HIDDEN)}"
    return _keep_spacing(clause, HIDDEN)


def _keep_spacing(original: str, replacement: str) -> str:
    stripped = original.strip()
    if not stripped:
        return original
    start = original.index(stripped)
    return f"{original[:start]}{replacement}{original[start + len(stripped) :]}"


def _mask_digit_run(match: re.Match[str]) -> str:
    if match.group("keep"):
        return match.group("keep")
    run = match.group("run")
    digits_seen = sum(c.isdigit() for c in run)
    shown_from = digits_seen - 2  # the last two digits stay
    out, index = [], 0
    for char in run:
        if char.isdigit():
            out.append(char if index >= shown_from else "*")
            index += 1
        else:
            out.append(char)
    return "".join(out)
