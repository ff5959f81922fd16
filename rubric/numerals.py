"""Chinese numerals as used in outline labels (一、 … 十二、, (一) … (十二)), 1 to 99."""

from __future__ import annotations

DIGITS = "零一二三四五六七八九"
# Characters an outline label may be written with; 〇 and 两 appear in hand-typed documents.
NUMERAL_CHARS = DIGITS + "十〇两"


def to_chinese(number: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 35 -> 三十五."""
    if not 1 <= number <= 99:
        raise ValueError(f"outline numbers run from 1 to 99, got {number}")
    tens, units = divmod(number, 10)
    if tens == 0:
        return DIGITS[units]
    head = "" if tens == 1 else DIGITS[tens]
    return head + "十" + (DIGITS[units] if units else "")


def from_chinese(text: str) -> int:
    """Inverse of :func:`to_chinese`; raises ValueError for anything else."""
    cleaned = text.replace("〇", "零").replace("两", "二")
    if not cleaned or any(ch not in DIGITS + "十" for ch in cleaned):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    if "十" not in cleaned:
        if len(cleaned) != 1 or cleaned == "零":
            raise ValueError(f"not a Chinese numeral: {text!r}")
        return DIGITS.index(cleaned)
    head, _, tail = cleaned.partition("十")
    if len(head) > 1 or len(tail) > 1 or head == "零" or tail == "零":
        raise ValueError(f"not a Chinese numeral: {text!r}")
    tens = DIGITS.index(head) if head else 1
    return tens * 10 + (DIGITS.index(tail) if tail else 0)
