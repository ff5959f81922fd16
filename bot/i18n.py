"""User-facing texts: Jinja2 macros in ``bot/templates/<language>/<module>.j2``.

``texts.render("zh-hans", "common.start", name=...)`` calls macro ``start`` of
``zh-hans/common.j2``. Each language has the same modules and macros (a test checks), so a
handler never holds a user-facing string of its own. Output is HTML (Telegram's parse mode);
autoescaping keeps names and notes typed by people from breaking it.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from config.settings import LANGUAGES

TEMPLATES_DIR = Path(__file__).parent / "templates"
LANGUAGE_NAMES = {"zh-hans": "简体中文", "zh-hant": "繁體中文", "en": "English"}
_TRADITIONAL_REGIONS = ("zh-tw", "zh-hk", "zh-mo", "zh-hant")


def language_from_telegram(code: str | None, default: str = "zh-hans") -> str:
    """Map Telegram's ``language_code`` to one of ours; unknown languages get the default."""
    if not code:
        return default
    code = code.lower().replace("_", "-")
    if code.startswith("zh"):
        return "zh-hant" if code.startswith(_TRADITIONAL_REGIONS) or "hant" in code else "zh-hans"
    if code.startswith("en"):
        return "en"
    return default


class Texts:
    """Renders texts. Compiled templates are shared by every ``Texts`` on the same folder in the process."""

    def __init__(self, folder: Path = TEMPLATES_DIR) -> None:
        self._folder = folder
        self._env = _environment(folder)
        self._modules = _MODULES.setdefault(folder, {})
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
        module = self._module(lang if lang in LANGUAGES else "zh-hans", module_name)
        macro = getattr(module, macro_name, None)
        if macro is None:
            raise KeyError(f"no text {key!r} for {lang}")
        return str(macro(**context)).strip()

    def compile_all(self) -> None:
        """Compile every template now, so that no one's first message waits for it (about 0.5 s)."""
        for lang in LANGUAGES:
            for module_name in self.modules(lang):
                self._module(lang, module_name)

    def _module(self, lang: str, module_name: str) -> Any:
        cache_key = (lang, module_name)
        module = self._modules.get(cache_key)
        if module is None:
            template = self._env.get_template(f"{lang}/{module_name}.j2")
            module = self._modules[cache_key] = template.make_module({"lang": lang})
        return module

    def macro_names(self, lang: str, module_name: str) -> set[str]:
        module = self._module(lang, module_name)
        return {name for name in dir(module) if not name.startswith("_")}

    def modules(self, lang: str) -> list[str]:
        return sorted(path.stem for path in (self._folder / lang).glob("*.j2"))


_TAG = re.compile(r"<[^<>]*>")


def html_to_plain(text: str) -> str:
    """What a reader sees of Telegram HTML: tags dropped, entities decoded. Safe because autoescaping
    turned every ``<`` people typed into ``&lt;``, so the only tags left are the templates' own."""
    return html.unescape(_TAG.sub("", text))


_MODULES: dict[Path, dict[tuple[str, str], Any]] = {}


@functools.cache
def _environment(folder: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        auto_reload=False,  # macros that import another template would stat() its file on every call
    )
    env.filters["script"] = _script_filter
    return env


def _script_filter(text: str, lang: str) -> str:
    """Rubric texts are stored in Simplified Chinese: Traditional readers get them converted, English
    readers get the labels (grades, sections, categories, codes) in English where a term is known."""
    if lang == "en":
        return english_label(text)
    if lang != "zh-hant":
        return text
    from rubric.script import to_traditional

    return to_traditional(text)


_NUMERAL = "[一二三四五六七八九十]+"
_SECTION_LABEL = re.compile(rf"({_NUMERAL})、(.+)")  # 一、内部管理
_CATEGORY_LABEL = re.compile(rf"\(({_NUMERAL})\)(.+)")  # (一)制度建设
_CODE = re.compile(rf"({_NUMERAL})(?:\(({_NUMERAL})\)(\d+)?)?")  # 二(一)4, 二(一), 二


def english_label(text: str) -> str:
    """A rubric label in English: known terms translated, Chinese numerals of codes as digits. Other
    text (a clause's wording) is left as written."""
    from rubric.numerals import from_chinese

    terms = _english_terms()
    if text in terms:
        return terms[text]
    if match := _SECTION_LABEL.fullmatch(text):
        return f"{from_chinese(match[1])}. {terms.get(match[2], match[2])}"
    if match := _CATEGORY_LABEL.fullmatch(text):
        return f"({from_chinese(match[1])}) {terms.get(match[2], match[2])}"
    if match := _CODE.fullmatch(text):
        parts = [str(from_chinese(match[1]))]
        if match[2]:
            parts.append(f"({from_chinese(match[2])})")
        if match[3]:
            parts.append(match[3])
        return "".join(parts)
    return text


@functools.cache
def _english_terms() -> dict[str, str]:
    import yaml

    return yaml.safe_load((TEMPLATES_DIR / "en" / "rubric_terms.yaml").read_text(encoding="utf-8"))
