"""The sandbox page's clock and mailbox: a visitor moves the clock a day ahead and sees the bot's
reminder arrive; the mailbox pane shows what the bot emailed to the sandbox's SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.i18n import Texts, create_texts
from sandbox.launcher import FIRST_PERSON_USER_ID
from tests.browser.conftest import Launcher, free_port
from tests.browser.test_sandbox_page import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Browser,
    Page,
    bot_says,
    open_page,
    press,
    prompt,
    t,
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed: run scripts/install-browser.sh"
)


@pytest.fixture(scope="module")
def texts() -> Texts:
    return create_texts()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def clock_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """A sandbox of its own: moving its clock must not disturb the other page tests. No quiet
    hours, so the reminder comes whatever the real time of day."""
    launcher = Launcher(
        tmp_path_factory.mktemp("clock") / "data",
        free_port(),
        {"TIMEZONE": "Europe/Moscow", "QUIET_HOURS": "00:00-00:00"},
    )
    try:
        launcher.wait_ready()
        yield launcher
        assert launcher.stop() == 0, launcher.output
        assert "Traceback" not in launcher.output, launcher.output
    finally:
        if launcher.process.poll() is None:
            launcher.process.kill()
            launcher.process.wait()


@pytest.fixture
def clock_page(browser: Browser, clock_sandbox: Launcher) -> Iterator[Page]:
    page, errors = open_page(browser, clock_sandbox)
    yield page
    page.context.close()
    assert errors == []


def test_moving_the_clock_a_day_ahead_brings_the_reminder_and_mail_shows_in_the_pane(
    clock_page: Page, texts: Texts
) -> None:
    page = clock_page
    page.locator(f'#people [data-user-id="{FIRST_PERSON_USER_ID}"]').click()
    page.locator("#start-button").click()
    bot_says(page, prompt(texts, "restore.consent.prompt"))
    press(page, t(texts, "button.consent_accept"))
    bot_says(page, prompt(texts, "restore.contact.prompt"))  # and the citizen leaves

    before = page.locator("#clock-now").inner_text()
    page.get_by_role("button", name=t(texts, "sandbox.clock.plus_day"), exact=True).click()
    page.locator("#clock-now").filter(has_text="+24").wait_for()
    assert page.locator("#clock-now").inner_text() != before
    bot_says(page, prompt(texts, "reminder.dialog"))
    press(page, t(texts, "reminder.continue"))  # back to the step it stopped at
    page.locator("#chat-keyboard").get_by_role(
        "button", name=t(texts, "button.share_contact"), exact=True
    ).wait_for()

    # The mailbox pane: a code sent to the address set in /profile arrives there.
    page.locator("#chat-input").fill("/profile")
    page.locator("#chat-input").press("Enter")
    press(page, t(texts, "button.set_email"))
    bot_says(page, prompt(texts, "profile.ask_email"))
    page.locator("#chat-input").fill("ivan@example.ru")
    page.locator("#chat-input").press("Enter")
    bot_says(page, prompt(texts, "email.code_sent"))
    page.locator("#mail-count").wait_for()
    page.locator("#mailbox-toggle").click()
    mail = page.locator("#mail-list .mail").first
    mail.filter(has_text=t(texts, "email.code.subject")).wait_for()
    assert "ivan@example.ru" in mail.inner_text()
