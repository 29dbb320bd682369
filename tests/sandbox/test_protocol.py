"""The Bot API wire protocol as Telegram speaks it, checked with plain HTTP requests."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from sandbox.client import SandboxClient
from sandbox.emulator import Emulator

from .conftest import TOKEN


async def call(
    emu: Emulator, method: str, *, token: str = TOKEN, http: str = "POST", **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(http, f"{emu.api_base}/bot{token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


async def test_bad_token_is_unauthorized(emu: Emulator) -> None:
    status, body = await call(emu, "getMe", token="not-a-token")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_unknown_method_is_not_found_and_recorded(emu: Emulator) -> None:
    status, body = await call(emu, "sendTelepathy", json={"chat_id": 1})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    recorded = emu.calls("sendTelepathy")
    assert recorded[0].params == {"chat_id": 1} and recorded[0].error_code == 404


async def test_method_names_are_case_insensitive_and_get_works(emu: Emulator) -> None:
    status, body = await call(emu, "GETME", http="GET")
    assert status == 200 and body["ok"] and body["result"]["id"] == 123456789
    assert emu.calls("getMe")[0].method == "getMe"


async def test_parameters_from_query_form_and_json(emu: Emulator, client: SandboxClient) -> None:
    user = await client.user(1001, "Ivan")
    await user.send_text("hi")
    status, body = await call(emu, "sendMessage", params={"chat_id": "1001", "text": "query"})
    assert status == 200 and body["result"]["text"] == "query"
    status, body = await call(emu, "sendMessage", data={"chat_id": "1001", "text": "form"})
    assert status == 200 and body["result"]["text"] == "form"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    status, body = await call(
        emu, "sendMessage", json={"chat_id": 1001, "text": "json", "reply_markup": markup}
    )
    assert status == 200 and body["result"]["reply_markup"] == markup
    # Complex fields may also arrive as JSON text inside a form, as aiogram sends them.
    status, body = await call(
        emu,
        "sendMessage",
        data={"chat_id": "1001", "text": "x", "reply_markup": json.dumps(markup)},
    )
    assert status == 200 and body["result"]["reply_markup"] == markup
    assert [c.params["text"] for c in emu.calls("sendMessage")] == ["query", "form", "json", "x"]


async def test_missing_parameters(emu: Emulator) -> None:
    status, body = await call(emu, "sendMessage", json={"text": "hi"})
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await call(emu, "sendMessage", json={"chat_id": 5})
    assert body["description"] == "Bad Request: message text is empty"
    status, body = await call(emu, "createForumTopic", json={"chat_id": 5})
    assert body["description"] == "Bad Request: chat not found"
    status, body = await call(
        emu, "sendMessage", data={"chat_id": "1", "text": "x", "reply_markup": "{"}
    )
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"


async def test_long_polling_offset_limit_and_timeout(emu: Emulator, client: SandboxClient) -> None:
    user = await client.user(1001, "Ivan")
    started = time.monotonic()
    _, body = await call(emu, "getUpdates", json={"timeout": 1})
    assert body["result"] == [] and 0.9 < time.monotonic() - started < 2
    waiting = asyncio.create_task(call(emu, "getUpdates", json={"timeout": 10}))
    await asyncio.sleep(0.1)
    await user.send_text("one")
    _, body = await asyncio.wait_for(waiting, 2)
    first = body["result"][0]
    assert first["message"]["text"] == "one"
    await user.send_text("two")
    await user.send_text("three")
    _, body = await call(emu, "getUpdates", json={"offset": first["update_id"] + 1, "limit": 1})
    assert [u["message"]["text"] for u in body["result"]] == ["two"]
    _, body = await call(emu, "getUpdates", json={"offset": -1})
    assert [u["message"]["text"] for u in body["result"]] == ["three"]


async def test_newer_get_updates_ends_the_older(emu: Emulator) -> None:
    older = asyncio.create_task(call(emu, "getUpdates", json={"timeout": 5}))
    await asyncio.sleep(0.1)
    newer = asyncio.create_task(call(emu, "getUpdates", json={"timeout": 0}))
    status, body = await asyncio.wait_for(older, 2)
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")
    assert (await newer)[0] == 200


async def test_allowed_updates_filter_new_updates(emu: Emulator, client: SandboxClient) -> None:
    user = await client.user(1001, "Ivan")
    await call(emu, "getUpdates", json={"allowed_updates": ["callback_query"]})
    await user.send_text("ignored")
    await user.block()
    _, body = await call(emu, "getUpdates", json={})
    assert body["result"] == []
    await call(emu, "getUpdates", json={"allowed_updates": []})  # back to the default set
    await user.unblock()
    _, body = await call(emu, "getUpdates", json={})
    assert "my_chat_member" in body["result"][0]


async def test_webhook_descriptions(emu: Emulator) -> None:
    _, body = await call(emu, "deleteWebhook")
    assert body == {"ok": True, "result": True, "description": "Webhook is already deleted"}
    _, body = await call(emu, "setWebhook", json={"url": "https://example.invalid/x"})
    assert body["description"] == "Webhook was set"
    _, body = await call(emu, "getUpdates")
    assert body["error_code"] == 409


async def test_file_download_route(emu: Emulator, client: SandboxClient) -> None:
    user = await client.user(1001, "Ivan")
    message = await user.send_document(b"hello file", "note.txt")
    _, body = await call(emu, "getFile", json={"file_id": message["document"]["file_id"]})
    path = body["result"]["file_path"]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{emu.api_base}/file/bot{TOKEN}/{path}") as response:
            assert response.status == 200 and await response.read() == b"hello file"
        async with session.get(f"{emu.api_base}/file/bot{TOKEN}/documents/none") as response:
            assert response.status == 404
    _, body = await call(emu, "getFile", json={"file_id": "nope"})
    assert (
        body["description"] == "Bad Request: wrong file_id or the file is temporarily unavailable"
    )


async def test_event_stream(emu: Emulator, client: SandboxClient) -> None:
    user = await client.user(1001, "Ivan")
    await user.send_text("hi")
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{emu.base_url}/sandbox/api/events?chat_id=1001") as response,
    ):
        assert response.headers["Content-Type"].startswith("text/event-stream")
        await call(emu, "sendMessage", json={"chat_id": 1001, "text": "streamed"})
        events: list[dict[str, Any]] = []
        while not any(e["type"] == "message_new" and e["data"]["from_bot"] for e in events):
            line = (await asyncio.wait_for(response.content.readline(), 2)).decode()
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: ") :]))
    bot_event = next(e for e in events if e["type"] == "message_new" and e["data"]["from_bot"])
    assert bot_event["data"]["message"]["text"] == "streamed"


async def test_control_errors(client: SandboxClient) -> None:
    with pytest.raises(Exception, match="no chat 42"):
        await client.request("GET", "/chats/42")
    group = await client.forum_group()
    outsider = await client.user(9, "Out")
    with pytest.raises(Exception, match="not a member"):
        await group.client.request(
            "POST", f"/chats/{group.chat_id}/messages", json={"user_id": outsider.user_id}
        )
