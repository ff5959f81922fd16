"""User-facing texts: one Jinja2 template per feature in ``bot/templates/<module>.j2``, one macro per
screen, its words in gettext catalogs (``bot/locale/<locale>/LC_MESSAGES/messages.po``, Babel).

``texts.render("zh-hans", "common.start", name=...)`` calls macro ``start`` of ``common.j2`` with the
reader's catalog installed. Simplified Chinese is the source language: the templates are written in
it and it has no catalog. Output is HTML (Telegram's parse mode); autoescaping keeps names and notes
typed by people from breaking it.

Catalogs are compiled in memory from the ``.po`` files the first time a language is used (a few
milliseconds), so there is no build step and no compiled file to go stale.
"""

from __future__ import annotations

import functools
import html
import io
import re
from datetime import date, datetime
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel import dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from config import languages

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_NAMES = {language.code: language.name for language in languages.REGISTERED}


def language_from_telegram(code: str | None, default: str = languages.SOURCE.code) -> str:
    """Map Telegram's ``language_code`` to one of ours; unknown languages get the default."""
    return languages.from_telegram(code, default)


class Texts:
    """Renders texts. Compiled templates are shared by every ``Texts`` on the same folders in the process."""

    def __init__(self, folder: Path = TEMPLATES_DIR, locale_dir: Path = LOCALE_DIR) -> None:
        self._folder = folder
        self._locale_dir = locale_dir
        self._modules = _MODULES.setdefault((folder, locale_dir), {})
        self._fixed: dict[tuple[str, str], str] = {}  # texts without values, rendered once

    def render(self, lang: str, key: str, **context: Any) -> str:
        if not context:  # labels such as a clause card's ten buttons: the same every time
            cached = self._fixed.get((lang, key))
            if cached is None:
                cached = self._fixed[(lang, key)] = self._render(lang, key)
            return cached
        return self._render(lang, key, **context)

    def plain(self, lang: str, key: str, **context: Any) -> str:
        """The same text for a surface Telegram never parses as HTML: button labels, toasts, alerts."""
        return html_to_plain(self.render(lang, key, **context))

    def _render(self, lang: str, key: str, **context: Any) -> str:
        module_name, _, macro_name = key.partition(".")
        module = self._module(lang if lang in languages.BY_CODE else languages.SOURCE.code, module_name)
        macro = getattr(module, macro_name, None)
        if macro is None:
            raise KeyError(f"no text {key!r} for {lang}")
        return str(macro(**context)).strip()

    def compile_all(self) -> None:
        """Compile every template now, so that no one's first message waits for it (about 0.5 s)."""
        for lang in languages.BY_CODE:
            for module_name in self.modules(lang):
                self._module(lang, module_name)

    def _module(self, lang: str, module_name: str) -> Any:
        cache_key = (lang, module_name)
        module = self._modules.get(cache_key)
        if module is None:
            template = environment(lang, self._folder, self._locale_dir).get_template(f"{module_name}.j2")
            module = self._modules[cache_key] = template.make_module()
        return module

    def macro_names(self, lang: str, module_name: str) -> set[str]:
        module = self._module(lang, module_name)
        return {name for name in dir(module) if not name.startswith("_")}

    def modules(self, lang: str) -> list[str]:
        return sorted(path.stem for path in self._folder.glob("*.j2"))


@functools.cache
def environment(lang: str, folder: Path = TEMPLATES_DIR, locale_dir: Path = LOCALE_DIR) -> Environment:
    """The templates of ``folder`` in ``lang``: its catalog installed for ``{% trans %}`` and ``_()``,
    and Babel's date formatting of its locale behind the ``date`` filter (weekdays, day and month)."""
    language = languages.language(lang)
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        auto_reload=False,  # macros that import another template would stat() its file on every call
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang, locale_dir), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang
    env.globals["language_tag"] = language.tag
    env.filters["script"] = functools.partial(rubric_text, locale_dir=locale_dir)  # x|script(lang)
    env.filters["date"] = functools.partial(_format_date, locale=language.locale)
    return env


@functools.cache
def translations(lang: str, locale_dir: Path = LOCALE_DIR) -> NullTranslations:
    """The catalog of ``lang``, compiled in memory from its ``messages.po``; none for the source language.
    Fuzzy and untranslated entries are left out, so they show the source text (a test finds them)."""
    language = languages.language(lang)
    po = locale_dir / language.locale / "LC_MESSAGES" / "messages.po"
    if language is languages.SOURCE or not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language.locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def _format_date(value: date | datetime, pattern: str = "medium", *, locale: str) -> str:
    """A date in the reader's locale: ``"EEE"`` its short weekday, ``"medium"`` a date, or a CLDR pattern."""
    return dates.format_date(value, pattern, locale=locale)


_TAG = re.compile(r"<[^<>]*>")


def html_to_plain(text: str) -> str:
    """What a reader sees of Telegram HTML: tags dropped, entities decoded. Safe because autoescaping
    turned every ``<`` people typed into ``&lt;``, so the only tags left are the templates' own."""
    return html.unescape(_TAG.sub("", text))


_MODULES: dict[tuple[Path, Path], dict[tuple[str, str], Any]] = {}


_NUMERAL = "[一二三四五六七八九十]+"
_SECTION_LABEL = re.compile(rf"({_NUMERAL})、(.+)")  # 一、内部管理
_CATEGORY_LABEL = re.compile(rf"\(({_NUMERAL})\)(.+)")  # (一)制度建设
_CODE = re.compile(rf"({_NUMERAL})(?:\(({_NUMERAL})\)(\d+)?)?")  # 二(一)4, 二(一), 二


@functools.lru_cache(maxsize=4096)  # a card shows the same few labels over and over
def rubric_text(text: str, lang: str, locale_dir: Path = LOCALE_DIR) -> str:
    """A rubric label or clause text (stored in Simplified Chinese) for a reader of ``lang``: labels
    are catalog messages (rubric/terms.py); Traditional readers get the rest converted by OpenCC,
    readers of other languages get codes in digits and clause texts as the company wrote them."""
    language = languages.language(lang)
    if language is languages.SOURCE:
        return text
    term = translations(lang, locale_dir).gettext
    if (translated := term(text)) != text:
        return translated
    if language.locale.startswith("zh"):
        from rubric.script import to_traditional

        return to_traditional(text) if language.locale.startswith("zh_Hant") else text
    from rubric.numerals import from_chinese

    if match := _SECTION_LABEL.fullmatch(text):
        return f"{from_chinese(match[1])}. {term(match[2])}"
    if match := _CATEGORY_LABEL.fullmatch(text):
        return f"({from_chinese(match[1])}) {term(match[2])}"
    if match := _CODE.fullmatch(text):
        parts = [str(from_chinese(match[1]))]
        if match[2]:
            parts.append(f"({from_chinese(match[2])})")
        if match[3]:
            parts.append(match[3])
        return "".join(parts)
    return text
