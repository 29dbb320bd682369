"""Texts from `locales/<lang>/LC_MESSAGES/messages.po`, compiled in memory at start-up.

Msgids are stable keys (`restore.ask_passport`), never source sentences; placeholders use
`str.format` names. Compiling the `.po` files here spares the repository generated `.mo` binaries
and a build step that a fresh clone could forget.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LOCALES = ("ru", "en")
DOMAIN = "messages"


def load_catalog(locale: str, path: Path = LOCALES_DIR) -> Any:
    with (path / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fp:
        return read_po(fp, locale=locale)


class Texts(I18n):
    """aiogram's I18n reading `.po` files directly."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for locale in LOCALES:
            buffer = io.BytesIO()
            write_mo(buffer, load_catalog(locale, self.path))
            buffer.seek(0)
            translations[locale] = gettext.GNUTranslations(buffer)
        return translations

    def t(
        self, key: str, /, *, locale: str | None = None, n: int | None = None, **params: Any
    ) -> str:
        """The text for `key` in `locale` (the current one by default), with params filled in."""
        if n is None:
            template = self.gettext(key, locale=locale)
        else:
            template = self.gettext(key, key, n, locale=locale)
            if template == key:
                # Not a plural entry (its text reads for any n, "attempts left: {n}"): gettext's
                # ngettext finds only plural entries and would return the bare key.
                template = self.gettext(key, locale=locale)
            params.setdefault("n", n)
        return template.format(**params) if params else template

    def pick_locale(self, language_code: str | None) -> str:
        """Telegram's language_code ("ru", "en-US", "uk") to one of ours."""
        if language_code:
            base = language_code.split("-")[0].lower()
            if base in self.locales:
                return base
        return self.default_locale


def create_texts(default_locale: str = "ru") -> Texts:
    return Texts(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


def t(key: str, /, *, locale: str | None = None, n: int | None = None, **params: Any) -> str:
    """Shortcut for handlers: the dispatcher's Texts is the current context instance."""
    return Texts.get_current(no_error=False).t(key, locale=locale, n=n, **params)
