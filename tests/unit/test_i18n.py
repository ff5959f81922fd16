import pytest

from bot.flows.commands import COMMANDS
from bot.i18n import TEMPLATES_DIR, Texts, language_from_telegram
from config.settings import LANGUAGES


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts()


def test_every_language_has_the_same_texts(texts):
    reference = {module: texts.macro_names("zh-hans", module) for module in texts.modules("zh-hans")}
    for lang in LANGUAGES:
        assert texts.modules(lang) == sorted(reference)
        for module, names in reference.items():
            assert texts.macro_names(lang, module) == names, (lang, module)


def test_every_command_has_a_description(texts):
    for lang in LANGUAGES:
        for command in COMMANDS:
            description = texts.render(lang, f"commands.{command.name}")
            assert 0 < len(description) <= 256


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (None, "zh-hans"),
        ("zh", "zh-hans"),
        ("zh-hans", "zh-hans"),
        ("zh-CN", "zh-hans"),
        ("zh-TW", "zh-hant"),
        ("zh-hk", "zh-hant"),
        ("zh-Hant", "zh-hant"),
        ("en", "en"),
        ("en-GB", "en"),
        ("de", "zh-hans"),
    ],
)
def test_language_from_telegram(code, expected):
    assert language_from_telegram(code) == expected


def test_values_are_escaped(texts):
    text = texts.render("en", "common.welcome", name="<script>", roles=["staff"])
    assert "&lt;script&gt;" in text and "<script>" not in text


def test_traditional_texts_have_no_simplified_leftovers():
    import opencc

    to_traditional = opencc.OpenCC("s2t")
    for path in (TEMPLATES_DIR / "zh-hant").glob("*.j2"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("{#"):
                assert to_traditional.convert(line) == line, f"{path.name}: {line}"
