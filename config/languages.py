"""The languages people can choose. Adding one is a catalog (``bot/locale/<locale>/``) and a line here.

Simplified Chinese is the source language: the templates are written in it, so it has no catalog.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # stored per person and in the config (``default_language``)
    locale: str  # Babel's name: the catalog's folder, dates and numbers
    name: str  # how the /lang picker shows it, in its own script
    telegram_codes: tuple[str, ...]  # Telegram ``language_code`` prefixes that choose it at first contact
    menu_code: str = ""  # two-letter code whose command menu (setMyCommands) it supplies, if any

    @property
    def tag(self) -> str:
        """The BCP 47 tag, for ``<html lang>``: zh-Hans, zh-Hant, en."""
        return self.locale.replace("_", "-")


SOURCE = Language("zh-hans", "zh_Hans", "简体中文", ("zh",), menu_code="zh")

REGISTERED: tuple[Language, ...] = (
    SOURCE,
    Language("zh-hant", "zh_Hant", "繁體中文", ("zh-tw", "zh-hk", "zh-mo", "zh-hant")),
    Language("en", "en", "English", ("en",), menu_code="en"),
)

LANGUAGES = tuple(language.code for language in REGISTERED)
BY_CODE = {language.code: language for language in REGISTERED}


def language(code: str) -> Language:
    """The language of ``code``, the source language for a code no longer registered."""
    return BY_CODE.get(code, SOURCE)


def from_telegram(code: str | None, default: str = SOURCE.code) -> str:
    """Map Telegram's ``language_code`` to one of ours: the longest matching prefix wins (zh-TW is
    Traditional, zh is Simplified); unknown languages get the default."""
    if not code:
        return default
    code = code.lower().replace("_", "-")
    best, best_length = default, 0
    for candidate in REGISTERED:
        for prefix in candidate.telegram_codes:
            if code.startswith(prefix) and len(prefix) > best_length:
                best, best_length = candidate.code, len(prefix)
    return best
