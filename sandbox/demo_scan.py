"""A clearly fictitious passport-like picture for the offline sandbox.

It stands in for the citizen's upload: laid out like the photo spread of a passport, stamped
with a large caption and filled with placeholder words, no real data. Deterministic, so
sandbox runs and tests see the same bytes every time.
"""

from __future__ import annotations

import math
from io import BytesIO

import font_roboto
from PIL import Image, ImageDraw, ImageFont

DEFAULT_SIZE = (1200, 850)

_PAPER = (241, 228, 226)
_GUILLOCHE = (214, 190, 196)
_INK = (70, 64, 90)
_FIELD = (120, 112, 130)
_STAMP = (200, 30, 40, 110)


def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    # Roboto has Cyrillic, so a localised caption renders too.
    return ImageFont.truetype(font_roboto.RobotoBold if bold else font_roboto.Roboto, size)


def demo_passport_scan(
    caption: str = "SAMPLE",
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    quality: int = 85,
) -> bytes:
    """Render the spread as JPEG bytes; `caption` is stamped across it (e.g. a localised
    "SAMPLE" taken from the locale file)."""
    width, height = size
    image = Image.new("RGB", size, _PAPER)
    draw = ImageDraw.Draw(image)
    _draw_guilloche(draw, width, height)

    # Two pages of the spread, split by a fold line.
    fold = height // 2
    draw.line((0, fold, width, fold), fill=_GUILLOCHE, width=3)
    scale = height / DEFAULT_SIZE[1]
    _draw_fields(draw, 80, int(60 * scale), width - 160, rows=4, scale=scale)

    # The photo page: a silhouette, not a face, and four fields beside it.
    px, py = int(70 * scale), fold + int(35 * scale)
    photo = _silhouette(int(220 * scale), int(270 * scale))
    image.paste(photo, (px, py))
    _draw_fields(draw, px + photo.width + 60, py, width - px - photo.width - 140, 4, scale)

    mrz_font = _font(max(12, int(26 * scale)))
    mrz_y = height - int(85 * scale)
    for line in (
        "P<RUSSAMPLE<<DEMO<<SPECIMEN<<<<<<<<<<<<<<<<<<",
        "0000000000RUS0000000X0000000<<<<<<<<<<<<<<00",
    ):
        draw.text((int(60 * scale), mrz_y), line, font=mrz_font, fill=_INK)
        mrz_y += int(36 * scale)

    _stamp_caption(image, caption)
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _silhouette(width: int, height: int) -> Image.Image:
    # Drawn on its own tile so the shoulders are cut by the photo's edge, as in a real photo.
    photo = Image.new("RGB", (width, height), (205, 210, 220))
    draw = ImageDraw.Draw(photo)
    cx, head = width // 2, width // 4
    top = height // 6
    draw.ellipse((cx - head, top, cx + head, top + int(2.3 * head)), fill=(150, 156, 170))
    draw.ellipse(
        (width // 10, top + int(2.5 * head), width - width // 10, height * 2), fill=(150, 156, 170)
    )
    return photo


def _draw_guilloche(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    # Wavy security-paper lines: a scan-like texture, computed, not random.
    for k in range(0, height, 18):
        points = [(x, k + 6 * math.sin(x / 37 + k / 11)) for x in range(0, width + 10, 10)]
        draw.line(points, fill=_GUILLOCHE, width=1)


def _draw_fields(
    draw: ImageDraw.ImageDraw, x: int, y: int, width: int, rows: int, scale: float
) -> None:
    label_font = _font(max(10, int(18 * scale)))
    value_font = _font(max(12, int(30 * scale)), bold=True)
    step = int(60 * scale)
    for i in range(rows):
        draw.text((x, y), f"FIELD {i + 1}", font=label_font, fill=_FIELD)
        draw.text((x, y + int(20 * scale)), "SPECIMEN", font=value_font, fill=_INK)
        draw.line((x, y + step - 6, x + width, y + step - 6), fill=_FIELD, width=1)
        y += step


def _stamp_caption(image: Image.Image, caption: str) -> None:
    # Big, diagonal and translucent, so nobody can take the picture for a real document.
    width, height = image.size
    font = _font(max(24, height // 4), bold=True)
    left, top, right, bottom = font.getbbox(caption)
    layer = Image.new("RGBA", (right - left + 40, bottom - top + 40), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text((20 - left, 20 - top), caption, font=font, fill=_STAMP)
    layer = layer.rotate(24, expand=True, resample=Image.Resampling.BICUBIC)
    if layer.width > width or layer.height > height:
        layer.thumbnail((width, height))
    image.paste(layer, ((width - layer.width) // 2, (height - layer.height) // 2), layer)
