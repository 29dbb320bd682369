"""Texts: placeholders and counts."""

from __future__ import annotations

from bot.i18n import create_texts


def test_a_count_fills_a_text_that_is_not_a_plural_entry() -> None:
    # "passport.mismatch" reads for any number ("attempts left: {n}"); it must not come back as
    # its bare key, which is what gettext's ngettext returns for a non-plural entry.
    texts = create_texts()
    for locale in ("ru", "en"):
        for n in (1, 2, 5):
            text = texts.t("passport.mismatch", locale=locale, n=n)
            assert text != "passport.mismatch"
            assert f"{n}." in text
