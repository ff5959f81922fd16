"""Samples of every refusal (bot/templates/refusals.j2) for tests/unit/test_catalogs.py."""

SAMPLES: dict[str, list[dict]] = {
    "not_found": [{}],
    "not_yours": [{}],
    "submitted": [{"site": "阳光花园"}],
    "site_not_allowed": [{}],
    "unanswered": [{"count": 1}, {"count": 3}],
    "no_clause": [{}],
    "no_edition": [{}],
    "edition_fixed": [{}],
    "too_big": [{"limit_mb": 20}],
    "not_an_image": [{}],
    "not_submitted": [{}],
    "draft_exists": [{"site": "阳光花园"}],
    "too_long": [{"length": 1500, "limit": 1024}],
    "on_the_spot_off": [{}],
    "not_a_finding": [{}],
    "no_reason": [{}],
}
