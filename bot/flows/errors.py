"""Refusals: an action that does nothing, for a reason the person is told in their language."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """Each value has a text: macro ``<value>`` in ``bot/templates/<lang>/refusals.j2``."""

    NOT_FOUND = "not_found"
    NOT_YOURS = "not_yours"
    SUBMITTED = "submitted"
    NOT_SUBMITTED = "not_submitted"
    DRAFT_EXISTS = "draft_exists"
    SITE_NOT_ALLOWED = "site_not_allowed"
    UNANSWERED = "unanswered"
    NO_CLAUSE = "no_clause"
    NO_EDITION = "no_edition"
    EDITION_FIXED = "edition_fixed"
    TOO_BIG = "too_big"
    NOT_AN_IMAGE = "not_an_image"
    TOO_LONG = "too_long"
    ON_THE_SPOT_OFF = "on_the_spot_off"  # 当场整改 is turned off ([actions] on_the_spot = false)
    NOT_A_FINDING = "not_a_finding"  # 当场整改 on a clause no longer below 符合
    NO_REASON = "no_reason"  # 当场整改 needs a reason in words


class RefusedError(Exception):
    def __init__(self, reason: Refusal, **details: object) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.details = details

    @property
    def text_key(self) -> str:
        return f"refusals.{self.reason.value}"


def bounded_text(text: str, limit: int) -> str:
    """Free text as stored (trimmed), refused when longer than ``limit``: a note or a reason is shown
    again later inside other messages (cards, reviews, the audit log), which must stay under 4096."""
    text = text.strip()
    if len(text) > limit:
        raise RefusedError(Refusal.TOO_LONG, length=len(text), limit=limit)
    return text
