"""Simplified <-> Traditional Chinese, for people who read the other script.

The rubric data is Simplified; the bot converts at display time for users who chose Traditional.
OpenCC converters are costly to build, so each is built once and shared.
"""

from __future__ import annotations

from functools import cache

import opencc


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text) if text else text


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text) if text else text
