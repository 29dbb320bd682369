from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile

from core.errors import DomainError
from core.scan_check import (
    DEFAULT_MAX_DECODED_BYTES,
    DEFAULT_MAX_EXPANSION,
    DEFAULT_MAX_PIXELS,
    EXPANSION_CHECKED_ABOVE,
    ScanInfo,
    ScanKind,
    ScanProblem,
    ScanRejected,
    check_scan,
    detect_kind,
)
from sandbox.demo_scan import demo_passport_scan
from tests.fixtures_scans import (
    blank_png,
    compressed_bomb_png,
    forged_jpeg_bomb,
    forged_png_bomb,
    garbage_pdf,
    make_gif,
    make_jpeg,
    make_pdf,
    make_png,
    make_zip,
    truncated,
)


def rejected(data: bytes, **limits: int) -> ScanRejected:
    with pytest.raises(ScanRejected) as caught:
        check_scan(data, **limits)
    return caught.value


# --- accepted images ---------------------------------------------------------------------


def test_jpeg_is_accepted_with_its_size() -> None:
    data = make_jpeg(800, 600)
    info = check_scan(data)
    assert info == ScanInfo(kind=ScanKind.JPEG, size=len(data), width=800, height=600)
    assert info.suffix == ".jpg"
    assert info.mime_type == "image/jpeg"
    assert info.pages is None


def test_png_is_accepted() -> None:
    info = check_scan(make_png(1024, 768))
    assert (info.kind, info.suffix, info.width, info.height) == (ScanKind.PNG, ".png", 1024, 768)


@pytest.mark.parametrize(("width", "height"), [(600, 400), (400, 600), (3000, 4000)])
def test_either_orientation_counts(width: int, height: int) -> None:
    info = check_scan(make_jpeg(width, height))
    assert (info.width, info.height) == (width, height)


def test_the_name_never_matters(tmp_path: Path) -> None:
    # What the bot gets is bytes; a JPEG saved as "passport.pdf" is still a JPEG.
    path = tmp_path / "passport.pdf"
    path.write_bytes(make_jpeg(800, 600))
    info = check_scan(path.read_bytes())
    assert info.kind is ScanKind.JPEG
    assert info.suffix == ".jpg"


# --- refused images ----------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(500, 500), (599, 400), (600, 399), (399, 600)])
def test_too_small_image(width: int, height: int) -> None:
    error = rejected(make_jpeg(width, height))
    assert error.code is ScanProblem.IMAGE_TOO_SMALL
    assert dict(error.params) == {
        "width": width,
        "height": height,
        "min_long": 600,
        "min_short": 400,
    }


def test_size_limits_are_parameters() -> None:
    assert check_scan(make_png(300, 200), min_width=300, min_height=200).width == 300
    error = rejected(make_png(900, 700), min_width=1000, min_height=700)
    assert error.code is ScanProblem.IMAGE_TOO_SMALL
    assert error.params["min_long"] == 1000


@pytest.mark.parametrize("make", [make_jpeg, make_png])
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_image_is_corrupt(make: Callable[[int, int], bytes], keep: float) -> None:
    data = truncated(make(900, 700), keep)
    assert rejected(data).code is ScanProblem.IMAGE_CORRUPT


def test_a_jpeg_is_decoded_at_reduced_scale_and_reported_at_full_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[Image.Image] = []
    real_open = Image.open

    def spy(*args: Any, **kwargs: Any) -> Image.Image:
        opened.append(real_open(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr("core.scan_check.Image.open", spy)
    info = check_scan(make_jpeg(1600, 1200))

    assert (info.width, info.height) == (1600, 1200)
    (image,) = opened
    assert image.size == (200, 150)  # decoded at 1/8: the full buffer was never built


@pytest.mark.parametrize("keep", [0.97, 0.995])
def test_a_jpeg_cut_near_its_end_is_still_corrupt(keep: float) -> None:
    assert rejected(truncated(make_jpeg(1600, 1200), keep)).code is ScanProblem.IMAGE_CORRUPT


# --- photos as Telegram stores them ------------------------------------------------------


def test_a_telegram_photo_is_checked_without_decoding_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def counting_load(self: ImageFile.ImageFile) -> Any:
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    data = make_jpeg(1600, 1200)
    info = check_scan(data, telegram_photo=True)
    assert info == ScanInfo(kind=ScanKind.JPEG, size=len(data), width=1600, height=1200)
    assert decoded == []
    assert check_scan(data) == info  # the same file as a document: decoded (at 1/8)
    assert decoded == [(200, 150)]


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.995])
def test_a_telegram_photo_cut_short_is_corrupt(keep: float) -> None:
    data = truncated(make_jpeg(1600, 1200), keep)
    assert rejected(data, telegram_photo=True).code is ScanProblem.IMAGE_CORRUPT


def test_a_telegram_photo_keeps_the_header_checks() -> None:
    small = rejected(make_jpeg(500, 300), telegram_photo=True)
    assert small.code is ScanProblem.IMAGE_TOO_SMALL
    # Only Telegram's JPEGs are taken from their header: anything else is decoded.
    png = rejected(truncated(make_png(900, 700), 0.9), telegram_photo=True)
    assert png.code is ScanProblem.IMAGE_CORRUPT


def test_garbage_behind_image_magic_is_corrupt() -> None:
    assert rejected(b"\xff\xd8\xff" + b"\x00" * 5000).code is ScanProblem.IMAGE_CORRUPT
    png_head = b"\x89PNG\r\n\x1a\n"
    assert rejected(png_head + b"garbage" * 100).code is ScanProblem.IMAGE_CORRUPT


def test_truncated_check_leaves_pillow_strict() -> None:
    rejected(truncated(make_jpeg(900, 700)))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# --- decompression bombs -------------------------------------------------------------------


@pytest.mark.parametrize("bomb", [forged_png_bomb, forged_jpeg_bomb])
def test_forged_header_beyond_pillows_limit(bomb: Callable[[], bytes]) -> None:
    data = bomb()
    assert len(data) < 2000
    error = rejected(data)
    assert error.code is ScanProblem.DECOMPRESSION_BOMB
    assert error.limit == DEFAULT_MAX_PIXELS


def test_compressed_single_colour_png_is_refused_before_decoding() -> None:
    data = compressed_bomb_png()  # 12000 x 6000, a few dozen KB
    assert len(data) < 200_000
    error = rejected(data)
    assert error.code is ScanProblem.DECOMPRESSION_BOMB
    assert (error.limit, error.actual) == (DEFAULT_MAX_PIXELS, 72_000_000)


def test_blank_rgba_png_within_the_pixel_limit_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = blank_png(8_000, 8_000)  # 64 Mpx, exactly the pixel limit; RGBA decodes to 256 MB
    assert len(data) < 300_000
    loads: list[object] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: loads.append(image))
    error = rejected(data)
    assert error.code is ScanProblem.DECOMPRESSION_BOMB
    assert error.params == {"decoded": 256_000_000, "limit_decoded": DEFAULT_MAX_DECODED_BYTES}
    assert loads == []  # refused from the header, nothing decoded


def test_a_big_image_far_smaller_on_disk_than_decoded_is_refused() -> None:
    data = blank_png(8_000, 8_000, bands=3)  # 192 MB decoded, under the cap, ~190 KB on disk
    error = rejected(data)
    assert error.code is ScanProblem.DECOMPRESSION_BOMB
    assert error.params["decoded"] == 192_000_000
    assert error.params["file"] == len(data)
    assert error.params["limit_expansion"] == DEFAULT_MAX_EXPANSION


def test_a_big_image_with_a_plausible_file_size_passes() -> None:
    # 4700 x 4700 RGB, 66 MB decoded: over the size where expansion is checked, and noisy
    # enough on disk (like a real photo) to stay under the expansion limit.
    data = blank_png(4_700, 4_700, bands=3, noisy_rows=25)
    decoded = 4_700 * 4_700 * 3
    assert EXPANSION_CHECKED_ABOVE < decoded < len(data) * DEFAULT_MAX_EXPANSION
    assert check_scan(data).width == 4_700


def test_small_images_may_compress_as_well_as_they_like() -> None:
    data = make_png(3000, 4000)  # flat shapes: 36 MB decoded from about 45 KB
    assert len(data) * DEFAULT_MAX_EXPANSION < 36_000_000
    assert check_scan(data).width == 3000


def test_decoded_size_limit_is_a_parameter() -> None:
    error = rejected(make_png(1000, 1000), max_decoded_bytes=2_999_999)
    assert error.code is ScanProblem.DECOMPRESSION_BOMB
    assert error.params == {"decoded": 3_000_000, "limit_decoded": 2_999_999}
    assert check_scan(make_png(1000, 1000), max_decoded_bytes=3_000_000).width == 1000


def test_between_pillow_warning_and_error_it_is_refused_too() -> None:
    # 100 Mpx: Pillow only warns here (it raises above twice its limit); we still refuse.
    with pytest.warns(Image.DecompressionBombWarning):
        error = rejected(forged_png_bomb(10_000, 10_000))
    assert error.code is ScanProblem.DECOMPRESSION_BOMB
    assert error.actual == 100_000_000


def test_pixel_limit_is_a_parameter_and_global_state_is_untouched() -> None:
    before = Image.MAX_IMAGE_PIXELS
    error = rejected(make_png(1000, 1000), max_pixels=999_999)
    assert (error.code, error.limit, error.actual) == (
        ScanProblem.DECOMPRESSION_BOMB,
        999_999,
        1_000_000,
    )
    assert check_scan(make_png(1000, 1000), max_pixels=1_000_000).width == 1000
    assert Image.MAX_IMAGE_PIXELS == before


# --- PDFs ------------------------------------------------------------------------------------


def test_one_page_pdf() -> None:
    data = make_pdf(1)
    info = check_scan(data)
    assert info == ScanInfo(kind=ScanKind.PDF, size=len(data), pages=1)
    assert (info.suffix, info.mime_type) == (".pdf", "application/pdf")


def test_pdf_page_limit() -> None:
    assert check_scan(make_pdf(5)).pages == 5
    error = rejected(make_pdf(6))
    assert (error.code, error.limit, error.actual) == (ScanProblem.PDF_TOO_MANY_PAGES, 5, 6)
    assert check_scan(make_pdf(6), max_pdf_pages=6).pages == 6


def test_password_protected_pdf() -> None:
    assert rejected(make_pdf(1, encrypted=True)).code is ScanProblem.PDF_ENCRYPTED


def test_pdf_with_owner_password_only_opens_for_anyone() -> None:
    assert check_scan(make_pdf(2, owner_password_only=True)).pages == 2


@pytest.mark.parametrize(
    "data",
    [garbage_pdf(), truncated(make_pdf(2)), b"%PDF-1.4\n%%EOF\n"],
    ids=["garbage", "truncated", "header-only"],
)
def test_unreadable_pdf(data: bytes) -> None:
    assert rejected(data).code is ScanProblem.PDF_UNREADABLE


def test_pdf_without_pages() -> None:
    assert rejected(make_pdf(0)).code is ScanProblem.PDF_EMPTY


def test_pdf_header_after_a_scanner_preamble() -> None:
    assert check_scan(b"\r\n" * 10 + make_pdf(1)).pages == 1


# --- what is not a scan at all ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        make_gif(),
        make_zip(),
        b"just some text, not a picture",
        b"BM" + b"\x00" * 1000,  # BMP
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"\xff\xd8",  # too short to be a JPEG
    ],
    ids=["gif", "zip", "text", "bmp", "webp", "two-bytes"],
)
def test_unsupported_types(data: bytes) -> None:
    assert rejected(data).code is ScanProblem.UNSUPPORTED_TYPE


def test_empty_file() -> None:
    assert rejected(b"").code is ScanProblem.EMPTY


def test_too_large_is_checked_before_anything_else() -> None:
    data = b"x" * 2001
    error = rejected(data, max_bytes=2000)
    assert (error.code, error.limit, error.actual) == (ScanProblem.TOO_LARGE, 2000, 2001)
    assert check_scan(make_pdf(1), max_bytes=len(make_pdf(1))).pages == 1


def test_default_size_limit_is_ten_megabytes() -> None:
    error = rejected(b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024))
    assert (error.code, error.limit) == (ScanProblem.TOO_LARGE, 10 * 1024 * 1024)


def test_rejection_is_a_domain_error_with_readonly_params() -> None:
    error = rejected(make_pdf(6))
    assert isinstance(error, DomainError)
    assert "pdf_too_many_pages" in str(error)
    with pytest.raises(TypeError):
        error.params["limit"] = 1  # type: ignore[index]


def test_detect_kind_reads_magic_only() -> None:
    assert detect_kind(make_jpeg(10, 10)) is ScanKind.JPEG
    assert detect_kind(make_png(10, 10)) is ScanKind.PNG
    assert detect_kind(make_pdf(1)) is ScanKind.PDF
    assert detect_kind(make_gif()) is None


def test_checks_run_in_parallel_threads() -> None:
    # The bot runs checks through asyncio.to_thread; no shared state may leak between them.
    inputs = [make_jpeg(800, 600), truncated(make_png(800, 600)), make_pdf(2)] * 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ThreadPoolExecutor(max_workers=6) as pool:
            outcomes = list(pool.map(_outcome, inputs))
    assert outcomes == [ScanKind.JPEG, ScanProblem.IMAGE_CORRUPT, ScanKind.PDF] * 4


def _outcome(data: bytes) -> ScanKind | ScanProblem:
    try:
        return check_scan(data).kind
    except ScanRejected as error:
        return error.code


# --- the sandbox's demo scan ------------------------------------------------------------------


def test_demo_scan_passes_the_check() -> None:
    info = check_scan(demo_passport_scan())
    assert info.kind is ScanKind.JPEG
    assert info.width is not None and info.height is not None
    assert info.width >= 1000 and info.height >= 700


def test_demo_scan_is_repeatable_and_takes_a_localised_caption() -> None:
    assert demo_passport_scan() == demo_passport_scan()
    localised = demo_passport_scan("ОБРАЗЕЦ")
    assert localised != demo_passport_scan()
    assert check_scan(localised).kind is ScanKind.JPEG
