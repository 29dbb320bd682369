"""Checks an uploaded passport photo or scan by its content, never by its name or MIME type.

The bot calls `check_scan` through `asyncio.to_thread` whenever it decodes (bot/uploads.py):
decoding an image is CPU work, so this module stays a plain synchronous function without I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from io import BytesIO
from types import MappingProxyType

from PIL import Image
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, PyPdfError

from core.errors import DomainError

_JPEG_MAGIC = b"\xff\xd8\xff"
_JPEG_END = b"\xff\xd9"  # EOI, the marker an encoder writes last
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PDF_MAGIC = b"%PDF-"
# Acrobat and pypdf accept a PDF header anywhere in the first 1024 bytes (some scanners
# prepend junk), so we look there too; it is still the content deciding, not the name.
_PDF_HEADER_WINDOW = 1024

# What decoders throw at hostile or broken input. Pillow and pypdf raise more than their
# own exception types here, and any of them means "we cannot read this file".
_DECODER_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # includes PIL.UnidentifiedImageError and "image file is truncated"
    SyntaxError,  # Pillow's "broken PNG file", bad CRCs
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    AssertionError,
    RecursionError,
    ZeroDivisionError,
    struct.error,
)

# Largest declared image we agree to decode. 64 Mpx covers 48-50 Mpx phone photos and an
# A4 page scanned at 600 dpi (~35 Mpx) while bounding the RGB buffer at about 190 MB.
DEFAULT_MAX_PIXELS = 64_000_000
# The decoded buffer, width * height * bands, is bounded too: a 64 Mpx RGBA image passes the
# pixel limit and still takes 256 MB. 200 MB admits 64 Mpx of RGB.
DEFAULT_MAX_DECODED_BYTES = 200_000_000
# A large image that expands from its file more than this is implausible for a photo or scan
# (phone photos expand 10-30 times, a clean PNG scan of a page about a hundred) and typical of
# a blank or crafted image: an 8000x8000 blank PNG of 243 KB decodes to 256 MB, about 1000 times.
# Small images may compress as well as they like: their buffer is harmless.
DEFAULT_MAX_EXPANSION = 256
EXPANSION_CHECKED_ABOVE = 64_000_000  # decoded bytes
# Bytes per pixel of Pillow's modes whose samples are wider than a byte.
_WIDE_MODES: Mapping[str, int] = MappingProxyType(
    {"I": 4, "F": 4, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
)


class ScanKind(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    PDF = "pdf"

    @property
    def suffix(self) -> str:
        """File suffix the vault stores the scan under."""
        return _SUFFIXES[self]

    @property
    def mime_type(self) -> str:
        return _MIME_TYPES[self]


_SUFFIXES: Mapping[ScanKind, str] = {
    ScanKind.JPEG: ".jpg",
    ScanKind.PNG: ".png",
    ScanKind.PDF: ".pdf",
}
_MIME_TYPES: Mapping[ScanKind, str] = {
    ScanKind.JPEG: "image/jpeg",
    ScanKind.PNG: "image/png",
    ScanKind.PDF: "application/pdf",
}
_PILLOW_FORMATS: Mapping[ScanKind, str] = {ScanKind.JPEG: "JPEG", ScanKind.PNG: "PNG"}


class ScanProblem(Enum):
    """Why a scan was refused. Each maps to one message in the locale files.

    Numbers a message may need travel in `ScanRejected.params`; the keys per problem:
    TOO_LARGE: limit, actual (bytes); IMAGE_TOO_SMALL: width, height, min_long, min_short;
    DECOMPRESSION_BOMB: limit, and actual when the declared size is known (pixels), or for
    the decoded buffer: decoded (bytes) with limit_decoded (bytes) or with file (bytes) and
    limit_expansion (times);
    PDF_TOO_MANY_PAGES: limit, actual (pages). The others carry none.
    """

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    UNSUPPORTED_TYPE = "unsupported_type"
    IMAGE_TOO_SMALL = "image_too_small"
    IMAGE_CORRUPT = "image_corrupt"
    DECOMPRESSION_BOMB = "decompression_bomb"
    PDF_UNREADABLE = "pdf_unreadable"
    PDF_ENCRYPTED = "pdf_encrypted"
    PDF_TOO_MANY_PAGES = "pdf_too_many_pages"
    PDF_EMPTY = "pdf_empty"


class ScanRejected(DomainError):
    """The uploaded file is not an acceptable scan; `code` says why."""

    def __init__(self, code: ScanProblem, **params: int) -> None:
        detail = ", ".join(f"{k}={v}" for k, v in params.items())
        super().__init__(f"scan rejected: {code.value}" + (f" ({detail})" if detail else ""))
        self.code = code
        self.params: Mapping[str, int] = MappingProxyType(dict(params))

    @property
    def limit(self) -> int | None:
        return self.params.get("limit")

    @property
    def actual(self) -> int | None:
        return self.params.get("actual")


@dataclass(frozen=True, slots=True)
class ScanInfo:
    """What an accepted scan is: images have width and height, PDFs have pages."""

    kind: ScanKind
    size: int  # bytes
    width: int | None = None
    height: int | None = None
    pages: int | None = None

    @property
    def suffix(self) -> str:
        return self.kind.suffix

    @property
    def mime_type(self) -> str:
        return self.kind.mime_type


def detect_kind(data: bytes) -> ScanKind | None:
    """The scan type by magic bytes, or None when it is none we accept."""
    if data.startswith(_JPEG_MAGIC):
        return ScanKind.JPEG
    if data.startswith(_PNG_MAGIC):
        return ScanKind.PNG
    if _PDF_MAGIC in data[:_PDF_HEADER_WINDOW]:
        return ScanKind.PDF
    return None


def check_scan(
    data: bytes,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    min_width: int = 600,
    min_height: int = 400,
    max_pdf_pages: int = 5,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
    max_expansion: int = DEFAULT_MAX_EXPANSION,
    telegram_photo: bool = False,
) -> ScanInfo:
    """Accept a JPEG, PNG or PDF scan of a passport, or raise `ScanRejected`.

    Images are decoded to the end (a JPEG at reduced scale), so a truncated or broken file is
    refused here and not when an operator opens it. The size rule ignores orientation: the
    long side must reach max(min_width, min_height) and the short side min(min_width,
    min_height), so with the defaults both 600x400 and a portrait 400x600 pass.

    `telegram_photo`: the file is a photo as Telegram stores it (a message's `photo`, not a
    document). Telegram decodes every photo sent to it and keeps its own JPEG re-encoding (it
    refuses what it cannot decode: IMAGE_PROCESS_FAILED), so decoding that again would only
    check Telegram's encoder; it took most of the bot's CPU for the step. Such a JPEG is
    checked from its header (type, size, the bomb limits) and its end: a download cut short
    lacks the end-of-image marker an encoder writes last. Files sent as documents arrive
    as the citizen made them and are decoded to the end.
    """
    if not data:
        raise ScanRejected(ScanProblem.EMPTY)
    if len(data) > max_bytes:
        raise ScanRejected(ScanProblem.TOO_LARGE, limit=max_bytes, actual=len(data))
    kind = detect_kind(data)
    if kind is None:
        raise ScanRejected(ScanProblem.UNSUPPORTED_TYPE)
    if kind is ScanKind.PDF:
        return ScanInfo(kind=kind, size=len(data), pages=_count_pdf_pages(data, max_pdf_pages))
    limits = _ImageLimits(min_width, min_height, max_pixels, max_decoded_bytes, max_expansion)
    decode = decodes(data, telegram_photo=telegram_photo)
    if not decode and not data.endswith(_JPEG_END):
        raise ScanRejected(ScanProblem.IMAGE_CORRUPT)
    width, height = _decode_image(data, kind, limits, decode=decode)
    return ScanInfo(kind=kind, size=len(data), width=width, height=height)


def decodes(data: bytes, *, telegram_photo: bool = False) -> bool:
    """Whether check_scan decodes this file (CPU work: worth a worker thread): every file but a
    photo that is Telegram's own JPEG (see check_scan)."""
    return not (telegram_photo and detect_kind(data) is ScanKind.JPEG)


@dataclass(frozen=True, slots=True)
class _ImageLimits:
    min_width: int
    min_height: int
    max_pixels: int
    max_decoded_bytes: int
    max_expansion: int


def _decode_image(
    data: bytes, kind: ScanKind, limits: _ImageLimits, *, decode: bool = True
) -> tuple[int, int]:
    # Bomb protection in layers, none touching Pillow's global settings (other code
    # in the process shares them, and threads would race on them):
    # 1. Pillow's own guard inside Image.open stays as configured: above
    #    2 * Image.MAX_IMAGE_PIXELS it raises DecompressionBombError, which we map.
    # 2. Our `max_pixels`, lower than Pillow's default, is checked on the declared size
    #    right after open, which only reads the header, so nothing big is allocated yet.
    # 3. So are the decoded buffer (pixels times bands) and how far it expands from the
    #    file's bytes (_check_decoded_size), since pixels alone miss a 64 Mpx RGBA blank.
    # Between MAX_IMAGE_PIXELS and twice that Pillow also emits a DecompressionBombWarning
    # before our check refuses the file; silencing it would need warnings.catch_warnings,
    # which swaps process-wide filters and is not thread-safe, so we let it be logged.
    max_pixels = limits.max_pixels
    try:
        image = Image.open(BytesIO(data), formats=(_PILLOW_FORMATS[kind],))
    except Image.DecompressionBombError:
        raise ScanRejected(ScanProblem.DECOMPRESSION_BOMB, limit=max_pixels) from None
    except _DECODER_ERRORS:
        raise ScanRejected(ScanProblem.IMAGE_CORRUPT) from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ScanRejected(
                ScanProblem.DECOMPRESSION_BOMB, limit=max_pixels, actual=width * height
            )
        _check_decoded_size(image, len(data), limits)
        min_long = max(limits.min_width, limits.min_height)
        min_short = min(limits.min_width, limits.min_height)
        if max(width, height) < min_long or min(width, height) < min_short:
            raise ScanRejected(
                ScanProblem.IMAGE_TOO_SMALL,
                width=width,
                height=height,
                min_long=min_long,
                min_short=min_short,
            )
        if not decode:
            return width, height
        if kind is ScanKind.JPEG:
            # Decode at an eighth of the size, in grey: libjpeg still reads and entropy-decodes
            # the whole stream, so a cut-off or corrupt file fails as before, but skips most of
            # the inverse DCT and the colour conversion (a third of the CPU for a phone photo).
            image.draft("L", (1, 1))
        # ImageFile.LOAD_TRUNCATED_IMAGES stays False, so a cut-off file fails here.
        try:
            image.load()
        except Image.DecompressionBombError:
            raise ScanRejected(ScanProblem.DECOMPRESSION_BOMB, limit=max_pixels) from None
        except _DECODER_ERRORS:
            raise ScanRejected(ScanProblem.IMAGE_CORRUPT) from None
    return width, height


def _check_decoded_size(image: Image.Image, file_bytes: int, limits: _ImageLimits) -> None:
    """Refuse, from the header alone, an image whose decoded buffer is too big or far bigger
    than its file makes plausible."""
    width, height = image.size
    decoded = width * height * _WIDE_MODES.get(image.mode, len(image.getbands()))
    if decoded > limits.max_decoded_bytes:
        raise ScanRejected(
            ScanProblem.DECOMPRESSION_BOMB, decoded=decoded, limit_decoded=limits.max_decoded_bytes
        )
    if decoded > EXPANSION_CHECKED_ABOVE and decoded > file_bytes * limits.max_expansion:
        raise ScanRejected(
            ScanProblem.DECOMPRESSION_BOMB,
            decoded=decoded,
            file=file_bytes,
            limit_expansion=limits.max_expansion,
        )


def _count_pdf_pages(data: bytes, max_pages: int) -> int:
    try:
        reader = PdfReader(BytesIO(data))
        # pypdf already tried the empty password; a file that opens without asking for one
        # (owner password only) is readable by anyone, so only a user password refuses it.
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise ScanRejected(ScanProblem.PDF_ENCRYPTED)
        pages = len(reader.pages)
        if pages > max_pages:
            raise ScanRejected(ScanProblem.PDF_TOO_MANY_PAGES, limit=max_pages, actual=pages)
        # Touch every page so a broken page tree is found now, not by the operator.
        for page in reader.pages:
            _ = page.mediabox
    except ScanRejected:
        raise
    except (DependencyError, NotImplementedError):
        # Encryption pypdf cannot open without optional crypto libraries (e.g. AES).
        raise ScanRejected(ScanProblem.PDF_ENCRYPTED) from None
    except (PyPdfError, *_DECODER_ERRORS):
        raise ScanRejected(ScanProblem.PDF_UNREADABLE) from None
    if pages == 0:
        raise ScanRejected(ScanProblem.PDF_EMPTY)
    return pages
