"""Step 4, the passport scan: refusals by content, PDFs, albums, and what is kept on disk."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image, UnidentifiedImageError

from bot.i18n import Texts
from sandbox.client import SandboxClient, message_text
from sandbox.emulator import Emulator, files
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, Citizen, new_citizen
from tests.fixtures_scans import blank_png, make_gif, make_jpeg, make_pdf, make_png, truncated


async def at_scan(client: SandboxClient, texts: Texts) -> Citizen:
    c = await new_citizen(client, texts)
    await c.consent()
    await c.login(IVANOV)
    await c.reason()
    await c.passport(IVANOV)
    return c


REFUSALS: dict[str, tuple[str, bytes, str | None, str, dict[str, Any]]] = {
    # id: (send as, content, file name, expected key, its parameters)
    "gif_named_jpg": ("document", make_gif(), "scan.jpg", "scan.error.unsupported_type", {}),
    "text_named_pdf": (
        "document",
        b"This is my passport, honestly.\n" * 40,
        "scan.pdf",
        "scan.error.unsupported_type",
        {},
    ),
    "too_small_photo": ("photo", make_jpeg(500, 300), None, "scan.error.image_too_small", {}),
    "truncated_jpeg": (
        "document",
        truncated(make_jpeg(1200, 800), 0.4),
        "scan.jpg",
        "scan.error.image_corrupt",
        {},
    ),
    "encrypted_pdf": ("document", make_pdf(1, True), "scan.pdf", "scan.error.pdf_encrypted", {}),
    "six_page_pdf": (
        "document",
        make_pdf(6),
        "scan.pdf",
        "scan.error.pdf_too_many_pages",
        {"actual": 6, "limit": 5},
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
async def test_unusable_scan_is_refused_and_the_step_stays(
    case: str, bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    kind, data, name, key, params = REFUSALS[case]
    c = await at_scan(client, texts)
    if kind == "photo":
        await c.user.send_photo(data)
    else:
        assert name is not None
        mime = "application/pdf" if name.endswith(".pdf") else None
        await c.user.send_document(data, name, mime)
    refusal = await c.expect(key)
    if params:
        assert c.t(key, **params) in message_text(refusal)
    assert bot.stored_files() == []  # nothing refused is kept
    await c.scan()  # still at the scan step: a good photo moves on


async def test_two_page_pdf_is_accepted_as_a_document(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_scan(client, texts)
    await c.user.send_document(make_pdf(2), "passport.pdf", "application/pdf")
    await c.expect("scan.accepted")
    await c.expect("restore.delivery.prompt")
    assert [p.suffix for p in bot.stored_files()] == [".pdf"]


async def test_album_takes_the_first_file_and_moves_on_once(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_scan(client, texts)
    await c.user.send_album(
        [("photo", make_jpeg(1200, 800), "one.jpg"), ("photo", make_png(900, 700), "two.png")]
    )
    await c.expect("scan.album_first_taken")
    await c.expect("restore.delivery.prompt")
    await c.user.send_command("/help")  # a barrier: the whole album was handled before this
    await c.expect("help.text")
    messages = await c.user.messages()
    prompts = [m for m in messages if c.snippet("restore.delivery.prompt") in message_text(m)]
    taken = [m for m in messages if c.snippet("scan.album_first_taken") in message_text(m)]
    accepted = [m for m in messages if c.snippet("scan.accepted") in message_text(m)]
    assert (len(prompts), len(taken), len(accepted)) == (1, 1, 1)
    assert len(bot.stored_files()) == 1
    await c.choose_electronic()


async def test_a_replaced_scan_leaves_one_file_and_the_database_holds_its_hash(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_scan(client, texts)
    first = make_jpeg(1200, 800)
    await c.user.send_document(first, "first.jpg", "image/jpeg")
    await c.expect("restore.delivery.prompt")
    [stored] = bot.stored_files()
    assert await bot.read_scan(stored) == first
    await c.choose_electronic()

    await c.press("button.edit_scan")
    await c.expect("restore.scan.prompt")
    second = make_pdf(1)
    await c.user.send_document(second, "second.pdf", "application/pdf")
    await c.expect("summary.title")
    [replaced] = bot.stored_files()  # the first scan was deleted, not left behind
    assert await bot.read_scan(replaced) == second and replaced != stored

    await c.submit()
    [row] = bot.query("SELECT scan_name, scan_sha256, scan_size FROM applications")
    assert row["scan_name"] == replaced.name
    assert row["scan_sha256"] == hashlib.sha256(second).hexdigest()
    assert row["scan_size"] == len(second)


async def test_a_stored_scan_is_no_image_without_the_key(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_scan(client, texts)
    scan = make_jpeg(1200, 800)
    await c.user.send_document(scan, "passport.jpg", "image/jpeg")
    await c.expect("restore.delivery.prompt")
    [stored] = bot.stored_files()
    on_disk = stored.read_bytes()
    assert b"\xff\xd8\xff" not in on_disk and b"JFIF" not in on_disk
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(on_disk))
    assert await bot.read_scan(stored) == scan  # the key in DATA_DIR opens it


async def test_a_file_over_10_mb_is_refused_before_downloading(
    bot: BotProcess, client: SandboxClient, texts: Texts, emulator: Emulator
) -> None:
    c = await at_scan(client, texts)
    downloads = len(emulator.calls("getFile"))
    big = make_pdf(1) + b"%" * (11 * 1024 * 1024)
    await c.user.send_document(big, "scan.pdf", "application/pdf")
    await c.expect("scan.error.too_large")
    assert len(emulator.calls("getFile")) == downloads
    await c.scan()


async def test_a_blank_image_that_would_decode_to_256_mb_is_refused_with_the_hint(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await at_scan(client, texts)
    bomb = blank_png(8_000, 8_000)  # ~243 KB on disk, 8000x8000 RGBA
    await c.user.send_document(bomb, "scan.png", "image/png")
    await c.expect("scan.error.decompression_bomb")
    assert bot.stored_files() == []
    await c.scan()  # still at the scan step


async def test_a_download_without_a_stated_size_is_cut_at_10_mb(
    bot: BotProcess,
    client: SandboxClient,
    texts: Texts,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Telegram may omit file_size (it is optional): the cap must hold on the stream itself.
    # That the stream is abandoned right past the cap is shown in tests/unit/test_uploads.py.
    def without_size(make: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        return lambda *args: {k: v for k, v in make(*args).items() if k != "file_size"}

    monkeypatch.setattr(files, "document_object", without_size(files.document_object))
    monkeypatch.setattr(files.StoredFile, "as_file", without_size(files.StoredFile.as_file))
    c = await at_scan(client, texts)
    big = make_pdf(1) + b"%" * (12 * 1024 * 1024)
    await c.user.send_document(big, "scan.pdf", "application/pdf")
    await c.expect("scan.error.too_large")
    [call] = [call for call in emulator.calls("getFile") if call.ok]
    assert "file_size" not in call.result
    assert bot.stored_files() == []
    await c.scan()
