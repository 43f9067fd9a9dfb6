"""`make fuzz SECONDS=N`: fuzz every reader and command for N seconds in all, then print the run count per
target and command, and the failures grouped by signature (reproducers under .fuzz-failures/)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from engine import TARGETS, fuzz  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="budget for all targets together")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", nargs="*", default=[t.name for t in TARGETS])
    args = parser.parse_args()
    targets = [t for t in TARGETS if t.name in args.targets]
    failed = 0
    for index, target in enumerate(targets):
        result = fuzz(target, args.seconds / len(targets), args.seed + index)
        runs = ", ".join(f"{command} {count}" for command, count in sorted(result.runs.items()))
        bad = sum(result.failures.values())
        failed += bad
        print(f"{target.name:12} {sum(result.runs.values()):6} runs ({runs}); {bad} failed", flush=True)
        for signature, count in result.failures.most_common():
            print(f"    {count:5} x {signature}\n          saved: {result.examples.get(signature, '-')}")
    print("no failure" if not failed else f"{failed} failed runs; reproducers under .fuzz-failures/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
