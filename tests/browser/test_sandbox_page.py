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
from pathlib import Path
from typing import Any

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
    launcher = Launcher(tmp_path_factory.mktemp("sandbox") / "data", free_port())
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


@pytest.fixture
def page(browser: Browser, sandbox: Launcher) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1360, "height": 860}, accept_downloads=True, locale="ru-RU"
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"http://127.0.0.1:{sandbox.port}/")
    page.locator("body.ready").wait_for()
    yield page
    context.close()
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

    page.locator("#start-button").click()
    bot_says(page, prompt(texts, "restore.consent.prompt"))
    press(page, t(texts, "button.consent_accept"))

    bot_says(page, prompt(texts, "restore.contact.prompt"))
    page.locator("#chat-keyboard").get_by_role(
        "button", name=t(texts, "button.share_contact"), exact=True
    ).click()
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
