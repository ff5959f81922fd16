"""Seeding submitted inspections straight into the database, for the managers' view tests.

Scores are computed by the rubric engine exactly as a submit would freeze them, so what the
reports show can be checked against ``score_inspection``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import iso
from rubric.model import Answer, Rubric
from rubric.scoring import clause_score, score_inspection
from storage.db import Database
from storage.files import FileStore


@dataclass
class Seeded:
    inspection_id: int
    site_id: int
    percent: float | None
    grade: str
    earned: float
    possible: float
    answers: dict[str, Answer] = field(default_factory=dict)


def answers_by_pattern(rubric: Rubric, pattern: Sequence[Answer], shift: int = 0) -> dict[str, Answer]:
    """Every clause answered, cycling through ``pattern`` (``shift`` varies sites)."""
    return {clause.id: pattern[(i + shift) % len(pattern)] for i, clause in enumerate(rubric.clauses)}


async def seed_inspection(
    db: Database,
    rubric: Rubric,
    site_id: int,
    inspector_id: int,
    submitted: datetime,
    answers: Mapping[str, Answer],
    *,
    notes: Mapping[str, Sequence[str]] | None = None,
    photos: Mapping[str, Sequence[bytes]] | None = None,
    files: FileStore | None = None,
    status: str = "submitted",
    minutes: int = 40,
    coverage: bool = True,
) -> Seeded:
    """One inspection with its answers, notes and photos (bytes stored in ``files``), in one transaction.

    A submitted one gets its coverage frozen as a submit does (migration 0007): answered, 不适用, clauses
    and incomplete (the rubric's ``min_coverage``); ``coverage=False`` leaves them NULL, like an
    inspection submitted before that migration."""
    notes, photos = notes or {}, photos or {}
    report = score_inspection(rubric, dict(answers), evidence=set(notes) | set(photos))
    grade = report.grade or rubric.scoring.failing_grade
    started = iso(submitted - timedelta(minutes=minutes))
    done = iso(submitted)
    submitted_fields = (
        (done, report.overall.earned, report.overall.possible, report.percent, grade, int(report.veto_triggered))
        if status == "submitted"
        else (None, None, None, None, None, 0)
    )
    frozen = status == "submitted" and coverage
    coverage_fields = (
        (len(answers), len(report.not_applicable), report.clause_count, int(report.incomplete))
        if frozen
        else (None, None, None, 0)
    )

    def work(conn: sqlite3.Connection) -> Seeded:
        conn.execute(
            """INSERT OR IGNORE INTO rubric_versions (content_hash, rubric_id, edition, title, snapshot, first_seen_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (rubric.content_hash, rubric.id, rubric.edition, rubric.title, json.dumps(rubric.to_dict()), started),
        )
        cursor = conn.execute(
            """INSERT INTO inspections (site_id, inspector_id, rubric_hash, edition, status, started_at, updated_at,
                   submitted_at, earned, possible, percent, grade, veto, answered_count, na_count, clause_count,
                   incomplete)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                site_id,
                inspector_id,
                rubric.content_hash,
                rubric.edition,
                status,
                started,
                done,
                *submitted_fields,
                *coverage_fields,
            ),
        )
        inspection_id = cursor.lastrowid
        assert inspection_id is not None
        rows = []
        for clause_id, answer in answers.items():
            clause = rubric.clause(clause_id)
            score = clause_score(rubric.scoring, clause, answer)
            applicable = answer is not Answer.NA
            rows.append(
                (
                    inspection_id,
                    clause_id,
                    clause.category_id,
                    answer.value,
                    score.earned if applicable else None,
                    score.possible if applicable else None,
                    started,
                )
            )
        conn.executemany(
            """INSERT INTO answers (inspection_id, clause_id, category_id, answer, earned, possible, answered_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        for clause_id, texts in notes.items():
            for text in texts:
                conn.execute(
                    "INSERT INTO notes (inspection_id, clause_id, text, created_at) VALUES (?, ?, ?, ?)",
                    (inspection_id, clause_id, text, started),
                )
        for clause_id, pictures in photos.items():
            for index, data in enumerate(pictures):
                digest = files.put(data) if files is not None else None
                conn.execute(
                    """INSERT INTO photos (inspection_id, clause_id, file_id, file_unique_id, sha256, size, mime_type,
                           created_at) VALUES (?, ?, ?, ?, ?, ?, 'image/jpeg', ?)""",
                    (
                        inspection_id,
                        clause_id,
                        f"f{inspection_id}-{clause_id}-{index}",
                        f"u{inspection_id}-{clause_id}-{index}",
                        digest,
                        len(data),
                        started,
                    ),
                )
        return Seeded(
            inspection_id,
            site_id,
            report.percent,
            grade,
            report.overall.earned,
            report.overall.possible,
            dict(answers),
        )

    return await db.transaction(work)


async def add_site(db: Database, name: str, region: str | None, now: str) -> int:
    return await db.execute("INSERT INTO sites (name, region, created_at) VALUES (?, ?, ?)", (name, region, now))


async def add_person(
    db: Database, user_id: int, name: str, role: str, now: str, site_id: int | None = None, region: str | None = None
) -> None:
    def work(conn: sqlite3.Connection) -> None:
        conn.execute(
            """INSERT OR IGNORE INTO users (id, first_name, created_at, updated_at) VALUES (?, ?, ?, ?)""",
            (user_id, name, now, now),
        )
        conn.execute(
            "INSERT INTO user_roles (user_id, role, site_id, region, granted_at) VALUES (?, ?, ?, ?, ?)",
            (user_id, role, site_id, region, now),
        )

    await db.transaction(work)
