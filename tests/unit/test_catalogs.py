"""The texts' catalogs: every message translated everywhere, Traditional really Traditional, no word
outside a message, English screens without Chinese labels, and a fourth language is one catalog plus
one line (proved with a pseudo-locale that wraps every message, rendered over every screen)."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from babel import dates
from babel.messages.catalog import Catalog
from jinja2 import nodes

import tests.unit.screens
from bot.i18n import TEMPLATES_DIR, Texts, environment, html_to_plain
from config import languages
from rubric.registry import RubricRegistry
from rubric.script import to_traditional
from rubric.terms import labels
from tools import catalogs

GETTEXT_CALLS = {"gettext", "ngettext", "pgettext", "npgettext", "_"}
WORD = re.compile(r"[A-Za-z\u3400-\u9fff]")
CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Markup, also cut by a value (<a href="tg://user?id={{ id }}">), and the report's style and script.
MARKUP = re.compile(r"<(style|script)>.*?</\1>|<[^<>]*>?|[\w-]+=\"[^\"]*\"?|&[a-z]+;|&#\d+;", re.S)
COMMAND = re.compile(r"/[a-z_]+")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    """The messages as the templates and rubric files are today (not as the committed .pot says)."""
    return catalogs.extract(tmp_path_factory.mktemp("pot") / "messages.pot")


def _catalog(language: languages.Language) -> Catalog:
    return catalogs.read(catalogs.po_path(language.locale))


def _every_template() -> list[Path]:
    return sorted(TEMPLATES_DIR.rglob("*.j2"))


@pytest.mark.parametrize("language", catalogs.translated_languages(), ids=lambda lang: lang.code)
def test_every_message_is_translated(extracted, language):
    catalog = _catalog(language)
    missing = [m.id for m in extracted if m.id and not _translated(catalog.get(m.id, context=m.context))]
    assert not missing, f"{language.locale} lacks {len(missing)} message(s): run `make catalogs`: {missing[:5]}"
    assert not catalogs.problems(catalog), catalogs.problems(catalog)


def _translated(message: Any) -> bool:
    if message is None:
        return False
    strings = message.string if message.pluralizable else (message.string,)
    return all(strings) and "fuzzy" not in message.flags


def test_traditional_catalog_has_no_simplified_characters():
    for language in catalogs.translated_languages():
        if not language.locale.startswith("zh_Hant"):
            continue
        for message in _catalog(language):
            strings = message.string if message.pluralizable else (message.string,)
            for text in strings:
                assert to_traditional(text) == text, f"{language.locale}: {text}"


@pytest.mark.parametrize("path", _every_template(), ids=lambda p: str(p.relative_to(TEMPLATES_DIR)))
def test_no_word_outside_a_message(path):
    """Literal text and string constants of a template hold symbols and markup only: every word is
    a message, so a catalog can translate it."""
    env = environment(languages.SOURCE.code)
    tree = env.parse(path.read_text(encoding="utf-8"))
    escaped = []

    def walk(node: nodes.Node, in_message: bool) -> None:
        if isinstance(node, nodes.TemplateData) and WORD.search(_symbols_only(node.data)):
            escaped.append(node.data.strip())
        if isinstance(node, nodes.Const) and isinstance(node.value, str) and not in_message:
            if CJK_RUN.search(node.value):
                escaped.append(node.value)
        calls_gettext = isinstance(node, nodes.Call) and getattr(node.node, "name", None) in GETTEXT_CALLS
        for child in node.iter_child_nodes():
            walk(child, in_message or calls_gettext)

    walk(tree, False)
    assert not escaped, f"words outside a message in {path.name}: {escaped[:5]}"


def _symbols_only(text: str) -> str:
    return COMMAND.sub("", MARKUP.sub("", text))


# -- every screen, from the samples in tests/unit/screens/ ---------------------------------------------


def _samples() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for info in pkgutil.iter_modules(tests.unit.screens.__path__):
        module = importlib.import_module(f"tests.unit.screens.{info.name}")
        for name, kwargs in module.SAMPLES.items():
            found[f"{info.name}.{name}"] = kwargs
    return found


SAMPLES = _samples()


def test_every_screen_has_a_sample():
    texts = Texts()
    lang = languages.SOURCE.code
    screens = {f"{module}.{name}" for module in texts.modules(lang) for name in texts.macro_names(lang, module)}
    assert not screens - set(SAMPLES), sorted(screens - set(SAMPLES))


def _values(obj: Any, found: set[str], seen: set[int], depth: int = 0) -> set[str]:
    """Every string a screen's arguments hold (fields, properties, items): data, not template words."""
    if isinstance(obj, str):
        found.add(obj)
        return found
    if depth > 6 or id(obj) in seen or obj is None or isinstance(obj, int | float | bool):
        return found
    seen.add(id(obj))
    if isinstance(obj, dict):
        children = [*obj.keys(), *obj.values()]
    elif isinstance(obj, list | tuple | set | frozenset):
        children = list(obj)
    elif dataclasses.is_dataclass(obj) or isinstance(obj, SimpleNamespace) or hasattr(obj, "__dict__"):
        children = list(vars(obj).values()) if hasattr(obj, "__dict__") else []
        if dataclasses.is_dataclass(obj):
            children += [getattr(obj, f.name) for f in dataclasses.fields(obj)]
        for name, attribute in vars(type(obj)).items():
            if isinstance(attribute, property):
                try:
                    children.append(getattr(obj, name))
                except Exception:  # a property that needs more than a sample holds
                    continue
    else:
        children = [str(obj)]
    for child in children:
        _values(child, found, seen, depth + 1)
    return found


def _clause_texts() -> set[str]:
    return {clause.text for rubric in RubricRegistry.load().versions() for clause in rubric.clauses}


def _is_data(run: str, values: set[str]) -> bool:
    return any(run in value for value in values)


def test_english_screens_show_no_chinese_label():
    """Rubric labels, grades and answers are translated in English; only data (names people typed,
    clause wordings) may stay Chinese."""
    texts = Texts()
    chinese_labels = {label for rubric in RubricRegistry.load().versions() for label in labels(rubric)}
    chinese_labels |= {"符合", "基本符合", "不符合", "不适用"}
    clauses = _clause_texts()
    leaks = []
    for key, samples in SAMPLES.items():
        if key.startswith("reports.xlsx_"):  # the export's headers are Chinese and English by design
            continue
        for kwargs in samples:
            shown = html_to_plain(texts.render("en", key, **kwargs))
            for run in CJK_RUN.findall(shown):
                if _is_data(run, clauses):
                    continue
                if any(label in run for label in chinese_labels) and not _is_data(run, _names(kwargs)):
                    leaks.append(f"{key}: {run}")
    assert not leaks, leaks[:10]


def _names(kwargs: dict[str, Any]) -> set[str]:
    """Strings of the sample that are not rubric labels (a site called 阳光花园 is data)."""
    return {value for value in _values(kwargs, set(), set()) if not WORD.fullmatch(value or "x")}


PSEUDO = languages.Language("x-pseudo", "eo", "Pseudo", ("eo",), menu_code="eo")


@pytest.fixture
def pseudo_texts(tmp_path, monkeypatch, extracted) -> Texts:
    """A fourth language: its catalog (every message wrapped in ⟦ ⟧) and one line in the registry."""
    catalog = Catalog(locale=PSEUDO.locale)
    for message in extracted:
        if not message.id:
            continue
        if message.pluralizable:
            wrapped: Any = tuple(f"⟦{message.id[min(i, 1)]}⟧" for i in range(catalog.num_plurals))
        else:
            wrapped = f"⟦{message.id}⟧"
        catalog.add(message.id, wrapped, context=message.context)
    path = tmp_path / PSEUDO.locale / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    catalogs.write(path, catalog)
    monkeypatch.setattr(languages, "REGISTERED", (*languages.REGISTERED, PSEUDO))  # the one line
    monkeypatch.setattr(languages, "BY_CODE", {language.code: language for language in languages.REGISTERED})
    return Texts(locale_dir=tmp_path)


def _calendar_words(locale: str) -> set[str]:
    words: set[str] = set()
    for width in ("abbreviated", "wide", "narrow"):
        words |= set(dates.get_day_names(width, locale=locale).values())
        words |= set(dates.get_month_names(width, locale=locale).values())
    return words


WRAPPED = re.compile(r"⟦[^⟦⟧]*⟧")


def test_a_pseudo_locale_reaches_every_word_of_every_screen(pseudo_texts):
    # Words of the locale's own data (weekday and month names through the date filter) are Babel's.
    clauses = _clause_texts() | _calendar_words(PSEUDO.locale)
    escaped = []
    for key, samples in SAMPLES.items():
        for kwargs in samples:
            shown = html_to_plain(pseudo_texts.render(PSEUDO.code, key, **kwargs))
            values = _values(kwargs, set(), set()) | clauses
            rest = shown
            while WRAPPED.search(rest):  # a message may hold another one's result
                rest = WRAPPED.sub(" ", rest)
            rest = COMMAND.sub(" ", rest)
            words = CJK_RUN.findall(rest) + LATIN_WORD.findall(rest)
            escaped += [f"{key}: {word}" for word in words if not _is_data(word, values)]
    assert not escaped, f"{len(escaped)} word(s) not from the catalog: {escaped[:10]}"


def test_a_plural_is_chosen_by_its_count():
    """Jinja picks a plural by the first value of the trans tag unless {% pluralize name %} says which:
    "整改 #{{ number }} … {{ count }} 项" once chose English "item"/"items" by the action's number."""
    wrong = []
    for path in TEMPLATES_DIR.rglob("*.j2"):
        source = path.read_text(encoding="utf-8")
        for block in re.finditer(r"\{%-? trans ([^%]*?)-?%\}(.*?)\{%-? endtrans", source, flags=re.S):
            plural = re.search(r"\{%-? pluralize(\s+\w+)?\s*-?%\}", block.group(2))
            values = re.sub(r'^"[^"]*"\s*', "", block.group(1).strip())
            names = re.findall(r"(\w+)\s*=", values)
            if plural and not plural.group(1) and len(names) > 1 and names[0] != "count":
                wrong.append(f"{path.name}:{source[: block.start()].count(chr(10)) + 1} {names}")
    assert not wrong, "name the count: {% pluralize count %}\n" + "\n".join(wrong)
