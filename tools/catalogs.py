"""Keep the gettext catalogs in step with the templates: ``make catalogs`` runs this.

    python tools/catalogs.py update   extract the templates' words to bot/locale/messages.pot, merge
                                      them into every language's messages.po, and pre-fill Traditional
                                      Chinese with OpenCC (Simplified -> Traditional) where it is empty
    python tools/catalogs.py check    list entries that are missing, fuzzy or lose a placeholder

Catalogs are compiled in memory when the bot starts (bot/i18n.py), so there is no compile step.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import languages  # noqa: E402  (after the path is set, when run as a script)

LOCALE_DIR = ROOT / "bot" / "locale"
TEMPLATE = LOCALE_DIR / "messages.pot"
DOMAIN = "messages"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def translated_languages() -> list[languages.Language]:
    return [language for language in languages.REGISTERED if language is not languages.SOURCE]


def pybabel(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", *args], check=True, cwd=ROOT)


def extract(target: Path = TEMPLATE) -> Catalog:
    """Every message of the templates and the rubric's labels, as ``pybabel extract`` finds them."""
    pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-o",
        str(target),
        "--add-location=file",
        "--add-comments=Translators:",
        "--sort-by-file",
        "--project=dudao-bot",
        "--msgid-bugs-address=-",
        "--copyright-holder=-",
        ".",
    )
    return read(target)


def update() -> None:
    extract()
    for language in translated_languages():
        template = read(TEMPLATE)  # update() adopts the template's new messages: one copy per language
        path = po_path(language.locale)
        if path.exists():
            catalog = read(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language.locale, project="dudao-bot", msgid_bugs_address="-")
        traditional = language.locale.startswith("zh_Hant")
        # New messages in (English guessed from a similar one and marked fuzzy for a translator;
        # Traditional converted by OpenCC instead), gone ones dropped.
        catalog.update(template, no_fuzzy_matching=traditional)
        if traditional:
            fill_traditional(catalog)
        write(path, catalog)


def fill_traditional(catalog: Catalog) -> None:
    """Empty Traditional entries get OpenCC's conversion of the Simplified source, not marked fuzzy:
    the conversion is reliable for this vocabulary, and a reviewer edits the few it gets wrong."""
    from rubric.script import to_traditional

    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            sources = message.id
            if not any(message.string):
                message.string = tuple(to_traditional(sources[0]) for _ in range(catalog.num_plurals))
        elif not message.string:
            message.string = to_traditional(message.id)


def problems(catalog: Catalog) -> list[str]:
    """What a reader would see in the source language, or broken: untranslated, fuzzy, placeholders."""
    found = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if message.pluralizable else (message.id,)
        strings = message.string if message.pluralizable else (message.string,)
        label = ids[0][:40]
        if "fuzzy" in message.flags:
            found.append(f"fuzzy: {label}")
        if not all(strings):
            found.append(f"untranslated: {label}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[0])) | offered_placeholders(message)
        for string in strings:
            if set(PLACEHOLDER.findall(string)) - wanted:
                found.append(f"unknown placeholder: {label} -> {string[:40]}")
    return found


def offered_placeholders(message: Message) -> set[str]:
    """Values a template binds beyond those its source text shows, named in a translator comment
    (``{# Translators: placeholders: more ... #}``): English may say "and 2 more" where Chinese
    counts all."""
    offered = " ".join(message.auto_comments)
    return set(re.findall(r"\w+", offered)) if "placeholders:" in offered else set()


def read(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as target:
        write_po(target, catalog, width=100, sort_by_file=True, ignore_obsolete=True)


def check() -> int:
    failed = 0
    for language in translated_languages():
        for problem in problems(read(po_path(language.locale))):
            print(f"{language.locale}: {problem}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "update":
        update()
    elif command == "check":
        sys.exit(check())
    else:
        sys.exit(__doc__)
