from __future__ import annotations

import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel, QRUtil
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from core.models import InsuredPerson, Passport, Sex
from core.policy_document import (
    CREATOR,
    FONT_BOLD,
    FONT_REGULAR,
    NO_VALUE,
    POLICY_LABEL_KEYS,
    QR_MASK,
    group_enp,
    qr_modules,
    qr_payload,
    qr_row_runs,
    register_fonts,
    render_policy_pdf,
)

# The texts the Russian locale file is expected to hold for these keys.
LABELS: dict[str, str] = {
    "policy.title": "Выписка из единого регистра застрахованных лиц",
    "policy.subtitle": (
        "Полис обязательного медицинского страхования в форме электронного документа"
    ),
    "policy.author": "Сервис восстановления полиса ОМС",
    "policy.enp": "Единый номер полиса (ЕНП)",
    "policy.last_name": "Фамилия",
    "policy.first_name": "Имя",
    "policy.middle_name": "Отчество",
    "policy.sex": "Пол",
    "policy.sex_male": "мужской",
    "policy.sex_female": "женский",
    "policy.birth_date": "Дата рождения",
    "policy.valid_from": "Полис действует с",
    "policy.region": "Субъект Российской Федерации",
    "policy.smo": "Страховая медицинская организация",
    "policy.smo_phone": "Телефон страховой медицинской организации",
    "policy.issued_on": "Дата выдачи выписки",
    "policy.application_number": "Номер заявления",
    "policy.qr_hint": "QR-код содержит ЕНП и номер заявления",
    "policy.footer": (
        "Выписка из единого регистра застрахованных лиц имеет ту же юридическую силу, "
        "что и полис обязательного медицинского страхования на бумажном носителе "
        "(Правила обязательного медицинского страхования в редакции приказа Минздрава России "
        "от 13.12.2022 № 789н)."
    ),
}

PERSON = InsuredPerson(
    enp="8451999122899990",
    snils="112-233-445 95",
    last_name="Иванов",
    first_name="Иван",
    middle_name="Иванович",
    sex=Sex.MALE,
    birth_date=date(1985, 3, 12),
    passport=Passport("4510", "123456"),
    phone="+79991234567",
    region="г. Москва",
    smo_name="АО «Страховая компания «Пример-Мед»",
    smo_phone="+7 800 000-00-00",
    valid_from=date(2023, 1, 10),
)
ISSUED_ON = date(2026, 11, 27)


def render(person: InsuredPerson = PERSON, **kwargs: object) -> bytes:
    options: dict[str, object] = {
        "application_number": "2611-000123",
        "issued_on": ISSUED_ON,
        "labels": LABELS,
    }
    options.update(kwargs)
    return render_policy_pdf(person, **options)  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    return PdfReader(BytesIO(pdf)).pages[0].extract_text()


def test_labels_cover_every_key() -> None:
    assert set(LABELS) == set(POLICY_LABEL_KEYS)


def test_one_a4_page() -> None:
    reader = PdfReader(BytesIO(render()))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    # A4 is 210 x 297 mm = 595.28 x 841.89 pt
    assert float(box.width) == pytest.approx(595.28, abs=0.5)
    assert float(box.height) == pytest.approx(841.89, abs=0.5)


def test_metadata() -> None:
    meta = PdfReader(BytesIO(render())).metadata
    assert meta is not None
    assert meta.title == LABELS["policy.title"]
    assert meta.subject == LABELS["policy.subtitle"]
    assert meta.author == LABELS["policy.author"]
    assert meta.creator == CREATOR
    # The PDF dates are the date of issue, not reportlab's fixed invariant date.
    assert meta["/CreationDate"] == "D:20261127"


def test_metadata_carries_no_personal_data() -> None:
    meta = PdfReader(BytesIO(render())).metadata
    assert meta is not None
    flat = " ".join(str(v) for v in meta.values())
    assert PERSON.enp not in flat
    assert PERSON.last_name not in flat


def test_text_is_extractable() -> None:
    text = text_of(render())
    assert PERSON.enp in text  # the bare number, for copy and paste
    assert "8451 9991 2289 9990" in text  # the grouped one, for reading
    assert "Иванов" in text
    assert "Иванович" in text
    assert "2611-000123" in text
    assert "12.03.1985" in text
    assert "10.01.2023" in text
    assert "27.11.2026" in text
    assert "г. Москва" in text
    assert "Пример-Мед" in text
    assert "+7 800 000-00-00" in text
    assert "мужской" in text
    assert "789н" in text
    for key in ("policy.title", "policy.enp", "policy.valid_from", "policy.application_number"):
        assert LABELS[key] in text


def test_female() -> None:
    text = text_of(render(replace(PERSON, sex=Sex.FEMALE, first_name="Мария")))
    assert "женский" in text
    assert "мужской" not in text


def test_person_without_middle_name() -> None:
    text = text_of(render(replace(PERSON, middle_name=None)))
    assert LABELS["policy.middle_name"] in text
    assert NO_VALUE in text
    assert "None" not in text


def test_hyphenated_surname_and_yo() -> None:
    person = replace(
        PERSON,
        last_name="Салтыкова-Щедрина",
        first_name="Алёна",
        middle_name="Семёновна",
        sex=Sex.FEMALE,
    )
    text = text_of(render(person))
    assert "Салтыкова-Щедрина" in text
    assert "Алёна" in text
    assert "Семёновна" in text


def test_long_values_wrap_and_stay_on_one_page() -> None:
    person = replace(
        PERSON,
        region="Ханты-Мансийский автономный округ — Югра",
        smo_name=(
            "Акционерное общество «Страховая компания «Пример-Мед» — филиал "
            "в Ханты-Мансийском автономном округе — Югре, отделение номер 1"
        ),
    )
    pdf = render(person)
    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    assert "Ханты-Мансийский автономный округ — Югра" in text_of(pdf)


def test_rendering_is_repeatable() -> None:
    assert render() == render()
    assert render() != render(application_number="2611-000124")


def test_missing_labels_are_named() -> None:
    labels = {k: v for k, v in LABELS.items() if k not in {"policy.footer", "policy.sex"}}
    with pytest.raises(ValueError, match=r"policy\.sex, policy\.footer"):
        render(labels=labels)


def test_qr_payload_and_grouping() -> None:
    assert qr_payload("8451999122899990", "2611-000123") == "ENP:8451999122899990;APP:2611-000123"
    assert group_enp("8451999122899990") == "8451 9991 2289 9990"


def test_fonts_register_once_from_many_threads() -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: register_fonts(), range(16)))
    names = pdfmetrics.getRegisteredFontNames()
    assert FONT_REGULAR in names and FONT_BOLD in names


def test_renders_in_parallel_threads_are_each_whole_and_right() -> None:
    # The Telegram outbox, the email outbox and /policy may render at the same moment, in
    # worker threads. reportlab subsets the shared fonts per document through state on the
    # font object: renders that interleave failed (KeyError, IndexError in makeSubset) or gave
    # another document's glyphs. A tiny switch interval makes them interleave at every step.
    names = ["Щукина", "Эльдаров", "Юлиана", "Ёлкин", "Цой", "Фёдорова", "Хабибуллин", "Жанна"]
    people = [
        replace(PERSON, last_name=name * 3, first_name=name[::-1], region=f"Регион {name}")
        for name in names
    ]
    expected = [render(person) for person in people]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(render, people * 6))
    finally:
        sys.setswitchinterval(switch_interval)
    assert results == expected * 6


def test_fast_after_warm_up() -> None:
    render()
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        render()
        timings.append(time.perf_counter() - started)
    # Typically ~30 ms; the bound is loose so a busy CI machine does not flake.
    assert min(timings) < 0.1


# --- the QR code ---------------------------------------------------------------------------


def drawn_qr(pdf: bytes) -> list[list[bool]]:
    """The QR symbol as drawn on the page, rebuilt from its rectangles (the page has no other
    `re` operators): one per run of dark modules in a row."""
    stream = PdfReader(BytesIO(pdf)).pages[0].get_contents()
    assert stream is not None
    content = stream.get_data().decode("latin-1")
    number = r"(-?[\d.]+)"
    rects = [
        tuple(float(v) for v in match)
        for match in re.findall(rf"{number} {number} {number} {number} re", content)
    ]
    assert rects
    box = rects[0][3]
    left = min(x for x, _, _, _ in rects)
    top = max(y for _, y, _, _ in rects)
    size = round((max(x + w for x, _, w, _ in rects) - left) / box)
    grid = [[False] * size for _ in range(size)]
    for x, y, w, h in rects:
        assert h == pytest.approx(box)
        row, col, length = round((top - y) / box), round((x - left) / box), round(w / box)
        for c in range(col, col + length):
            assert not grid[row][c], "runs overlap"
            grid[row][c] = True
    return grid


def format_info(modules: list[list[bool]]) -> tuple[int, int]:
    """(error correction level, mask) from the format bits beside the top left finder."""
    n = len(modules)
    bits = 0
    for i in range(15):
        row = i if i < 6 else i + 1 if i < 8 else n - 15 + i
        bits |= int(modules[row][8]) << i
    data = (bits ^ 0x5412) >> 10
    assert QRUtil.getBCHTypeInfo(data) == bits, "format bits fail their BCH check"
    return data >> 3, data & 7


def reference_code(payload: str) -> QRCode:
    """reportlab's own encoding, with its mask chosen by scoring all eight."""
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(payload)
    code.make()
    return code


def test_qr_drawn_is_the_module_matrix() -> None:
    pdf = render()
    assert drawn_qr(pdf) == qr_modules(qr_payload(PERSON.enp, "2611-000123"))


def test_qr_sits_in_its_square_at_the_top_right() -> None:
    """The symbol is drawn in module units under one transform: that transform puts it in the
    40 mm square inside the right margin, two blank modules in from its edges."""
    stream = PdfReader(BytesIO(render())).pages[0].get_contents()
    assert stream is not None
    content = stream.get_data().decode("latin-1")
    found = re.search(r"([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm\s+-?\d+ -?\d+ \d+ 1 re", content)
    assert found is not None
    scale_x, scale_y, left, top = (float(v) for v in found.groups())
    modules = len(qr_modules(qr_payload(PERSON.enp, "2611-000123")))
    box = 40 * mm / (modules + 4)
    assert scale_x == pytest.approx(box, abs=1e-4) and scale_y == pytest.approx(box, abs=1e-4)
    assert left == pytest.approx(A4[0] - 18 * mm - 40 * mm + 2 * box, abs=1e-3)
    assert A4[1] / 2 < top - modules * box and top < A4[1] - 18 * mm


def test_qr_row_runs_cover_exactly_the_dark_modules() -> None:
    modules = qr_modules(qr_payload(PERSON.enp, "2611-000123"))
    rebuilt = [[False] * len(row) for row in modules]
    for r, c, length in qr_row_runs(modules):
        assert length > 0 and (c == 0 or not modules[r][c - 1])
        for i in range(c, c + length):
            rebuilt[r][i] = True
    assert rebuilt == modules


@pytest.mark.parametrize("number", ["2611-000123", "2701-999999", "2512-000001"])
def test_qr_carries_the_same_bits_as_reportlabs_encoding(number: str) -> None:
    payload = qr_payload(PERSON.enp, number)
    ours = drawn_qr(render(application_number=number))
    reference = reference_code(payload)
    level, mask = format_info(ours)
    assert (level, mask) == (QRErrorCorrectLevel.M, QR_MASK)
    _, reference_mask = format_info(reference.modules)
    ours_mask, reference_mask_fn = QRUtil.getMask(mask), QRUtil.getMask(reference_mask)
    data_positions = set(reference.dataPosIterator())
    n = len(ours)
    for row in range(n):
        for col in range(n):
            if (col, row) in data_positions:
                assert ours[row][col] ^ ours_mask(row, col) == bool(
                    reference.modules[row][col]
                ) ^ reference_mask_fn(row, col)
            elif not (row == 8 or col == 8):  # format bits differ with the mask
                assert ours[row][col] == bool(reference.modules[row][col])


def test_qr_decodes_to_the_payload() -> None:
    """Read the symbol back: unmask, take the data codewords in placement order (version 3-M is
    one Reed-Solomon block of 44 data codewords, so nothing is interleaved), parse byte mode."""
    number = "2611-000123"
    modules = drawn_qr(render(application_number=number))
    assert len(modules) == 29  # version 3
    _, mask = format_info(modules)
    unmask = QRUtil.getMask(mask)
    code = reference_code(qr_payload(PERSON.enp, number))
    bits = [modules[row][col] ^ unmask(row, col) for col, row in code.dataPosIterator()]
    codewords = [
        int("".join("1" if b else "0" for b in bits[i : i + 8]), 2) for i in range(0, 44 * 8, 8)
    ]
    stream = "".join(f"{c:08b}" for c in codewords)
    assert stream[:4] == "0100"  # byte mode
    length = int(stream[4:12], 2)
    data = bytes(int(stream[12 + 8 * i : 20 + 8 * i], 2) for i in range(length))
    assert data.decode("ascii") == qr_payload(PERSON.enp, number)
