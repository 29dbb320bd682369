"""`python -m sandbox`: the offline sandbox even when a BOT_TOKEN is configured."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from bot.logs import setup_logging
from bot.settings import Settings, describe_error
from sandbox.launcher import run_sandbox


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    return run_sandbox(settings)


if __name__ == "__main__":
    sys.exit(main())
