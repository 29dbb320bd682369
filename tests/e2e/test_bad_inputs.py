"""The catalogue of bad inputs (README, "Reliability"): each case is driven through the emulator
against one running bot and must get a clear reply in the citizen's language, leave no
traceback or error in the log, and leave the dialog where it was (same step, same answers) or
move it on exactly as a good answer would.

Two tables: `MATRIX`, what cannot answer a step (stickers, voice, videos, polls, someone else's
contact...) sent at every step, and `SPECIAL`, the rest. Cases share one bot per module (a
module-scoped fixture) and, for the same step, one citizen, who stays at that step from case to
case; the module ends with every such citizen submitting an application, so nothing any case
sent was lost on the way.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.dialogs.restoration import STEP_BY_STATE, Restoration, SupportChat
from bot.i18n import Texts
from sandbox.client import GroupHandle, MemberHandle, SandboxClient, SandboxError, message_text
from sandbox.emulator import Emulator
from tests.e2e.forkserver import ForkServer
from tests.e2e.harness import BotProcess
from tests.e2e.journey import IVANOV, PETROVA, Citizen, button_labels, plain
from tests.fixtures_scans import (
    blank_png,
    forged_png_bomb,
    garbage_pdf,
    make_jpeg,
    make_pdf,
    make_zip,
    truncated,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("bad_inputs")]

README = Path(__file__).resolve().parents[2] / "README.md"
SUPPORT_CHAT = -1001234567890
OPERATOR = 2101
STRANGER = 2199
CHANNEL = -1005551234567

# Every step of the dialog, and "idle": a person who never pressed /start.
STATES: dict[str, Any] = {
    "idle": None,
    "consent": Restoration.consent,
    "contact": Restoration.contact,
    "profile": Restoration.confirm_profile,
    "reason": Restoration.reason,
    "reason_text": Restoration.reason_text,
    "passport": Restoration.passport_number,
    "scan": Restoration.passport_scan,
    "delivery": Restoration.delivery,
    "postcode": Restoration.postcode,
    "address": Restoration.address,
    "office": Restoration.office,
    "summary": Restoration.summary,
}
STEPS = tuple(STATES)
# Where a case may leave the dialog besides those steps.
OTHER_STATES: dict[str, Any] = {"with_operator": SupportChat.with_operator}
# Half the citizens write in English, so replies are checked in both languages.
LANGUAGE = {step: ("en" if index % 2 else "ru") for index, step in enumerate(STEPS)}


def state_name(step: str) -> str | None:
    state = STATES[step] if step in STATES else OTHER_STATES[step]
    return None if state is None else str(state.state)


# --- the bench: one emulator, one bot, citizens by step ---------------------------------------


@dataclass
class Bench:
    emulator: Emulator
    client: SandboxClient
    bot: BotProcess
    texts: Texts
    support: GroupHandle
    operator: MemberHandle
    shared: dict[str, Citizen] = field(default_factory=dict)
    editable: dict[int, int] = field(default_factory=dict)  # user id -> a text message of theirs
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9_000_001))
    log_mark: int = 0

    async def citizen(self, step: str, *, lang: str | None = None) -> Citizen:
        """A new citizen, brought to `step` the ordinary way."""
        locale = lang or LANGUAGE[step]
        user = await self.client.user(
            user_id=next(self.ids), first_name="Ivan", language_code=locale
        )
        c = Citizen(user, self.texts, locale=locale)
        await reach(self, c, step)
        return c

    async def at(self, step: str) -> Citizen:
        """The citizen shared by the cases of `step` (who stays at it)."""
        if step not in self.shared:
            self.shared[step] = await self.citizen(step)
        return self.shared[step]

    def fsm(self, c: Citizen) -> tuple[str | None, dict[str, Any]]:
        rows = self.bot.query(
            "SELECT state, data FROM fsm_state WHERE chat_id = ? AND user_id = ?",
            c.user.user_id,
            c.user.user_id,
        )
        if not rows:
            return None, {}
        return rows[0]["state"], json.loads(rows[0]["data"])

    def new_log(self) -> str:
        """What the bot logged since the last call."""
        with Path(self.bot.log_path).open("rb") as log:
            log.seek(self.log_mark)
            chunk = log.read()
        self.log_mark += len(chunk)
        return chunk.decode("utf-8", errors="replace")


async def reach(bench: Bench, c: Citizen, step: str) -> None:
    user = c.user
    if step == "idle":
        sent = await user.send_text("hello")
        bench.editable[user.user_id] = sent["message_id"]
        await c.expect("hint.start")
        return
    sent = await user.send_command("/start")
    bench.editable[user.user_id] = sent["message_id"]
    await c.expect("restore.consent.prompt")
    if step == "consent":
        return
    await c.press("button.consent_accept")
    await c.expect("restore.contact.prompt")
    if step == "contact":
        return
    await user.share_contact(phone=IVANOV.phone, own=True)
    await c.expect("restore.profile.prompt")
    if step == "profile":
        return
    await c.press("button.its_me")
    await c.expect("restore.reason.prompt")
    if step == "reason":
        return
    if step == "reason_text":
        await c.press("reason.other")
        await c.expect("restore.reason_text.prompt")
        return
    await c.reason()
    if step == "passport":
        return
    await c.passport(IVANOV)
    if step == "scan":
        return
    await c.scan()
    if step == "delivery":
        return
    if step in ("postcode", "address"):
        await c.press("delivery.post")
        await c.expect("restore.postcode.prompt")
        if step == "address":
            await user.send_text("101000")
            await c.expect("restore.address.prompt")
        return
    if step == "office":
        await c.press("delivery.pickup")
        await c.expect("restore.office.prompt")
        return
    assert step == "summary"
    await c.choose_electronic()


async def finish(c: Citizen, step: str) -> None:
    """Take a citizen from `step` to a submitted application, the ordinary way."""
    user = c.user
    if step == "idle":
        await user.send_command("/start")
        await c.expect("restore.consent.prompt")
        step = "consent"
    if step == "consent":
        await c.press("button.consent_accept")
        await c.expect("restore.contact.prompt")
        step = "contact"
    if step == "contact":
        await c.login(IVANOV)
        step = "reason"
    if step == "profile":
        await c.press("button.its_me")
        await c.expect("restore.reason.prompt")
        step = "reason"
    if step == "reason":
        await c.reason()
        step = "passport"
    if step == "reason_text":
        await user.send_text("Left it on a train")
        await c.expect("restore.passport.prompt")
        step = "passport"
    if step == "passport":
        await c.passport(IVANOV)
        step = "scan"
    if step == "scan":
        await c.scan()
        step = "delivery"
    if step == "delivery":
        await c.choose_electronic()
    if step == "postcode":
        await user.send_text("101000")
        await c.expect("restore.address.prompt")
        step = "address"
    if step == "address":
        await user.send_text("Moscow, Tverskaya 1, 5")
        await c.expect("summary.title")
    if step == "office":
        prompt = next(
            m
            for m in reversed(await user.messages())
            if c.snippet("restore.office.prompt") in message_text(m)
        )
        await c.press_label(button_labels(prompt)[0])
        await c.expect("summary.title")
    await c.submit()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bench(
    tmp_path_factory: pytest.TempPathFactory, forkserver: ForkServer, texts: Texts
) -> AsyncIterator[Bench]:
    emulator = Emulator(strict=True)
    await emulator.start()
    async with SandboxClient(emulator.base_url) as client:
        support = await client.forum_group(chat_id=SUPPORT_CHAT, title="Support")
        operator = await support.member(OPERATOR, "Anna", admin=True)
        bot = BotProcess(
            emulator,
            tmp_path_factory.mktemp("bad_inputs") / "data",
            {
                "SUPPORT_CHAT_ID": str(SUPPORT_CHAT),
                "OPERATOR_IDS": str(OPERATOR),
                "CHECK_DELAY_SECONDS": "3600",  # submitted applications just wait
            },
            forkserver=forkserver,
        )
        await bot.start()
        yield Bench(emulator, client, bot, texts, support, operator)
        code = await bot.stop()
        assert code == 0, bot.log()
        assert "Traceback" not in bot.log(), bot.log()
    await emulator.stop()  # strict: raises if anything broke the Bot API schema


# --- what a case expects ------------------------------------------------------------------------


async def step_hint(c: Citizen, step: str) -> dict[str, Any]:
    """The hint of the step the citizen is at (for "idle", the hint to press /start)."""
    if STATES[step] is None:
        return await c.expect("hint.start")
    hint = STEP_BY_STATE[state_name(step) or ""]
    return await c.expect_hint(hint.hint, hint.number)


async def said(c: Citizen, key: str, **params: Any) -> dict[str, Any]:
    """A message with the text of `key` (the whole text when given its parameters)."""
    if params:
        text = c.t(key, **params)
        return await c.user.wait_for(lambda m: text in message_text(m))
    return await c.expect(key)


def alert(c: Citizen, result: dict[str, Any], key: str) -> None:
    """A button press answered with the text of `key` as a pop-up."""
    assert result["answered"], result
    assert result["text"] == c.t(key), result
    assert result["show_alert"], result


async def barrier(c: Citizen) -> None:
    """/help answered: whatever the citizen sent before it has been handled (updates of one
    dialog are handled one at a time, in order)."""
    await c.user.send_command("/help")
    await c.expect("help.text")


def bot_texts_since(messages: list[dict[str, Any]], first_id: int) -> list[str]:
    return [message_text(m) for m in messages if m["message_id"] > first_id]


# --- running a case ----------------------------------------------------------------------------

SAME = "same"  # the case leaves the step and the answers as they were


async def run_case(
    bench: Bench,
    c: Citizen,
    act: Callable[[Citizen], Awaitable[Any]],
    *,
    after: str | None = SAME,
) -> None:
    bench.new_log()
    before_state, before_data = bench.fsm(c)
    await act(c)
    after_state, after_data = bench.fsm(c)
    if after == SAME:
        assert after_state == before_state
        # An album's id is remembered so its other parts are not answered one by one.
        after_data.pop("album_id", None)
        before_data.pop("album_id", None)
        assert after_data == before_data
    else:
        assert after_state == (None if after is None else state_name(after)), after_state
    log = bench.new_log()
    assert "Traceback" not in log, log
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert errors == [], errors


# --- the matrix: what cannot answer a step, at every step ---------------------------------------

Send = Callable[[Bench, Citizen], Awaitable[Any]]

MATRIX: dict[str, Send] = {
    "sticker": lambda b, c: c.user.send_sticker(),
    "voice": lambda b, c: c.user.send_voice(duration=3),
    "video": lambda b, c: c.user.send_video(),
    "video_note": lambda b, c: c.user.send_video_note(),
    "location": lambda b, c: c.user.send_location(55.7558, 37.6173),
    "poll": lambda b, c: c.user.send_poll("Где мой полис?", ["Дома", "Не знаю"]),
    "dice": lambda b, c: c.user.send_dice(),
    "someone_elses_contact": lambda b, c: c.user.share_contact(
        PETROVA.phone, own=False, first_name="Anna", user_id=424242
    ),
    "forwarded_contact": lambda b, c: c.user.forward_contact(
        IVANOV.phone, "Ivan", user_id=c.user.user_id, forwarded_from=c.user.user_id
    ),
    "edited_message": lambda b, c: c.user.edit(b.editable[c.user.user_id], "changed my mind"),
}


async def matrix_reply(c: Citizen, kind: str, step: str) -> None:
    if kind == "edited_message":
        await said(c, "input.edited")
        if STATES[step] is not None:
            await step_hint(c, step)
    elif step == "contact" and kind == "someone_elses_contact":
        await said(c, "login.foreign_contact")
    elif step == "contact" and kind == "forwarded_contact":
        await said(c, "login.forwarded_contact")
    else:
        await step_hint(c, step)


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("kind", list(MATRIX))
async def test_what_cannot_answer_a_step_gets_its_hint(bench: Bench, kind: str, step: str) -> None:
    c = await bench.at(step)

    async def act(c: Citizen) -> None:
        await MATRIX[kind](bench, c)
        await matrix_reply(c, kind, step)

    await run_case(bench, c, act)


# --- the special cases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Special:
    step: str
    act: Callable[[Bench, Citizen], Awaitable[Any]]
    after: str | None = SAME  # a step, or None: no dialog any more
    fresh: bool = False  # a citizen of its own (the case moves the dialog on)


SPECIAL: dict[str, Special] = {}


def special(
    case_id: str, step: str, *, after: str | None = SAME, fresh: bool = False
) -> Callable[[Callable[[Bench, Citizen], Awaitable[Any]]], Any]:
    def register(act: Callable[[Bench, Citizen], Awaitable[Any]]) -> Any:
        assert case_id not in SPECIAL, case_id
        SPECIAL[case_id] = Special(step, act, after, fresh)
        return act

    return register


# Texts: too long, empty, invisible, emoji, Unicode tricks --------------------------------------


@special("text_over_4096_at_address_arrives_in_parts", "address")
async def _(b: Bench, c: Citizen) -> None:
    first = (await c.user.messages())[-1]["message_id"]  # before: the bot answers at once
    parts = await c.user.send_text_in_parts("Москва, Тверская улица, дом 1. " * 170)
    assert len(parts) == 2  # a Telegram app splits it; each part is a message of its own
    await said(c, "invalid.text_too_long", max_len=300)
    await barrier(c)
    texts = bot_texts_since(await c.user.messages(), first)
    assert sum(c.t("invalid.text_too_long", max_len=300) in t for t in texts) == 2


@special("text_over_4096_at_passport_arrives_in_parts", "passport")
async def _(b: Bench, c: Citizen) -> None:
    first = (await c.user.messages())[-1]["message_id"]
    await c.user.send_text_in_parts("4508 123456 " * 400)
    await barrier(c)
    texts = bot_texts_since(await c.user.messages(), first)
    assert sum(c.snippet("invalid.passport_format") in t for t in texts) == 2


@special("text_over_4096_when_idle_arrives_in_parts", "idle")
async def _(b: Bench, c: Citizen) -> None:
    first = (await c.user.messages())[-1]["message_id"]
    await c.user.send_text_in_parts("Помогите! " * 500)
    await barrier(c)
    texts = bot_texts_since(await c.user.messages(), first)
    assert sum(c.snippet("hint.start") in t for t in texts) == 2


@special("empty_text_never_reaches_the_bot", "reason_text")
async def _(b: Bench, c: Citizen) -> None:
    with pytest.raises(SandboxError, match="empty"):
        await c.user.send_text("")  # Telegram's apps send nothing
    await barrier(c)


@special("whitespace_only_text_never_reaches_the_bot", "address")
async def _(b: Bench, c: Citizen) -> None:
    with pytest.raises(SandboxError, match="empty"):
        await c.user.send_text(" \n\t  \n")  # Telegram trims it to nothing
    await barrier(c)


@special("zero_width_only_text_at_reason", "reason_text")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_text("\u200b\u200c\u200d\ufeff")
    await said(c, "invalid.text_empty")


@special("invisible_filler_text_at_reason", "reason_text")
async def _(b: Bench, c: Citizen) -> None:
    # Braille blank and Hangul fillers look empty and are not whitespace to Python.
    await c.user.send_text("\u2800\u3164\u2800")
    await said(c, "invalid.text_empty")


@special("invisible_filler_text_at_address", "address")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_text("\u3164" * 12)
    await said(c, "invalid.text_empty")


@special("emoji_only_text_at_address", "address")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_text("🏠🏠🏠 🏢🏢")
    await said(c, "invalid.text_no_words")


@special("emoji_only_text_at_reason", "reason_text")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_text("😭😭😭")
    await said(c, "invalid.text_no_words")


@special("emoji_only_text_at_passport", "passport")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_text("🛂 🤷")
    await said(c, "invalid.passport_format")


@special("emoji_only_text_at_postcode", "postcode")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_text("📮")
    await said(c, "invalid.postcode_format")


@special("emoji_only_text_at_consent", "consent")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_text("👍")
    await step_hint(c, "consent")


@special("arabic_indic_digits_at_passport", "passport")
async def _(b: Bench, c: Citizen) -> None:
    # Unicode digits a \\d would take: refused as a format error, not counted as a mismatch.
    await c.user.send_text("٤٥٠٨ ١٢٣٤٥٦")
    await said(c, "invalid.passport_format")


@special("zero_width_characters_inside_passport", "passport", after="scan", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_text("45\u200b08 123\u200d456")
    await c.expect("restore.scan.prompt")


@special("right_to_left_marks_around_passport", "passport", after="scan", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_text("\u200f4508 123456\u200e")
    await c.expect("restore.scan.prompt")


async def address_echo(c: Citizen, typed: str, shown: str) -> None:
    await c.user.send_text(typed)
    summary = await c.expect("summary.title")
    assert shown in message_text(summary), message_text(summary)
    # Only the bot's own formatting: nothing the citizen typed became a link or markup.
    offsets = [e for e in summary.get("entities", []) if e["type"] in ("text_link", "code")]
    assert offsets == []


@special("html_injection_in_address_is_shown_escaped", "address", after="summary", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    typed = "<b>Тверская</b> 1 & <a href='tg://user?id=1'>x</a> <code>5</code>"
    await address_echo(c, typed, typed)


@special("markdown_injection_in_address_is_shown_as_typed", "address", after="summary", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    typed = "*Tverskaya* _1_ [flat](https://evil.example) `5`"
    await address_echo(c, typed, typed)


@special("right_to_left_override_in_address_is_dropped", "address", after="summary", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    # U+202E would show the rest of the line (and the bot's text after it) reversed.
    await address_echo(c, "Tverskaya 1\u202e, flat 5", "Tverskaya 1, flat 5")


@special("right_to_left_script_in_address_is_kept", "address", after="summary", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    await address_echo(c, "شارع التحرير 5, القاهرة", "شارع التحرير 5, القاهرة")


@special("combining_characters_in_address_are_kept", "address", after="summary", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    typed = "Тверска\u0301я у\u0301лица 1, Z\u0337\u0322a\u0338l\u0337g\u0336o\u0335"
    await address_echo(c, typed, typed)


@special("forwarded_text_at_passport_is_read_as_typed", "passport", after="scan", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    await c.user.forward_text(IVANOV.passport, forwarded_from=c.user.user_id)
    await c.expect("restore.scan.prompt")


# Files at the scan step ---------------------------------------------------------------------


@special("file_over_20_mb", "scan")
async def _(b: Bench, c: Citizen) -> None:
    downloads = len(b.emulator.calls("getFile"))
    before = b.bot.stored_files()
    big = make_pdf(1) + b"%" * (21 * 1024 * 1024)
    await c.user.send_document(big, "passport.pdf", "application/pdf")
    await said(c, "scan.error.too_large", limit_mb=10)
    assert len(b.emulator.calls("getFile")) == downloads  # refused from the stated size
    assert b.bot.stored_files() == before


async def send_scan_document(
    b: Bench, c: Citizen, data: bytes, name: str, mime: str | None, key: str, **params: Any
) -> None:
    before = b.bot.stored_files()
    await c.user.send_document(data, name, mime)
    if params:
        await said(c, key, **params)
    else:
        await said(c, key)
    assert b.bot.stored_files() == before  # nothing refused is kept


@special("zip_named_pdf_with_pdf_mime", "scan")
async def _(b: Bench, c: Citizen) -> None:
    await send_scan_document(
        b, c, make_zip(), "passport.pdf", "application/pdf", "scan.error.unsupported_type"
    )


@special("html_page_named_jpg_with_image_mime", "scan")
async def _(b: Bench, c: Citizen) -> None:
    page = b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>" * 30
    await send_scan_document(
        b, c, page, "passport.jpg", "image/jpeg", "scan.error.unsupported_type"
    )


@special("truncated_jpeg", "scan")
async def _(b: Bench, c: Citizen) -> None:
    data = truncated(make_jpeg(1200, 800), 0.4)
    await send_scan_document(b, c, data, "passport.jpg", "image/jpeg", "scan.error.image_corrupt")


@special("decompression_bomb_png", "scan")
async def _(b: Bench, c: Citizen) -> None:
    bomb = blank_png(8_000, 8_000)  # ~250 KB that decode to 256 MB
    await send_scan_document(
        b, c, bomb, "passport.png", "image/png", "scan.error.decompression_bomb"
    )


@special("png_header_declaring_ten_gigapixels", "scan")
async def _(b: Bench, c: Citizen) -> None:
    await send_scan_document(
        b, c, forged_png_bomb(), "passport.png", "image/png", "scan.error.decompression_bomb"
    )


@special("malformed_pdf", "scan")
async def _(b: Bench, c: Citizen) -> None:
    await send_scan_document(
        b, c, garbage_pdf(), "passport.pdf", "application/pdf", "scan.error.pdf_unreadable"
    )


@special("encrypted_pdf", "scan")
async def _(b: Bench, c: Citizen) -> None:
    await send_scan_document(
        b, c, make_pdf(1, True), "passport.pdf", "application/pdf", "scan.error.pdf_encrypted"
    )


@special("pdf_of_500_pages", "scan")
async def _(b: Bench, c: Citizen) -> None:
    await send_scan_document(
        b,
        c,
        make_pdf(500),
        "passport.pdf",
        "application/pdf",
        "scan.error.pdf_too_many_pages",
        actual=500,
        limit=5,
    )


@special("jpeg_named_pdf_is_taken_by_its_content", "scan", after="delivery", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_document(make_jpeg(1200, 800), "passport.pdf", "application/pdf")
    await c.expect("scan.accepted")
    await c.expect("restore.delivery.prompt")


@special("document_when_a_number_is_asked", "passport")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_document(make_pdf(1), "passport.pdf", "application/pdf")
    await step_hint(c, "passport")


# Albums ---------------------------------------------------------------------------------------


def ten_photos() -> list[tuple[str, bytes, str]]:
    return [("photo", make_jpeg(1000 + 20 * i, 700), f"{i}.jpg") for i in range(10)]


@special("album_of_ten_photos_at_scan", "scan", after="delivery", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    first = (await c.user.messages())[-1]["message_id"]
    await c.user.send_album(ten_photos())
    await c.expect("restore.delivery.prompt")
    await barrier(c)
    texts = bot_texts_since(await c.user.messages(), first)
    counted = {
        key: sum(c.snippet(key) in t for t in texts)
        for key in ("scan.album_first_taken", "scan.accepted", "restore.delivery.prompt")
    }
    assert counted == dict.fromkeys(counted, 1), texts
    _, answers = b.fsm(c)  # the scan kept is the first photo's, the dialog's
    assert answers["scan_name"] in {p.name for p in b.bot.stored_files()}


@special("album_of_ten_photos_at_reason", "reason")
async def _(b: Bench, c: Citizen) -> None:
    first = (await c.user.messages())[-1]["message_id"]
    await c.user.send_album(ten_photos())
    await step_hint(c, "reason")
    await barrier(c)
    texts = bot_texts_since(await c.user.messages(), first)
    assert sum(c.snippet("hint.press_button") in t for t in texts) == 1, texts


@special("album_of_ten_photos_when_idle", "idle")
async def _(b: Bench, c: Citizen) -> None:
    first = (await c.user.messages())[-1]["message_id"]
    await c.user.send_album(ten_photos())
    await barrier(c)
    texts = bot_texts_since(await c.user.messages(), first)
    assert sum(c.snippet("hint.start") in t for t in texts) == 1, texts


# Buttons: forged, unknown, stale, too old, pressed twice -----------------------------------------


async def latest_bot_message(c: Citizen) -> dict[str, Any]:
    return (await c.user.messages())[-1]


async def forge(c: Citizen, data: str, *, on: dict[str, Any] | None = None, old: bool = False):
    message = on or await latest_bot_message(c)
    return await c.user.forge_press(message["message_id"], data, inaccessible=old)


@special("forged_callback_data_that_does_not_parse", "reason")
async def _(b: Bench, c: Citizen) -> None:
    alert(c, await forge(c, "rs:stolen-by-aliens"), "hint.stale_button")


@special("forged_callback_data_of_another_step", "reason")
async def _(b: Bench, c: Citizen) -> None:
    alert(c, await forge(c, "dl:electronic"), "hint.stale_button")


@special("unknown_callback_data", "reason")
async def _(b: Bench, c: Citizen) -> None:
    alert(c, await forge(c, "zz:1:2:3"), "hint.stale_button")


@special("forged_office_id", "office")
async def _(b: Bench, c: Citizen) -> None:
    alert(c, await forge(c, "of:NOPE-404"), "delivery.office_unknown")


@special("forged_language", "delivery")
async def _(b: Bench, c: Citizen) -> None:
    alert(c, await forge(c, "lg:xx"), "hint.stale_button")


@special("forged_operator_button_in_a_private_chat", "delivery")
async def _(b: Bench, c: Citizen) -> None:
    alert(c, await forge(c, f"dk:ok:{c.user.user_id}:1"), "hint.stale_button")


@special("forged_submit_before_the_summary", "delivery")
async def _(b: Bench, c: Citizen) -> None:
    alert(c, await forge(c, "sm:submit"), "summary.stale")
    assert b.bot.query("SELECT id FROM applications WHERE user_id = ?", c.user.user_id) == []


@special("stale_button_of_an_answered_step", "passport")
async def _(b: Bench, c: Citizen) -> None:
    messages = await c.user.messages()
    consent = next(m for m in messages if c.snippet("restore.consent.prompt") in message_text(m))
    alert(c, await forge(c, "cs:y", on=consent), "hint.stale_button")


@special("button_on_a_message_older_than_48_hours", "reason")
async def _(b: Bench, c: Citizen) -> None:
    alert(c, await forge(c, "rs:lost", old=True), "hint.stale_button")


@special("double_tap_on_a_reason", "reason", after="passport", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    first = (await c.user.messages())[-1]["message_id"]
    label = c.t("reason.lost")
    message_id = (await latest_bot_message(c))["message_id"]
    taps = await asyncio.gather(*(c.user.press(label, message_id=message_id) for _ in range(2)))
    assert all(t["answered"] for t in taps)
    assert sorted(bool(t["text"]) for t in taps) == [False, True]  # one is "no longer active"
    await barrier(c)
    texts = bot_texts_since(await c.user.messages(), first)
    assert sum(c.snippet("restore.passport.prompt") in t for t in texts) == 1, texts


@special("triple_tap_on_submit", "summary", after=None, fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    label = c.t("button.submit")
    message_id = (await latest_bot_message(c))["message_id"]
    taps = await asyncio.gather(*(c.user.press(label, message_id=message_id) for _ in range(3)))
    assert all(t["answered"] for t in taps)
    await c.user.wait_text(c.snippet("summary.submitted"), since=0)
    await barrier(c)
    rows = b.bot.query("SELECT number FROM applications WHERE user_id = ?", c.user.user_id)
    assert len(rows) == 1
    texts = [message_text(m) for m in await c.user.messages()]
    assert sum(c.snippet("summary.submitted") in t for t in texts) == 1
    others = sorted(t["text"] or "" for t in taps)[1:]
    assert others == [c.t("summary.already_submitted", number=rows[0]["number"])] * 2


@special("double_tap_on_consent", "consent", after="contact", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    label = c.t("button.consent_accept")
    message_id = (await latest_bot_message(c))["message_id"]
    await asyncio.gather(*(c.user.press(label, message_id=message_id) for _ in range(2)))
    await barrier(c)
    texts = [message_text(m) for m in await c.user.messages()]
    assert sum(c.snippet("restore.contact.prompt") in t for t in texts) == 1


# Commands -------------------------------------------------------------------------------------


@special("unknown_command", "passport")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_command("/restore_everything")
    await said(c, "input.unknown_command")
    await step_hint(c, "passport")


@special("command_for_another_bot", "reason")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_command("/help@some_other_bot")
    await said(c, "input.unknown_command")


@special("command_with_our_bots_name", "reason")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_command("/help@oms_restore_bot")
    await said(c, "help.text", email="support@example.org", phone="8-800-000-00-00")


@special("help_with_arguments", "scan")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_command("/help", "me please")
    await c.expect("help.text")


@special("status_with_arguments", "delivery")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_command("/status", "2025-000001 now")
    await c.expect("status.none")


@special("start_with_a_payload_begins_again", "reason", after="consent", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_command("/start", "promo-2025")
    await c.expect("restore.consent.prompt")


@special("cancel_with_arguments_leaves_the_dialog", "postcode", after=None, fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_command("/cancel", "everything now")
    await c.expect("cancel.done")


@special("command_when_idle", "idle")
async def _(b: Bench, c: Citizen) -> None:
    await c.user.send_command("/policy", "please")
    await c.expect("policy.none")


# Groups and channels -------------------------------------------------------------------------


@special("bot_added_to_a_group_by_a_stranger", "idle")
async def _(b: Bench, c: Citizen) -> None:
    group = await b.client.supergroup(chat_id=-1007770001, title="Flea market", bot_status=None)
    await group.member(STRANGER, "Stranger", language_code="en")
    await group.add_bot(STRANGER)
    note = await group.wait_for(lambda m: bool(message_text(m)))
    expected = b.texts.t("input.private_only", locale="en", bot="@oms_restore_bot")
    assert message_text(note) == plain(expected)
    await b.client.wait_event(
        "member_changed", lambda e: e["data"]["new_status"] == "left", chat_id=group.chat_id
    )
    assert await group.bot_status() == "left"


@special("bot_added_to_a_channel_by_a_stranger", "idle")
async def _(b: Bench, c: Citizen) -> None:
    channel = await b.client.channel(CHANNEL, "News")
    await channel.member(STRANGER, "Stranger", status="creator")
    await channel.add_bot(STRANGER)
    await b.client.wait_event(
        "member_changed", lambda e: e["data"]["new_status"] == "left", chat_id=CHANNEL
    )
    assert await channel.bot_status() == "left"
    assert await channel.messages() == []  # nothing posted to the channel's subscribers


async def citizens_topic(b: Bench, c: Citizen) -> int:
    """The citizen asks for an operator; the thread of the topic the bot opens for them."""
    await c.press("button.operator")
    await c.expect("support.waiting.in_progress")
    for _ in range(200):
        rows = b.bot.query("SELECT thread_id FROM conversations WHERE user_id = ?", c.user.user_id)
        if rows and rows[0]["thread_id"]:
            return int(rows[0]["thread_id"])
        await asyncio.sleep(0.05)
    raise AssertionError("no topic was opened")


@special("anonymous_admin_in_a_citizens_topic", "reason", after="with_operator", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    thread = await citizens_topic(b, c)
    await b.operator.send_text_as_chat("Здравствуйте!", SUPPORT_CHAT, thread_id=thread)
    desk_note = plain(b.texts.t("desk.anonymous_sender", locale="ru"))
    await b.support.wait_text(desk_note, thread_id=thread)
    await barrier(c)
    texts = [message_text(m) for m in await c.user.messages()]
    assert "Здравствуйте!" not in texts  # not relayed as if an operator had written it


@special("channel_post_in_a_citizens_topic", "reason", after="with_operator", fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    thread = await citizens_topic(b, c)
    channel = await b.client.channel(CHANNEL - 1, "Announcements")
    await channel.member(OPERATOR, "Anna", status="creator")
    await b.operator.send_text_as_chat("Новости канала", CHANNEL - 1, thread_id=thread)
    desk_note = plain(b.texts.t("desk.anonymous_sender", locale="ru"))
    await b.support.wait_text(desk_note, thread_id=thread)
    await barrier(c)
    texts = [message_text(m) for m in await c.user.messages()]
    assert "Новости канала" not in texts


# After the journey ------------------------------------------------------------------------------


@special("sticker_after_submitting", "summary", after=None, fresh=True)
async def _(b: Bench, c: Citizen) -> None:
    await c.submit()
    await c.user.send_sticker()
    await c.expect("hint.start")


@pytest.mark.parametrize("case_id", list(SPECIAL))
async def test_special_bad_input(bench: Bench, case_id: str) -> None:
    case = SPECIAL[case_id]
    c = await (bench.citizen(case.step) if case.fresh else bench.at(case.step))

    async def act(c: Citizen) -> None:
        await case.act(bench, c)

    await run_case(bench, c, act, after=case.after)


async def test_every_shared_citizen_still_submits(bench: Bench) -> None:
    """Nothing the cases sent was lost or left behind: each shared citizen finishes."""
    for step in STEPS:
        await bench.at(step)
    await asyncio.gather(*(finish(c, step) for step, c in bench.shared.items()))
    rows = bench.bot.query("SELECT user_id FROM applications")
    assert {c.user.user_id for c in bench.shared.values()} <= {r["user_id"] for r in rows}


async def test_the_catalogue_is_big_enough_and_in_the_readme() -> None:
    assert len(MATRIX) * len(STEPS) + len(SPECIAL) >= 60
    readme = await asyncio.to_thread(README.read_text, encoding="utf-8")
    missing = [case for case in [*MATRIX, *SPECIAL] if f"`{case}`" not in readme]
    assert missing == [], "cases missing from the README's Reliability table"
