"""Files the tests read from ``../shared``, the folder beside the repository that holds the product
brief (PRODUCT.md) and the seed document the rubric was imported from (seeds/).

A test that needs one fails, saying what is missing and where it was looked for, rather than
skipping: a skipped rubric test looks like a passing suite while the importer goes unchecked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED_DOCUMENT = SHARED / "seeds" / "000_c5da1046a14ee43d.txt"


def seed_document() -> Path:
    """The 评分细则 seed text that ``rubric import`` must turn into the bundled editions."""
    if not SEED_DOCUMENT.is_file():
        pytest.fail(
            f"missing {SEED_DOCUMENT}: the rubric importer's tests read the seed document from ../shared "
            "(the folder beside the repository with PRODUCT.md and seeds/). Put the shared folder there, "
            "or run the tests from a checkout that has it.",
            pytrace=False,
        )
    return SEED_DOCUMENT
