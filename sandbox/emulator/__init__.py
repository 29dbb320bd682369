"""Offline Telegram Bot API emulator for tests and the browser sandbox.

Start it in-process with ``Emulator`` and point the bot at ``emu.api_base``; drive the people in
it through ``sandbox.client.SandboxClient`` over the HTTP control API::

    async with Emulator(strict=True) as emu, emu.client() as sandbox:
        bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.api_base)))
        user = await sandbox.user(1001, "Ivan")
        await user.send_command("/start")

Modules: ``server`` (aiohttp app, recording, faults, strict checks), ``control`` (the
``/sandbox/api`` routes and SSE), ``state`` (the world), ``methods_*`` (Bot API methods),
``actions`` (what people do), ``messaging``/``markup``/``entities``/``markdown`` (building
messages), ``webhook`` (posting updates to a bot's webhook), ``files``, ``faults``, ``params``,
``errors``, ``schema_check``.
"""

from .schema_check import SchemaMismatchError, check, validate, validate_result
from .server import Emulator, RecordedCall

__all__ = [
    "Emulator",
    "RecordedCall",
    "SchemaMismatchError",
    "check",
    "validate",
    "validate_result",
]
