"""A site's score over recent quarters as a PNG (matplotlib, object API: safe in worker threads).

Chinese labels need a CJK font: Debian's ``fonts-noto-cjk`` (installed by ``.ci/run``) or any of
the families below. Without one, matplotlib would draw empty boxes, so we log it once.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from functools import cache

log = logging.getLogger(__name__)

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)


@cache
def cjk_font() -> str | None:
    """The first installed CJK family, or None."""
    from matplotlib import font_manager

    for attempt in range(2):
        installed = {font.name for font in font_manager.fontManager.ttflist}
        for family in CJK_FAMILIES:
            if family in installed:
                return family
        for name in installed:
            if "CJK" in name or "WenQuanYi" in name:
                return name
        if attempt == 0:
            # Fonts installed after matplotlib cached its font list are not in it: add them now.
            for path in font_manager.findSystemFonts():
                if any(mark in path.lower() for mark in ("cjk", "wqy", "droidsansfallback")):
                    try:
                        font_manager.fontManager.addfont(path)
                    except (OSError, RuntimeError, ValueError):
                        continue
    log.warning("no CJK font found (install fonts-noto-cjk): chart labels in Chinese will not render")
    return None


def trend_chart(
    points: Sequence[tuple[str, float | None]],
    title: str,
    bands: Sequence[tuple[str, float]] = (),
    no_data: str = "",
) -> bytes:
    """A line of percentages per quarter label (gaps where a quarter has no score), with grade lines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = cjk_font()
    fonts = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    figure = Figure(figsize=(6.4, 3.6), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [label for label, _ in points]
    xs = list(range(len(points)))
    ys = [value if value is not None else float("nan") for _, value in points]
    for label, minimum in bands:
        axes.axhline(minimum, color="#bbbbbb", linewidth=0.8, linestyle="--", zorder=1)
        axes.text(len(points) - 0.55, minimum + 0.8, label, fontsize=8, color="#888888", ha="right", family=fonts)
    axes.plot(xs, ys, marker="o", color="#1f6feb", linewidth=2, zorder=3)
    for x, value in zip(xs, ys, strict=True):
        if value == value:  # not NaN
            axes.annotate(
                f"{value:.1f}", (x, value), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=9
            )
    if all(value != value for value in ys) and no_data:
        axes.text(0.5, 0.5, no_data, transform=axes.transAxes, ha="center", va="center", family=fonts, fontsize=12)
    axes.set_xticks(xs, labels)
    axes.set_ylim(0, 105)
    axes.set_xlim(-0.5, max(len(points) - 0.5, 0.5))
    axes.set_ylabel("%")
    axes.set_title(title, family=fonts, fontsize=12)
    axes.grid(axis="y", alpha=0.25)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
