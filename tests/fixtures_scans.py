"""Scan files generated in code for tests: good, small, broken and hostile ones.

Shared by unit and end-to-end tests, so every helper returns plain bytes.
"""

from __future__ import annotations

import functools
import random
import struct
import zipfile
import zlib
from io import BytesIO

from PIL import Image, ImageDraw
from pypdf import PdfWriter


def _picture(width: int, height: int) -> Image.Image:
    # A few shapes rather than one flat colour, so the encoders produce real image data.
    image = Image.new("RGB", (width, height), (236, 224, 214))
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 20, height // 10, width // 3, height * 9 // 10), fill=(150, 160, 175))
    for i in range(6):
        y = height // 8 + i * height // 9
        draw.line((width * 2 // 5, y, width * 9 // 10, y), fill=(60, 60, 90), width=3)
    return image


def make_jpeg(width: int, height: int, *, quality: int = 85) -> bytes:
    buffer = BytesIO()
    _picture(width, height).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def make_png(width: int, height: int) -> bytes:
    buffer = BytesIO()
    _picture(width, height).save(buffer, format="PNG")
    return buffer.getvalue()


def make_gif(width: int = 700, height: int = 500) -> bytes:
    buffer = BytesIO()
    _picture(width, height).convert("P").save(buffer, format="GIF")
    return buffer.getvalue()


def make_zip() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("passport.jpg", make_jpeg(700, 500))
    return buffer.getvalue()


def make_pdf(pages: int, encrypted: bool = False, *, owner_password_only: bool = False) -> bytes:
    """A PDF of `pages` blank A4 pages; `encrypted` asks for a user password to open it.

    `owner_password_only` encrypts with an empty user password: it opens without asking.
    RC4 keeps pypdf free of optional crypto dependencies.
    """
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if encrypted:
        writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    elif owner_password_only:
        writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def garbage_pdf() -> bytes:
    """Starts like a PDF and is not one."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\nthis is not a pdf\n"


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    """The first `keep` share of a file, as an interrupted upload would leave it."""
    return data[: max(1, int(len(data) * keep))]


def forged_png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny valid PNG whose IHDR declares a huge size (with a correct CRC)."""
    png = make_png(8, 8)
    ihdr_start = 8  # after the signature: length(4) type(4) data(13) crc(4)
    length, kind = struct.unpack(">I4s", png[ihdr_start : ihdr_start + 8])
    assert kind == b"IHDR" and length == 13
    data = struct.pack(">II", width, height) + png[ihdr_start + 16 : ihdr_start + 21]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + data))
    return png[: ihdr_start + 8] + data + crc + png[ihdr_start + 25 :]


def forged_jpeg_bomb(width: int = 65_000, height: int = 65_000) -> bytes:
    """A small JPEG whose SOF0 frame header declares a huge size."""
    jpeg = bytearray(make_jpeg(16, 16))
    sof = jpeg.find(b"\xff\xc0")
    assert sof > 0
    # SOF0: marker(2) length(2) precision(1) height(2) width(2)
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(jpeg)


def compressed_bomb_png(width: int = 12_000, height: int = 6_000) -> bytes:
    """A genuine one-colour PNG: 72 Mpx that compress to a few dozen kilobytes.

    Built by hand (filter byte 0 + zero pixels, zlib'd) so making it costs no 72 MB image.
    """
    return blank_png(width, height, bands=1)


# PNG colour types by bands: greyscale, RGB, RGBA.
_PNG_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}


@functools.cache
def blank_png(
    width: int = 8_000, height: int = 8_000, *, bands: int = 4, noisy_rows: int = 0
) -> bytes:
    """A genuine blank PNG, 8-bit, 1 (grey), 3 (RGB) or 4 (RGBA) bands; the default 8000x8000
    RGBA is about 250 KB and decodes to 256 MB. Built row by row, so it costs no such buffer.

    `noisy_rows` first rows of random samples make the file as big as a real image's would be.
    """
    noise = random.Random(0)
    blank = b"\x00" * (1 + width * bands)  # filter type 0, then zero samples
    compressor = zlib.compressobj(9)
    body = b"".join(
        compressor.compress(b"\x00" + noise.randbytes(width * bands) if y < noisy_rows else blank)
        for y in range(height)
    )
    body += compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOUR_TYPES[bands], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
