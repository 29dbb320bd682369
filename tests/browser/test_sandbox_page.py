"""The sandbox as a newcomer meets it: `make run` with no token, then a real (headless) Chromium
clicking through the page. Skipped only when no Chromium is installed
(scripts/install-browser.sh installs it)."""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.i18n import Texts, create_texts
from sandbox.launcher import FIRST_PERSON_USER_ID, OPERATOR_USER_ID, SANDBOX_TOKEN
from tests.browser.conftest import ROOT, Launcher, free_port, process_alive

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed: run scripts/install-browser.sh"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOT = ROOT / "docs" / "sandbox.png"
TAG = re.compile(r"<[^>]+>")
TIMEOUT_MS = 20_000
SANDBOX_ZONE = "Europe/Moscow"
# A browser far from the sandbox's TIMEZONE: the page must still show the sandbox's times.
BROWSER_ZONE = "America/New_York"
PHONE = {"width": 390, "height": 844}

if CHROMIUM is not None:
    from playwright.sync_api import Browser, Page, sync_playwright


@pytest.fixture(scope="module")
def texts() -> Texts:
    return create_texts()


def t(texts: Texts, key: str, locale: str = "ru") -> str:
    return html.unescape(TAG.sub("", texts.t(key, locale=locale)))


def prompt(texts: Texts, key: str, locale: str = "ru") -> str:
    """The start of a bot text, before any placeholder: enough to recognise the message."""
    text = html.unescape(TAG.sub("", texts.gettext(key, locale=locale)))
    return text.split("{", 1)[0].strip().splitlines()[0][:50]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """`python -m bot` with no BOT_TOKEN, exactly what `make run` starts."""
    # TIMEZONE explicit, whatever a developer's .env says: the page's times are checked in it.
    launcher = Launcher(
        tmp_path_factory.mktemp("sandbox") / "data", free_port(), {"TIMEZONE": SANDBOX_ZONE}
    )
    try:
        launcher.wait_ready()
        yield launcher
        bot_pid = launcher.bot_pid
        # Ctrl+C: everything stops, nothing is left behind, no traceback.
        assert launcher.stop() == 0, launcher.output
        assert "Traceback" not in launcher.output, launcher.output
        assert not process_alive(bot_pid)
    finally:
        if launcher.process.poll() is None:
            launcher.process.kill()
            launcher.process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Playwright's launch() gives every run a fresh, temporary user data dir.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def open_page(browser: Browser, sandbox: Launcher, **options: Any) -> tuple[Page, list[str]]:
    context = browser.new_context(
        **{
            "viewport": {"width": 1360, "height": 860},
            "accept_downloads": True,
            "locale": "ru-RU",
            "timezone_id": BROWSER_ZONE,
            **options,
        }
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"http://127.0.0.1:{sandbox.port}/")
    page.locator("body.ready").wait_for()
    return page, errors


@pytest.fixture
def page(browser: Browser, sandbox: Launcher) -> Iterator[Page]:
    page, errors = open_page(browser, sandbox)
    yield page
    page.context.close()
    assert errors == []


@pytest.fixture
def phone(browser: Browser, sandbox: Launcher) -> Iterator[Page]:
    """The page on a phone: 390 x 844 CSS pixels, as an iPhone 12-15."""
    page, errors = open_page(browser, sandbox, viewport=PHONE, is_mobile=True)
    yield page
    page.context.close()
    assert errors == []


def control(sandbox: Launcher, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{sandbox.port}/sandbox/api{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def as_bot(sandbox: Launcher, method: str, **params: Any) -> Any:
    """A Bot API call with the sandbox's token, as the bot would make it."""
    request = urllib.request.Request(
        f"{sandbox.api_base}/bot{SANDBOX_TOKEN}/{method}",
        data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["result"]


def bot_says(page: Page, text: str, pane: str = "#chat-messages") -> None:
    page.locator(f"{pane} .msg.in").filter(has_text=text).last.wait_for()


def press(page: Page, label: str) -> None:
    page.locator("#chat-messages").get_by_role("button", name=label, exact=True).last.click()


def test_electronic_policy_journey_by_clicking(page: Page, texts: Texts) -> None:
    """Start, consent, share contact, it's me, reason, passport, sample scan, electronic, submit;
    then the policy PDF arrives and downloads."""
    page.locator(f'#people [data-user-id="{FIRST_PERSON_USER_ID}"]').click()
    card = page.locator("#person-card")
    card.filter(has_text="4508 123456").wait_for()  # what the person knows: their passport

    # The bot has a Russian display name in a Russian interface.
    assert page.locator("#bot-name").inner_text() == t(texts, "sandbox.bot_name")
    page.locator("#start-button").click()
    bot_says(page, prompt(texts, "restore.consent.prompt"))
    press(page, t(texts, "button.consent_accept"))

    bot_says(page, prompt(texts, "restore.contact.prompt"))
    page.locator("#chat-keyboard").get_by_role(
        "button", name=t(texts, "button.share_contact"), exact=True
    ).click()
    # The shared contact shows its number as people write it.
    contact = page.locator("#chat-messages .msg.out .contact-phone").last
    assert contact.inner_text() == "+7 999 000-00-01"
    bot_says(page, prompt(texts, "restore.profile.prompt"))
    press(page, t(texts, "button.its_me"))

    bot_says(page, prompt(texts, "restore.reason.prompt"))
    press(page, t(texts, "reason.lost"))

    bot_says(page, prompt(texts, "restore.passport.prompt"))
    page.locator("#chat-input").fill("4508 123456")
    page.locator("#chat-input").press("Enter")

    bot_says(page, prompt(texts, "restore.scan.prompt"))
    page.locator("#scan-button").click()
    page.locator("#chat-messages .msg.out .photo img").last.wait_for()

    bot_says(page, prompt(texts, "restore.delivery.prompt"))
    press(page, t(texts, "delivery.electronic"))
    bot_says(page, t(texts, "summary.title"))
    press(page, t(texts, "button.submit"))

    link = page.locator("#chat-messages .msg.in a.doc-download").last
    link.wait_for(timeout=30_000)
    assert (link.get_attribute("download") or "").endswith(".pdf")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    # Then the citizen asks for a human: the bot opens a topic for them in the support forum,
    # and the operator's view shows it next to the chat.
    page.locator("#chat-input").fill("/operator")
    page.locator("#chat-input").press("Enter")
    page.locator("#desk-toggle").click()
    page.locator("#desk-topics .topic:not([data-thread-id='1'])").first.wait_for()
    page.locator("#desk-messages .msg.in .inline-btn").first.wait_for()

    # The first demo operator takes the conversation: the citizen is told a real first name.
    assert page.locator("#operator-switch [aria-pressed='true']").inner_text() == t(
        texts, "sandbox.operator_name"
    )
    page.locator("#desk-messages").get_by_role(
        "button", name=t(texts, "desk.button.take"), exact=True
    ).last.click()
    name = t(texts, "sandbox.operator_name")
    joined = html.unescape(TAG.sub("", texts.t("support.operator_joined", locale="ru", name=name)))
    bot_says(page, joined)

    # The picture the README shows; refreshed only on request, so a test run leaves git clean.
    page.set_viewport_size({"width": 1500, "height": 900})
    page.evaluate("document.getElementById('toasts').replaceChildren()")
    link.scroll_into_view_if_needed()
    target = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") else None
    image = page.screenshot(path=target)
    assert image.startswith(b"\x89PNG")


def test_operator_desk_shows_whatever_the_bot_does_in_the_forum(
    page: Page, sandbox: Launcher, texts: Texts
) -> None:
    config = page.evaluate("fetch('/sandbox/app/config').then(r => r.json())")
    group = int(config["support_chat_id"])
    page.locator("#desk-toggle").click()
    page.locator("#desk-pane").wait_for()

    topic = as_bot(sandbox, "createForumTopic", chat_id=group, name="Desk check")
    thread = topic["message_thread_id"]
    # Until the operator picks a topic, the desk follows the newest one.
    page.locator("#desk-thread-head", has_text="Desk check").wait_for()
    page.locator("#desk-topics .topic", has_text="Desk check").wait_for()

    card = as_bot(
        sandbox,
        "sendMessage",
        chat_id=group,
        message_thread_id=thread,
        text="<b>Request card</b> for <i>a citizen</i>",
        parse_mode="HTML",
        reply_markup={"inline_keyboard": [[{"text": "Take it", "callback_data": "take"}]]},
    )
    bubble = page.locator(f'#desk-messages .msg[data-id="{card["message_id"]}"]')
    bubble.locator("b", has_text="Request card").wait_for()
    bubble.get_by_role("button", name="Take it", exact=True).wait_for()

    page.locator("#desk-input").fill("Hello from the operator")
    page.locator("#desk-input").press("Enter")
    page.locator("#desk-messages .msg.out", has_text="Hello from the operator").wait_for()

    bubble.hover()
    bubble.locator(".reply-action").click()
    page.locator("#desk-reply").wait_for()
    page.locator("#desk-input").fill("A reply to the card")
    page.locator("#desk-input").press("Enter")
    reply = page.locator("#desk-messages .msg.out", has_text="A reply to the card")
    reply.locator(".quote", has_text="Request card").wait_for()

    said = control(sandbox, "GET", f"/chats/{group}/messages?thread_id={thread}&sender=users")
    mine = {m["message"]["text"]: m["message"] for m in said}
    assert mine["Hello from the operator"]["from"]["id"] == OPERATOR_USER_ID
    assert mine["Hello from the operator"]["message_thread_id"] == thread
    assert mine["A reply to the card"]["reply_to_message"]["message_id"] == card["message_id"]

    page.locator("#desk-file").set_input_files(
        files=[{"name": "note.txt", "mimeType": "text/plain", "buffer": b"from disk"}]
    )
    page.locator("#desk-messages .msg.out .doc-name", has_text="note.txt").wait_for()

    as_bot(
        sandbox,
        "editMessageText",
        chat_id=group,
        message_id=card["message_id"],
        text="Request card: taken",
    )
    bubble.filter(has_text="Request card: taken").locator(".edited").wait_for()
    as_bot(sandbox, "deleteMessage", chat_id=group, message_id=card["message_id"])
    bubble.wait_for(state="detached")


def test_language_toggle_switches_the_page_and_the_user(
    page: Page, sandbox: Launcher, texts: Texts
) -> None:
    user_id = FIRST_PERSON_USER_ID + 1
    page.locator(f'#people [data-user-id="{user_id}"]').click()
    page.locator('[data-lang="en"]').click()
    page.locator("#start-button", has_text=t(texts, "sandbox.chat.start", "en")).wait_for()
    page.locator("#person-card", has_text=t(texts, "sandbox.card.title", "en")).wait_for()
    users = {u["id"]: u for u in control(sandbox, "GET", "/state")["users"]}
    assert users[user_id]["language_code"] == "en"

    page.locator("#start-button").click()  # and the bot answers in English
    bot_says(page, prompt(texts, "start.welcome", "en"))

    picture = io.BytesIO()
    Image.new("RGB", (900, 600), (200, 220, 240)).save(picture, format="PNG")
    page.locator("#chat-file").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": picture.getvalue()}]
    )
    page.locator("#chat-messages .msg.out .photo img").last.wait_for()

    page.locator('[data-lang="ru"]').click()
    page.locator("#chat-input[placeholder]").wait_for(state="attached")
    assert page.locator("#chat-input").get_attribute("placeholder") == t(
        texts, "sandbox.composer.placeholder"
    )


def start_chat(page: Page, texts: Texts, user_id: int) -> None:
    """Pick the person and press Start: the bot may write to them from now on."""
    page.locator(f'#people [data-user-id="{user_id}"]').click()
    page.locator("#start-button").click()
    bot_says(page, prompt(texts, "start.welcome"))


def moment_in(zone: str, unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, ZoneInfo(zone)).strftime("%H:%M")


def test_message_times_show_in_the_configured_timezone(
    page: Page, sandbox: Launcher, texts: Texts
) -> None:
    """/status speaks TIMEZONE's time; the page's bubbles say the same, not the browser's."""
    user_id = FIRST_PERSON_USER_ID + 5
    start_chat(page, texts, user_id)
    sent = as_bot(sandbox, "sendMessage", chat_id=user_id, text="What time is it?")
    bubble = page.locator(f'#chat-messages .msg[data-id="{sent["message_id"]}"]')
    shown = bubble.locator(".meta time")
    shown.wait_for()
    assert shown.inner_text() == moment_in(SANDBOX_ZONE, sent["date"])
    assert moment_in(BROWSER_ZONE, sent["date"]) != moment_in(SANDBOX_ZONE, sent["date"])
    assert SANDBOX_ZONE in (shown.get_attribute("title") or "")


def at_bottom(page: Page, selector: str) -> bool:
    gap: float = page.eval_on_selector(
        selector, "el => el.scrollHeight - el.scrollTop - el.clientHeight"
    )
    return gap < 2


def settles_at_bottom(page: Page, selector: str) -> None:
    """At the bottom within a few frames (a resize is followed on the next frame)."""
    page.wait_for_function(
        "el => el.scrollHeight - el.scrollTop - el.clientHeight < 2",
        arg=page.locator(selector).element_handle(),
        timeout=3_000,
    )


def test_the_chat_keeps_to_the_bottom_and_offers_new_messages(
    page: Page, sandbox: Launcher, texts: Texts
) -> None:
    user_id = FIRST_PERSON_USER_ID + 6
    start_chat(page, texts, user_id)
    chat = "#chat-messages"
    last = None
    for number in range(25):
        last = as_bot(sandbox, "sendMessage", chat_id=user_id, text=f"Line {number}")
    assert last is not None
    page.locator(f'{chat} .msg[data-id="{last["message_id"]}"]').wait_for()
    page.wait_for_function("document.getElementById('chat-jump').hidden")
    assert at_bottom(page, chat)

    # A long message arrives: its end is in view.
    long = as_bot(sandbox, "sendMessage", chat_id=user_id, text="Long message. " * 200)
    page.locator(f'{chat} .msg[data-id="{long["message_id"]}"]').wait_for()
    settles_at_bottom(page, chat)
    # The desk opens beside the chat, which narrows and grows taller: still at the bottom.
    page.locator("#desk-toggle").click()
    page.locator("#desk-pane").wait_for()
    page.wait_for_timeout(300)  # time enough for a wrong scroll to happen
    settles_at_bottom(page, chat)
    page.locator("#desk-close").click()
    page.wait_for_timeout(300)
    settles_at_bottom(page, chat)
    assert page.locator("#chat-jump").is_hidden()

    # Scrolled up to read: new messages do not move the page; a button counts them.
    page.eval_on_selector(chat, "el => { el.scrollTop = 0; }")
    jump = page.locator("#chat-jump")
    jump.wait_for()
    for number in range(2):
        as_bot(sandbox, "sendMessage", chat_id=user_id, text=f"While away {number}")
    jump.locator(".unread", has_text="2").wait_for()
    assert page.eval_on_selector(chat, "el => el.scrollTop") < 50
    jump.click()
    jump.wait_for(state="hidden")
    assert at_bottom(page, chat)
    assert page.locator(f"{chat} .msg.in", has_text="While away 1").is_visible()


def inside(page: Page, selector: str) -> bool:
    """The element is wholly on screen, not under anything else's box."""
    box = page.locator(selector).bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5


def test_the_page_at_a_phones_width_shows_one_pane_at_a_time(phone: Page, texts: Texts) -> None:
    page = phone
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # First the people, as Telegram opens on the chat list; the chat is not squeezed under it.
    assert page.locator("#sidebar").is_visible()
    assert not page.locator("#chat-pane").is_visible()
    assert not page.locator("#desk-pane").is_visible()
    rows = page.locator("#people .person")
    visible_rows = sum(
        1
        for box in (rows.nth(i).bounding_box() for i in range(rows.count()))
        if box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    )
    assert visible_rows >= 6
    topbar = page.locator(".topbar").bounding_box()
    first_row = rows.first.bounding_box()
    assert topbar is not None and first_row is not None
    assert first_row["y"] >= topbar["y"] + topbar["height"]

    # A person opens their chat, with a way back.
    user_id = FIRST_PERSON_USER_ID + 7
    page.locator(f'#people [data-user-id="{user_id}"]').click()
    page.locator("#chat-pane").wait_for()
    assert not page.locator("#sidebar").is_visible()
    assert page.locator("#chat-back").is_visible() and inside(page, "#chat-back")
    # Who they are and their passport stay at hand.
    page.locator("#role-strip .copyable").wait_for()
    page.locator("#start-button").click()
    bot_says(page, prompt(texts, "start.welcome"))
    head = page.locator("#chat-pane .pane-head").bounding_box()
    messages = page.locator("#chat-messages").bounding_box()
    assert head is not None and messages is not None
    assert messages["y"] >= head["y"] + head["height"]
    # The composer's placeholder fits in its field.
    room = page.eval_on_selector(
        "#chat-input",
        """el => {
            const style = getComputedStyle(el);
            const context = document.createElement('canvas').getContext('2d');
            context.font = style.font;
            const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
            const free = el.clientWidth - padding;
            return free - context.measureText(el.placeholder).width;
        }""",
    )
    assert room >= 0
    for control in ("#chat-input", "#chat-composer .send-button", "#scan-button"):
        assert inside(page, control), control
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Back to the list.
    page.locator("#chat-back").click()
    page.locator("#sidebar").wait_for()
    assert not page.locator("#chat-pane").is_visible()

    # The operators' desk: the topics, then a topic, then back to the topics, then closed.
    page.locator("#desk-toggle").click()
    page.locator("#desk-topics").wait_for()
    assert not page.locator("#sidebar").is_visible()
    assert not page.locator(".desk-thread").is_visible()
    page.locator("#desk-topics .topic").first.click()
    page.locator(".desk-thread").wait_for()
    assert not page.locator("#desk-topics").is_visible()
    assert inside(page, "#desk-input") and inside(page, "#desk-back")
    page.locator("#desk-back").click()
    page.locator("#desk-topics").wait_for()
    page.locator("#desk-close").click()
    page.locator("#sidebar").wait_for()
    assert not page.locator("#desk-pane").is_visible()
