"""Offline Telegram Bot API emulator for tests and the browser sandbox.

Start it in-process with ``Emulator`` and point the bot at ``emu.api_base``; drive the people in
it through ``sandbox.client.SandboxClient`` over the HTTP control API.
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
