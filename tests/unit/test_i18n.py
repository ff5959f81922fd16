import pytest

from bot.flows.commands import COMMANDS
from bot.i18n import Texts, language_from_telegram
from config.settings import LANGUAGES


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts()


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
