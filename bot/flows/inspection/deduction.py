"""The repeat-finding deduction (重复问题扣分, issue #15 §8), as plain arithmetic.

A repeat finding is one that was below 符合 at the site's previous submitted inspection too. With
``[actions] repeat_deduction`` points (0 = off) each takes that many points off the earned score,
capped so the net never goes below 0. The net is what is stored (earned, percent, grade), so every
figure built on stored scores uses it; the deduction is always shown as its own line beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rubric.model import Rubric
from rubric.scoring import Score, ScoreReport, grade_for


@dataclass(frozen=True)
class Deduction:
    count: int  # repeat findings
    points: float  # per repeat, as configured at submit
    amount: float  # taken off: count × points, capped at the earned points
    gross: Score  # the rubric's score, before the deduction
    net: Score


def deduct(report: ScoreReport, rubric: Rubric, amount: float, count: int, points: float) -> ScoreReport:
    """``report`` with ``amount`` points taken off its overall score and its grade from the net (a
    veto still forces the failing grade); sections and categories keep the rubric's scores."""
    net = Score(max(report.overall.earned - amount, 0.0), report.overall.possible)
    if report.veto_triggered:
        grade = rubric.scoring.failing_grade
    else:
        grade = grade_for(net.percent, rubric.scoring.grades)
    return replace(report, overall=net, grade=grade)


def repeat_deduction(
    report: ScoreReport, rubric: Rubric, repeats: int, points: float
) -> tuple[ScoreReport, Deduction | None]:
    """(the net report, the deduction) for ``repeats`` repeat findings at ``points`` each; the report
    unchanged and None when the deduction is off or there is no repeat."""
    if points <= 0 or repeats <= 0:
        return report, None
    amount = min(repeats * points, max(report.overall.earned, 0.0))
    return stored_deduction(report, rubric, amount, repeats, points)


def stored_deduction(
    report: ScoreReport, rubric: Rubric, amount: float, count: int, points: float
) -> tuple[ScoreReport, Deduction | None]:
    """The same from what was frozen at submit (a report recomputed from the answers)."""
    if count <= 0:
        return report, None
    net = deduct(report, rubric, amount, count, points)
    return net, Deduction(count, points, amount, report.overall, net.overall)
