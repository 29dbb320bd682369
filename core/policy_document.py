"""The electronic OMS policy: a one-page A4 PDF extract from the register of insured persons.

Every text on the page comes from `labels` (the bot fills it from its locale file), so this
module holds layout only. Output is byte-for-byte repeatable for the same input: reportlab's
invariant mode fixes the file ID, and the PDF dates are the date of issue.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date
from io import BytesIO

import font_roboto
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.lib.colors import Color, HexColor, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from core.models import InsuredPerson, Sex

POLICY_LABEL_KEYS: tuple[str, ...] = (
    "policy.title",
    "policy.subtitle",
    "policy.author",
    "policy.enp",
    "policy.last_name",
    "policy.first_name",
    "policy.middle_name",
    "policy.sex",
    "policy.sex_male",
    "policy.sex_female",
    "policy.birth_date",
    "policy.valid_from",
    "policy.region",
    "policy.smo",
    "policy.smo_phone",
    "policy.issued_on",
    "policy.application_number",
    "policy.qr_hint",
    "policy.footer",
)

CREATOR = "oms-restore-bot"
NO_VALUE = "—"  # shown for an absent middle name: the row stays, as on the paper form

# Our own font names, so a font another module registers as "Roboto" cannot clash.
FONT_REGULAR = "OmsRoboto"
FONT_BOLD = "OmsRoboto-Bold"

_fonts_lock = threading.Lock()
_fonts_ready = False
# One render at a time per process. The fonts are registered once and shared, and reportlab
# warns that a TTFont must not serve two documents at the same time (it subsets the font for
# each document through state on the shared object). The Telegram outbox, the email outbox and
# /policy may each render in a worker thread at the same moment; a render takes ~7 ms.
_render_lock = threading.Lock()

_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN = 18 * mm
_CONTENT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN
_QR_SIZE = 40 * mm
# Blank modules drawn around the code; the blank page around it completes the quiet zone.
_QR_BORDER = 2
# The QR mask, chosen once instead of scoring all eight per PDF (reportlab's make() renders the
# symbol eight times for that, which was most of a policy's rendering time). Any mask decodes:
# the format bits name it. Pattern 2 (column % 3) has the lowest mean penalty over payloads of
# our shape ("ENP:<16 digits>;APP:<yymm-nnnnnn>", version 3-M) and is the one most often best
# (about 40%; bench/qr_masks.py).
QR_MASK = 2
_LABEL_WIDTH = 62 * mm
_VALUE_WIDTH = _CONTENT_WIDTH - _LABEL_WIDTH
_INK = HexColor("#1a1a1a")
_MUTED = HexColor("#5f6670")
_ACCENT = HexColor("#0b5cad")
_RULE = HexColor("#c9ced6")


def register_fonts() -> None:
    """Register Roboto once per process; reportlab's built-in fonts have no Cyrillic.

    Safe to call from several threads: the bot renders through asyncio.to_thread.
    """
    global _fonts_ready
    if _fonts_ready:
        return
    with _fonts_lock:
        if _fonts_ready:
            return
        pdfmetrics.registerFont(TTFont(FONT_REGULAR, font_roboto.Roboto))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, font_roboto.RobotoBold))
        pdfmetrics.registerFontFamily(FONT_REGULAR, normal=FONT_REGULAR, bold=FONT_BOLD)
        _fonts_ready = True


def group_enp(enp: str) -> str:
    """8451999122899990 -> 8451 9991 2289 9990: easier to read aloud and to copy by eye."""
    return " ".join(enp[i : i + 4] for i in range(0, len(enp), 4))


def qr_payload(enp: str, application_number: str) -> str:
    return f"ENP:{enp};APP:{application_number}"


def render_policy_pdf(
    person: InsuredPerson,
    *,
    application_number: str,
    issued_on: date,
    labels: Mapping[str, str],
    lang: str = "ru-RU",
) -> bytes:
    """Render the extract as one A4 page and return the PDF bytes. Pure CPU work."""
    missing = [key for key in POLICY_LABEL_KEYS if not labels.get(key)]
    if missing:
        raise ValueError(f"policy labels missing: {', '.join(missing)}")
    register_fonts()
    with _render_lock:
        return _render(person, application_number, issued_on, labels, lang)


def _render(
    person: InsuredPerson,
    application_number: str,
    issued_on: date,
    labels: Mapping[str, str],
    lang: str,
) -> bytes:
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True, lang=lang)
    canvas.setTitle(labels["policy.title"])
    canvas.setSubject(labels["policy.subtitle"])
    canvas.setAuthor(labels["policy.author"])
    canvas.setCreator(CREATOR)
    # Invariant mode stamps 2000-01-01; the date of issue is the truthful, repeatable date.
    pdf_date = f"D:{issued_on:%Y%m%d}"
    canvas.setDateFormatter(lambda *_: pdf_date)

    y = _draw_header(canvas, labels)
    y = _draw_enp(canvas, person.enp, application_number, labels, y)
    y = _draw_fields(canvas, _field_rows(person, application_number, issued_on, labels), y)
    _draw_footer(canvas, labels["policy.footer"], y)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _field_rows(
    person: InsuredPerson, application_number: str, issued_on: date, labels: Mapping[str, str]
) -> list[tuple[str, str]]:
    sex = labels["policy.sex_male"] if person.sex is Sex.MALE else labels["policy.sex_female"]
    return [
        (labels["policy.last_name"], person.last_name),
        (labels["policy.first_name"], person.first_name),
        (labels["policy.middle_name"], person.middle_name or NO_VALUE),
        (labels["policy.sex"], sex),
        (labels["policy.birth_date"], f"{person.birth_date:%d.%m.%Y}"),
        (labels["policy.valid_from"], f"{person.valid_from:%d.%m.%Y}"),
        (labels["policy.region"], person.region),
        (labels["policy.smo"], person.smo_name),
        (labels["policy.smo_phone"], person.smo_phone),
        (labels["policy.issued_on"], f"{issued_on:%d.%m.%Y}"),
        (labels["policy.application_number"], application_number),
    ]


def _draw_lines(
    canvas: Canvas,
    lines: Sequence[str],
    x: float,
    y: float,
    *,
    font: str,
    size: float,
    leading: float,
    color: Color = _INK,
) -> float:
    """Draw lines downwards from baseline y; return the baseline after the last one."""
    canvas.setFont(font, size)
    canvas.setFillColor(color)
    for line in lines:
        canvas.drawString(x, y, line)
        y -= leading
    return y


def _draw_header(canvas: Canvas, labels: Mapping[str, str]) -> float:
    y = _PAGE_HEIGHT - _MARGIN - 6 * mm
    title = simpleSplit(labels["policy.title"], FONT_BOLD, 15, _CONTENT_WIDTH)
    y = _draw_lines(canvas, title, _MARGIN, y, font=FONT_BOLD, size=15, leading=19)
    subtitle = simpleSplit(labels["policy.subtitle"], FONT_REGULAR, 10.5, _CONTENT_WIDTH)
    y = _draw_lines(
        canvas, subtitle, _MARGIN, y, font=FONT_REGULAR, size=10.5, leading=14, color=_MUTED
    )
    y += 14 - 5 * mm
    canvas.setStrokeColor(_ACCENT)
    canvas.setLineWidth(1.2)
    canvas.line(_MARGIN, y, _PAGE_WIDTH - _MARGIN, y)
    return y - 9 * mm


def _draw_enp(
    canvas: Canvas, enp: str, application_number: str, labels: Mapping[str, str], top: float
) -> float:
    """The number in large type on the left, the QR code on the right."""
    qr_x = _PAGE_WIDTH - _MARGIN - _QR_SIZE
    qr_y = top - _QR_SIZE + 4 * mm
    _draw_qr(canvas, qr_modules(qr_payload(enp, application_number)), qr_x, qr_y)

    # Under the QR code: what it holds, and the bare 16 digits for copy and paste.
    hint_width = _QR_SIZE - 4 * mm  # aligned with the code, inside the right margin
    hint = simpleSplit(labels["policy.qr_hint"], FONT_REGULAR, 7, hint_width)
    below_qr = _draw_lines(
        canvas, [enp], qr_x + 2 * mm, qr_y - 1 * mm, font=FONT_REGULAR, size=8, leading=10
    )
    below_qr = _draw_lines(
        canvas, hint, qr_x + 2 * mm, below_qr, font=FONT_REGULAR, size=7, leading=9, color=_MUTED
    )

    text_width = qr_x - _MARGIN - 6 * mm
    label = simpleSplit(labels["policy.enp"], FONT_REGULAR, 10, text_width)
    y = _draw_lines(
        canvas, label, _MARGIN, top - 4 * mm, font=FONT_REGULAR, size=10, leading=13, color=_MUTED
    )
    y = _draw_lines(canvas, [group_enp(enp)], _MARGIN, y - 12, font=FONT_BOLD, size=24, leading=28)
    return min(y, below_qr) - 4 * mm


def qr_modules(payload: str, mask: int = QR_MASK) -> list[list[bool]]:
    """The QR symbol (error correction level M) as rows of modules, True for dark."""
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(payload)
    code.version = code.calculate_version()
    code.makeImpl(False, mask)
    return [[bool(module) for module in row] for row in code.modules]


def qr_row_runs(modules: Sequence[Sequence[bool]]) -> list[tuple[int, int, int]]:
    """Dark modules as horizontal runs: (row, first column, length), top row first."""
    runs = []
    for r, row in enumerate(modules):
        c, count = 0, len(row)
        while c < count:
            if row[c]:
                start = c
                while c < count and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return runs


def _draw_qr(canvas: Canvas, modules: Sequence[Sequence[bool]], x: float, y: float) -> None:
    """One filled path of rectangles, one per run of dark modules in a row, in a _QR_SIZE
    square whose lower left corner is (x, y), with _QR_BORDER blank modules inside it.

    Drawn in module units (the canvas scaled so that a module is 1 by 1) and written as one
    literal of integer rectangles: reportlab's path.rect formats four floats per rectangle,
    which was most of the QR code's drawing time."""
    box = _QR_SIZE / (len(modules) + 2 * _QR_BORDER)
    rects = " ".join(f"{c} {-r - 1} {length} 1 re" for r, c, length in qr_row_runs(modules))
    canvas.saveState()
    canvas.setFillColor(black)
    # The origin at the symbol's top left corner; rows go down from it.
    canvas.translate(x + _QR_BORDER * box, y + _QR_SIZE - _QR_BORDER * box)
    canvas.scale(box, box)
    canvas.addLiteral(f"{rects} f")
    canvas.restoreState()


def _draw_fields(canvas: Canvas, rows: Sequence[tuple[str, str]], top: float) -> float:
    canvas.setStrokeColor(_RULE)
    canvas.setLineWidth(0.5)
    y = top
    canvas.line(_MARGIN, y, _PAGE_WIDTH - _MARGIN, y)
    for label, value in rows:
        label_lines = simpleSplit(label, FONT_REGULAR, 9.5, _LABEL_WIDTH - 4 * mm)
        value_lines = simpleSplit(value, FONT_BOLD, 11, _VALUE_WIDTH)
        baseline = y - 16
        after_label = _draw_lines(
            canvas,
            label_lines,
            _MARGIN,
            baseline,
            font=FONT_REGULAR,
            size=9.5,
            leading=12,
            color=_MUTED,
        )
        after_value = _draw_lines(
            canvas,
            value_lines,
            _MARGIN + _LABEL_WIDTH,
            baseline,
            font=FONT_BOLD,
            size=11,
            leading=14,
        )
        y = min(after_label + 12, after_value + 14) - 9
        canvas.setStrokeColor(_RULE)
        canvas.line(_MARGIN, y, _PAGE_WIDTH - _MARGIN, y)
    return y


def _draw_footer(canvas: Canvas, footer: str, content_bottom: float) -> None:
    lines = simpleSplit(footer, FONT_REGULAR, 8.5, _CONTENT_WIDTH)
    leading = 11
    # Pinned to the bottom margin, unless very long values reach down there: then the note
    # follows the table instead of overprinting it.
    y = min(_MARGIN + (len(lines) - 1) * leading, content_bottom - 10 * mm)
    _draw_lines(
        canvas, lines, _MARGIN, y, font=FONT_REGULAR, size=8.5, leading=leading, color=_MUTED
    )
