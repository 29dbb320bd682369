"""`make bench`: the bot measured over HTTP against a bare aiogram bot (see bench/__main__.py)."""
