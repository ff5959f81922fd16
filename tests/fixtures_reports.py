"""A small company for the managers' view tests: two regions, six sites, three quarters, both editions.

The clock stands at NOW (Wednesday 18 November 2026, Q4). Q4 and Q3 inspections use edition 2,
Q2 ones edition 1. 未来城 is never inspected; 滨江壹号 has only a draft in Q4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import ManualClock, iso
from bot.flows.access import Caller, Role
from bot.flows.reports.views import ReportFlow
from config.settings import Settings
from rubric.model import Answer
from rubric.registry import RubricRegistry
from storage.db import Database
from storage.files import FileStore
from storage.reports import ReportRepository
from storage.sites import SiteRepository
from tests.harness.media import make_png
from tests.seeding import Seeded, add_person, add_site, answers_by_pattern, seed_inspection

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
OK, PARTIAL, FAIL, NA = Answer.OK, Answer.PARTIAL, Answer.FAIL, Answer.NA

INSPECTOR = 7001
EAST_MANAGER = 7101  # region 华东
SOUTH_MANAGER = 7102  # region 华南
CHIEF = 7103  # manager of every site
HAIJING_MANAGER = 7104  # manager of one site, 海景湾
STAFF = 7201

SITES = (
    ("阳光花园", "华东"),
    ("翠湖天地", "华东"),
    ("滨江壹号", "华东"),
    ("未来城", "华东"),
    ("南山公馆", "华南"),
    ("海景湾", "华南"),
)

# (quarter's date, site, edition, pattern)
PLAN = (
    (datetime(2026, 5, 12, 3, tzinfo=UTC), "阳光花园", 1, (OK, FAIL)),
    (datetime(2026, 5, 14, 3, tzinfo=UTC), "翠湖天地", 1, (OK, OK, PARTIAL)),
    (datetime(2026, 8, 4, 3, tzinfo=UTC), "阳光花园", 2, (OK, OK, OK, PARTIAL)),
    (datetime(2026, 8, 5, 3, tzinfo=UTC), "翠湖天地", 2, (OK, FAIL)),
    (datetime(2026, 8, 6, 3, tzinfo=UTC), "滨江壹号", 2, (OK, OK, PARTIAL)),
    (datetime(2026, 8, 7, 3, tzinfo=UTC), "南山公馆", 2, (OK,)),
    (datetime(2026, 10, 20, 3, tzinfo=UTC), "阳光花园", 2, (OK, OK, OK, OK, OK, OK, OK, OK, OK, PARTIAL)),
    (datetime(2026, 11, 2, 3, tzinfo=UTC), "南山公馆", 2, (OK, PARTIAL)),
    (datetime(2026, 11, 3, 3, tzinfo=UTC), "海景湾", 2, (OK, OK, OK, FAIL, NA)),
    (datetime(2026, 11, 10, 3, tzinfo=UTC), "翠湖天地", 2, (OK, OK, PARTIAL, FAIL)),
)


@dataclass
class Company:
    sites: dict[str, int]
    inspections: list[Seeded] = field(default_factory=list)

    def latest(self, site: str) -> Seeded:
        return [s for s in self.inspections if s.site_id == self.sites[site]][-1]

    def in_quarter(self, start: datetime, end: datetime) -> list[Seeded]:
        return [s for s, (when, *_) in zip(self.inspections, PLAN, strict=True) if start <= when < end]


async def build_company(db: Database, files: FileStore, rubrics: RubricRegistry | None = None) -> Company:
    rubrics = rubrics or RubricRegistry.load()
    now = iso(NOW)
    sites = {name: await add_site(db, name, region, now) for name, region in SITES}
    await add_person(db, INSPECTOR, "王督导", "inspector", now)
    await add_person(db, EAST_MANAGER, "东区经理", "manager", now, region="华东")
    await add_person(db, SOUTH_MANAGER, "南区经理", "manager", now, region="华南")
    await add_person(db, CHIEF, "品质总监", "manager", now)
    await add_person(db, HAIJING_MANAGER, "海景湾经理", "manager", now, site_id=sites["海景湾"])
    await add_person(db, STAFF, "客服小李", "staff", now, site_id=sites["阳光花园"])
    company = Company(sites)
    for index, (when, site, edition, pattern) in enumerate(PLAN):
        rubric = rubrics.get(edition)
        answers = answers_by_pattern(rubric, pattern, shift=index)
        findings = [clause for clause, answer in answers.items() if answer.is_finding]
        notes = {clause: [f"{site}：第 {n + 1} 处问题，现场已拍照"] for n, clause in enumerate(findings)}
        photos = {}
        if site == "翠湖天地" and when.month == 11:
            # The latest 翠湖天地 inspection carries real pictures, for the HTML report.
            photos = {clause: [make_png(160, 120, seed=n)] for n, clause in enumerate(findings[:3])}
        seeded = await seed_inspection(
            db, rubric, sites[site], INSPECTOR, when, answers, notes=notes, photos=photos, files=files
        )
        company.inspections.append(seeded)
    # 滨江壹号 is being inspected right now: a draft, not counted anywhere but "in progress".
    rubric = rubrics.get(2)
    await seed_inspection(db, rubric, sites["滨江壹号"], INSPECTOR, NOW, {rubric.clauses[0].id: OK}, status="draft")
    return company


ADMIN = Caller(9001, "管理员", "zh-hans", frozenset({Role.ADMIN}))


@dataclass
class ReportWorld:
    """The company in a fresh SQLite file, with the managers' view flow over it (clock at NOW)."""

    db: Database
    files: FileStore
    company: Company
    settings: Settings
    clock: ManualClock
    repo: ReportRepository
    flow: ReportFlow


async def open_report_world(tmp_path: Path) -> ReportWorld:
    db = await Database.open(tmp_path / "bot.sqlite3")
    files = FileStore(tmp_path / "files")
    rubrics = RubricRegistry.load()
    company = await build_company(db, files, rubrics)
    settings, clock, repo = Settings(data_dir=tmp_path), ManualClock(NOW), ReportRepository(db)
    flow = ReportFlow(repo, SiteRepository(db), rubrics, files, clock, settings)
    return ReportWorld(db, files, company, settings, clock, repo, flow)
