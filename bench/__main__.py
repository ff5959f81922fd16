"""``python -m bench [NAME ...] [options]``: run benchmarks by name, all of them when none is named.

Options after the names go to every benchmark run (each takes the ones it knows), e.g.
``python -m bench crowd --inspectors 50`` or ``python -m bench summary --sizes 250000,500000``.
"""

from __future__ import annotations

import sys
from importlib import import_module

# name -> module with a main(argv) function (returning an exit status, or None for success)
BENCHMARKS: dict[str, str] = {
    "update_cost": "bench.update_cost",
    "crowd": "bench.crowd",
    "summary": "bench.summary_scale",
    "actions": "bench.actions_scale",
    "fanout": "bench.fanout",
    "mixed": "bench.mixed",
}


def main(argv: list[str]) -> int:
    names: list[str] = []
    while argv and not argv[0].startswith("-"):
        names.append(argv.pop(0))
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    status = 0
    for name in names or list(BENCHMARKS):
        status = max(status, import_module(BENCHMARKS[name]).main(list(argv)) or 0)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
