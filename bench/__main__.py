"""``python -m bench [NAME ...]``: run the benchmarks (all when no name is given).

Each benchmark prints a short table with ratios against a baseline measured in the same run.
They talk only to a Bot API stand-in on loopback and write only to temp dirs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> module with a ``main(argv: list[str]) -> int``
BENCHES = {
    "update_cost": "bench.update_cost",
    "crowd": "bench.crowd",
    "summary": "bench.summary_scale",
    "fanout": "bench.fanout",
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", choices=[*BENCHES, []], help="benchmarks to run (default: all)")
    args, rest = parser.parse_known_args(argv)
    status = 0
    for name in args.names or list(BENCHES):
        try:
            module = importlib.import_module(BENCHES[name])
        except ModuleNotFoundError as exc:
            print(f"[{name}] not available: {exc}")
            continue
        print(f"\n=== {name} ===", flush=True)
        status |= module.main(rest)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
