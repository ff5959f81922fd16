"""Text clean-up for imported rubric documents: pinyin noise, widths, spaces, punctuation.

Conventions of the output (the bundled editions follow them):

- Parentheses are ASCII ``()``, as in the company's document and in clause codes (``二(三)4``).
- Sentence punctuation is full-width: ``，；：！？`` (ASCII ``,`` and ``:`` stay between digits).
- No spaces around Chinese text (``2025 年 2 月底`` -> ``2025年2月底``, ``项目 (部门)`` ->
  ``项目(部门)``); a space survives only between two ASCII letters/digits (``ISO 9001``).
- Straight double quotes become “…”; with script conversion, corner quotes 「」『』 become “”‘’.
- Clause texts and titles carry no closing punctuation (the trailing ``;``/``；``/``。`` goes).
"""

from __future__ import annotations

import re

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TONE_MARKED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
PINYIN_LETTERS = "a-zü" + TONE_MARKED

# `業(yè)`: a parenthesised lowercase syllable with at least one tone mark, glued to a Han
# character. Requiring the tone mark keeps real Latin text such as `(app)`; Chinese inside
# parentheses, as in `項目(部門)`, never matches.
PINYIN_ANNOTATION = re.compile(rf"(?<=[{HAN}])[(（][{PINYIN_LETTERS}]*[{TONE_MARKED}][{PINYIN_LETTERS}]*[)）]")

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
_CLOSING = re.compile(r"[\s;；,，。.、]+$")
_CJK_CONTEXT = re.compile(rf"[{HAN}]")
_CORNER_QUOTES = str.maketrans({"「": "“", "」": "”", "『": "‘", "』": "’"})


def strip_pinyin(text: str) -> tuple[str, int]:
    """The text without pinyin annotations, and how many were removed."""
    return PINYIN_ANNOTATION.subn("", text)


def fold_width(text: str) -> str:
    """Full-width ASCII forms (ＡＢＣ１２３（），；：) to ASCII; later steps re-widen punctuation."""
    return "".join(chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch for ch in text)


def tidy(text: str, *, corner_quotes: bool = True) -> str:
    """Apply the conventions above to one line (closing punctuation is kept: see strip_closing)."""
    text = fold_width(text)
    if corner_quotes:
        text = text.translate(_CORNER_QUOTES)
    text = _SPACES.sub(" ", text).strip()
    text = _drop_spaces(text)
    if _CJK_CONTEXT.search(text):
        text = _widen_punctuation(text)
        text = _curl_quotes(text)
    return text


def strip_closing(text: str) -> str:
    """Remove clause-end punctuation: ``……查阅 ;`` -> ``……查阅``."""
    return _CLOSING.sub("", text)


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _drop_spaces(text: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == " " and not (_is_ascii_alnum(text[i - 1]) and _is_ascii_alnum(text[i + 1])):
            continue
        out.append(ch)
    return "".join(out)


def _widen_punctuation(text: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(text):
        before = text[i - 1] if i > 0 else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        between_digits = before.isdigit() and after.isdigit()
        if ch == "," and not between_digits:
            ch = "，"
        elif ch == ":" and not between_digits:
            ch = "："
        elif ch == ";":
            ch = "；"
        elif ch in "!?" and before and not before.isascii():
            ch = "！" if ch == "!" else "？"
        out.append(ch)
    return "".join(out)


def _curl_quotes(text: str) -> str:
    if text.count('"') % 2:  # unbalanced: leave alone rather than guess
        return text
    parts = text.split('"')
    return "".join(part + ("“" if i % 2 == 0 else "”") for i, part in enumerate(parts[:-1])) + parts[-1]
