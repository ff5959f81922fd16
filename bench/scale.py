"""What the scale benchmarks (``summary``, ``actions``) share: their options and a median timer."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence


def scale_options(prog: str, description: str, sizes: Sequence[int], runs: int, argv: Sequence[str] | None):
    """``--sizes`` (comma-separated, ``1e5`` allowed) and ``--runs``; options meant for other
    benchmarks are ignored (``python -m bench`` passes every benchmark the same ones)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--sizes", type=lambda text: [int(float(x)) for x in text.split(",")], default=sizes)
    parser.add_argument("--runs", type=int, default=runs)
    return parser.parse_known_args(argv)[0]


async def median_ms(call: Callable[[], Awaitable[object]], runs: int) -> float:
    """The median of ``runs`` timed calls after one untimed warm-up (page and statement caches)."""
    await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)
