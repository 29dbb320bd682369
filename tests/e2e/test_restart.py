"""The bot process restarts: the dialog continues where it was, and submitted work gets done."""

from __future__ import annotations

from bot.i18n import Texts
from sandbox.client import SandboxClient
from tests.e2e.conftest import StartBot
from tests.e2e.harness import FAST_TIMINGS, BotProcess
from tests.e2e.journey import IVANOV, new_citizen
from tests.fixtures_scans import make_jpeg


async def test_restart_between_passport_number_and_scan_continues_the_dialog(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.consent()
    await c.login(IVANOV)
    await c.reason()
    await c.passport(IVANOV)
    await bot.restart()
    await c.scan()  # still at the scan step, with the answers given before
    summary = await c.choose_electronic()
    assert "123456" in summary["text"] and IVANOV.surname[0] in summary["text"]
    await c.submit()
    await c.wait_status("ready")


async def test_restart_at_the_summary_keeps_its_buttons_working(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_post()
    await bot.restart()
    await c.press("button.edit_reason")  # a button of the message sent before the restart
    await c.expect("restore.reason.prompt")
    await c.press("reason.stolen")
    await c.expect("summary.title")
    await c.submit()
    await c.wait_status("sent_by_post")


async def test_application_submitted_before_a_restart_is_processed_after_it(
    start_bot: StartBot, client: SandboxClient, texts: Texts
) -> None:
    # A register check slow enough that the bot stops before it.
    bot = await start_bot({**FAST_TIMINGS, "CHECK_DELAY_SECONDS": "4"})
    c = await new_citizen(client, texts)
    await c.to_delivery(IVANOV)
    await c.choose_electronic()
    await c.submit()
    await bot.stop()
    [row] = bot.query("SELECT status FROM applications")
    assert row["status"] == "submitted"
    await bot.start()
    await c.wait_status("ready", timeout=20)
    await c.user.wait_for(lambda m: "document" in m, timeout=15)
    [row] = bot.query("SELECT status FROM applications")
    assert row["status"] == "ready"


async def test_stopping_lets_the_updates_being_handled_finish(
    bot: BotProcess, client: SandboxClient, texts: Texts
) -> None:
    people = [await new_citizen(client, texts, user_id=7100 + n) for n in range(4)]
    for c in people:
        await c.consent()
        await c.login(IVANOV)
        await c.reason()
        await c.passport(IVANOV)
    start = await client.last_seq()
    scan = make_jpeg(6000, 4000, quality=95)  # large enough to take a while to check
    for c in people:
        await c.user.send_document(scan, "scan.jpg", "image/jpeg")
    # The bot shows "typing..." while it downloads and checks a scan: stop it once it does so
    # in every chat (all four are being handled; one alone left the others unfetched).
    for c in people:
        await client.wait_event("chat_action", chat_id=c.user.user_id, after=start)
    await bot.stop()
    assert "Traceback" not in bot.log(), bot.log()
    for c in people:
        texts_after = [m.get("text", "") for m in await c.user.messages()]
        assert any(c.snippet("scan.accepted") in text for text in texts_after), texts_after
        assert any(c.snippet("restore.delivery.prompt") in text for text in texts_after)
