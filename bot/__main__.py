"""`python -m bot`: load settings, pick the mode, run. With no BOT_TOKEN, the offline sandbox."""

from __future__ import annotations

import asyncio
import logging
import sys

from aiogram.exceptions import TelegramUnauthorizedError
from pydantic import ValidationError

from bot.app import build_dispatcher, create_bot, open_runtime
from bot.logs import setup_logging
from bot.settings import Settings, describe_error
from core.errors import RegisterFileError
from storage.keys import DataKeyError

log = logging.getLogger("bot")


async def run_polling(settings: Settings) -> None:
    runtime = await open_runtime(settings)
    bot = create_bot(settings)
    try:
        dp = build_dispatcher(runtime, bot)
        await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types())
    finally:
        await bot.session.close()
        await runtime.close()


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    if settings.bot_token is None:
        from sandbox.launcher import run_sandbox  # only the sandbox needs it

        return run_sandbox(settings)
    try:
        asyncio.run(run_polling(settings))
    except RegisterFileError as error:
        variable = "OFFICES_PATH" if error.path == str(settings.offices_path) else "REGISTRY_PATH"
        print(f"{variable}: {error}", file=sys.stderr)
        return 2
    except DataKeyError as error:  # a damaged key file in DATA_DIR
        print(f"DATA_KEY: {error}", file=sys.stderr)
        return 2
    except TelegramUnauthorizedError:
        print("BOT_TOKEN: Telegram rejected the token (401 Unauthorized)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
