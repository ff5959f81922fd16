"""Plain-text renderings of rubrics, scores and edition differences (Simplified Chinese data).

For a Traditional-Chinese reader, pass the finished text through :func:`rubric.script.to_traditional`.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from rubric.model import Answer, Clause, Rubric, ScoringMode, ScoringSettings
from rubric.scoring import Score, ScoreReport

DELETED = ("[-", "-]")
INSERTED = ("{+", "+}")
# A run of this many equal characters or fewer between two changes is shown as part of the
# change: character diffs of reworded Chinese otherwise shatter into one-character islands.
SHORT_EQUAL_RUN = 2


def format_number(value: float) -> str:
    """1.0 -> "1", 0.5 -> "0.5", 2.345 -> "2.35"."""
    return f"{round(value, 2):g}"


def format_percent(percent: float | None) -> str:
    if percent is None:
        return "—"
    text = f"{percent:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def format_score(score: Score) -> str:
    """``"12.5/15 (83.3%)"``; ``"—"`` when nothing applicable was answered."""
    if not score.applicable:
        return "—"
    return f"{format_number(score.earned)}/{format_number(score.possible)} ({format_percent(score.percent)})"


def edition_label(rubric: Rubric) -> str:
    return f"第{rubric.edition}版"


def clause_heading(rubric: Rubric, clause_id: str) -> str:
    """``"二(三)4 钥匙管理 4/4"``: where a clause sits, for the top of a question."""
    clause = rubric.clause(clause_id)
    position, size = rubric.position_in_category(clause_id)
    return f"{clause.code} {rubric.category_of(clause_id).title} {position}/{size}"


def clause_flags(rubric: Rubric, clause: Clause) -> str:
    """Non-default settings of a clause, e.g. ``"[2分 否决]"``; empty when there are none."""
    flags = []
    if clause.points != 1:
        flags.append(f"{format_number(clause.points)}分")
    if clause.veto:
        flags.append("否决")
    if clause.evidence_required is not None and clause.evidence_required != rubric.scoring.evidence_required:
        flags.append("需证据" if clause.evidence_required else "免证据")
    return f"[{' '.join(flags)}]" if flags else ""


def scoring_text(settings: ScoringSettings) -> str:
    mode = "扣分制" if settings.mode is ScoringMode.DEDUCTION else "百分制"
    fractions = "，".join(
        f"{answer.label} {format_number(f)}" if (f := settings.fraction(answer)) is not None else f"{answer.label} 不计"
        for answer in Answer
    )
    grades = " ".join(
        f"{band.label}≥{format_number(band.min_percent)}" if band.min_percent else band.label
        for band in settings.grades
    )
    evidence = "基本符合/不符合需备注或照片" if settings.evidence_required else "不强制证据"
    lines = [f"计分：{mode}；{fractions}", f"等级：{grades}；{evidence}"]
    if settings.mode is ScoringMode.DEDUCTION:
        budget = settings.category_budget
        lines.append(f"每类基准分：{format_number(budget) if budget is not None else '该类条款分值之和'}")
    return "\n".join(lines)


def outline_text(rubric: Rubric, *, clauses: bool = True) -> str:
    """The rubric's outline with counts and points; ``clauses=False`` stops at categories."""
    lines = [
        f"{rubric.title} {edition_label(rubric)}（{rubric.id}，{len(rubric.clauses)}条，"
        f"{format_number(rubric.total_points)}分，hash {rubric.content_hash}）",
        scoring_text(rubric.scoring),
    ]
    for section in rubric.sections:
        if not section.categories:
            lines.append(f"{section.label}（暂无条款）")
            continue
        lines.append(
            f"{section.label}（{len(section.categories)}类，{len(section.clauses)}条，"
            f"{format_number(section.points)}分）"
        )
        for category in section.categories:
            budget = f"，基准{format_number(category.budget)}分" if category.budget is not None else ""
            lines.append(f"  {category.label}（{len(category.clauses)}条，{format_number(category.points)}分{budget}）")
            if clauses:
                for clause in category.clauses:
                    flags = clause_flags(rubric, clause)
                    lines.append(f"    {clause.number}. {clause.text}" + (f" {flags}" if flags else ""))
    return "\n".join(lines)


def report_text(rubric: Rubric, report: ScoreReport) -> str:
    """A score report: overall, grade, sections and categories, then the findings."""
    grade = report.grade or "—"
    lines = [f"总分：{format_score(report.overall)}  等级：{grade}"]
    if report.veto_triggered:
        codes = "、".join(rubric.clause(c).code for c in report.veto_clauses)
        lines.append(f"否决项不符合：{codes}")
    for section_score in report.sections:
        section = rubric.section(section_score.section_id)
        lines.append(f"{section.label}：{format_score(section_score.score)}")
        for category_score in section_score.categories:
            category = rubric.category(category_score.category_id)
            lines.append(f"  {category.label}：{format_score(category_score.score)}")
    if report.findings:
        lines.append(f"问题项（{len(report.findings)}）：")
        for finding in report.findings:
            clause = rubric.clause(finding.clause_id)
            lines.append(f"  {clause.code} {finding.answer.label}：{clause.text}")
    if report.unanswered:
        lines.append(f"未作答：{len(report.unanswered)}条")
    return "\n".join(lines)


# -- differences between editions ---------------------------------------------------------------


def mark_changes(old: str, new: str) -> tuple[str, str]:
    """Both texts with their differing parts marked: deletions ``[-…-]`` in the old one,
    insertions ``{+…+}`` in the new one (a replaced part is marked in both)."""
    segments = _coalesced_opcodes(old, new)
    old_out: list[str] = []
    new_out: list[str] = []
    for changed, i1, i2, j1, j2 in segments:
        if not changed:
            old_out.append(old[i1:i2])
            new_out.append(new[j1:j2])
            continue
        if i2 > i1:
            old_out.append(f"{DELETED[0]}{old[i1:i2]}{DELETED[1]}")
        if j2 > j1:
            new_out.append(f"{INSERTED[0]}{new[j1:j2]}{INSERTED[1]}")
    return "".join(old_out), "".join(new_out)


def _coalesced_opcodes(old: str, new: str) -> list[tuple[bool, int, int, int, int]]:
    """difflib opcodes as (changed, i1, i2, j1, j2), short equal runs between changes absorbed."""
    opcodes = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    segments: list[tuple[bool, int, int, int, int]] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        inner = 0 < index < len(opcodes) - 1
        changed = tag != "equal" or (inner and i2 - i1 <= SHORT_EQUAL_RUN)
        if segments and changed and segments[-1][0]:
            _, a1, _, b1, _ = segments[-1]
            segments[-1] = (True, a1, i2, b1, j2)
        else:
            segments.append((changed, i1, i2, j1, j2))
    return segments


def diff_text(old: Rubric, new: Rubric) -> str:
    """Clause-by-clause differences, grouped under their section and category.

    Clauses are matched by id (same numbers = same place in the outline). Reworded clauses show
    both texts with the changes marked; identical ones are only counted and listed by code.
    """
    old_label, new_label = edition_label(old), edition_label(new)
    if old_label == new_label:
        old_label, new_label = f"{old_label}({old.content_hash[:8]})", f"{new_label}({new.content_hash[:8]})"
    width = max(len(old_label), len(new_label))
    lines = [f"{old.title} {old_label} → {new.title} {new_label}"]
    if old.title != new.title:
        lines.append(f"标题：{old.title} → {new.title}")
    if old.scoring != new.scoring:
        lines.append(f"计分设置：\n  {old_label}：" + scoring_text(old.scoring).replace("\n", "；"))
        lines.append(f"  {new_label}：" + scoring_text(new.scoring).replace("\n", "；"))

    ids = sorted({c.id for c in old.clauses} | {c.id for c in new.clauses}, key=_id_key)
    identical: list[str] = []
    counts = {"changed": 0, "added": 0, "removed": 0}
    shown_headings: set[str] = set()
    for clause_id in ids:
        before = old.clause(clause_id) if old.has_clause(clause_id) else None
        after = new.clause(clause_id) if new.has_clause(clause_id) else None
        body: list[str] = []
        if before is None and after is not None:
            counts["added"] += 1
            body.append(f"  {new_label:<{width}}：{{+{after.text}+}}（新增）")
        elif after is None and before is not None:
            counts["removed"] += 1
            body.append(f"  {old_label:<{width}}：[-{before.text}-]（删除）")
        elif before is not None and after is not None:
            if before.text != after.text:
                marked_old, marked_new = mark_changes(before.text, after.text)
                body.append(f"  {old_label:<{width}}：{marked_old}")
                body.append(f"  {new_label:<{width}}：{marked_new}")
            flags_before, flags_after = clause_flags(old, before), clause_flags(new, after)
            if flags_before != flags_after:
                body.append(f"  设置：{flags_before or '[默认]'} → {flags_after or '[默认]'}")
            if body:
                counts["changed"] += 1
            else:
                identical.append(before.code)
        if body:
            clause = after or before
            assert clause is not None
            lines.extend(_headings(old, new, clause, shown_headings))
            lines.append(f"    {clause.code}")
            lines.extend(f"    {line}" for line in body)

    lines.insert(
        1,
        f"共{len(ids)}条：改动{counts['changed']}条，相同{len(identical)}条，"
        f"新增{counts['added']}条，删除{counts['removed']}条",
    )
    lines.extend(_retitled(old, new, shown_headings))
    if identical:
        lines.append(f"相同（{len(identical)}条）：{'、'.join(identical)}")
    return "\n".join(lines)


def _retitled(old: Rubric, new: Rubric, shown: set[str]) -> list[str]:
    """Renamed sections and categories whose clauses did not change (others show it in a heading)."""
    out = []
    pairs = [(s.id, s.label, new.section(s.id).label) for s in old.sections if _has_part(new, s.id)]
    pairs += [(c.id, c.label, new.category(c.id).label) for c in old.categories if _has_part(new, c.id)]
    for key, before, after in pairs:
        if before != after and key not in shown:
            out.append(f"标题：{before} → {after}")
    return out


def _headings(old: Rubric, new: Rubric, clause: Clause, shown: set[str]) -> list[str]:
    """Section and category headings the first time a change falls under them."""
    out = []
    for key, label_of in (
        (clause.section_id, lambda r: r.section(clause.section_id).label),
        (clause.category_id, lambda r: r.category(clause.category_id).label),
    ):
        if key in shown:
            continue
        shown.add(key)
        labels = [label_of(r) for r in (old, new) if _has_part(r, key)]
        heading = labels[0] if len(set(labels)) == 1 else " → ".join(labels)
        out.append(heading if "." not in key else f"  {heading}")
    return out


def _has_part(rubric: Rubric, key: str) -> bool:
    try:
        rubric.category(key) if "." in key else rubric.section(key)
    except KeyError:
        return False
    return True


def _id_key(clause_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in clause_id.split("."))
