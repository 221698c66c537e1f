#!/usr/bin/env python3
"""Start-up of the ``fedledger`` command line; prints ONE JSON line.

Each case is a fresh ``python -c`` process (the cost a user pays on every command),
timed ``--repeats`` times; the median is reported next to a bare ``python -c pass`` in
the same run (``ratio_to_python``) and, with ``--baseline DIR`` (a checkout of an earlier
commit, e.g. ``git worktree add /tmp/before <rev>``), the same cases run from that tree
(``ratio_to_baseline``). ``torch`` says whether the command imported torch.

Usage: python scripts/bench_cli.py [--repeats 7] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = {
    "help": ["--help"],
    "store_help": ["store", "--help"],
    "audit_help": ["audit", "--help"],
    "simulate_help": ["simulate", "--help"],
}
SCRIPT = """import sys
from node.cli{module} import main
try:
    main({argv!r})
except SystemExit:
    pass
print('torch' in sys.modules, file=sys.stderr)
"""


def _run(code: str, tree: Path | None) -> tuple[float, str]:
    env = {**os.environ}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=tree or REPO, timeout=120, check=True)
    return time.perf_counter() - started, done.stderr.strip().splitlines()[-1:]


def _median(code: str, tree: Path | None, repeats: int) -> tuple[float, bool]:
    times, torch = [], False
    for _ in range(repeats):
        seconds, tail = _run(code, tree)
        times.append(seconds)
        torch = tail == ["True"]
    return round(statistics.median(times), 3), torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="an earlier checkout to time the same commands from")
    args = parser.parse_args()
    python_s, _ = _median("pass", None, args.repeats)
    result: dict = {"bench": "cli", "repeats": args.repeats, "python_s": python_s, "cases": {}}
    for name, argv in CASES.items():
        seconds, torch = _median(SCRIPT.format(module=".app", argv=argv), REPO, args.repeats)
        row = {"seconds": seconds, "torch": torch,
               "ratio_to_python": round(seconds / python_s, 2)}
        if args.baseline is not None:
            # Before the CLI package the entry point was node.cli (a module) -> main.
            module = ".app" if (args.baseline / "node" / "cli" / "app.py").exists() else ""
            base, base_torch = _median(SCRIPT.format(module=module, argv=argv), args.baseline,
                                       args.repeats)
            row |= {"baseline_seconds": base, "baseline_torch": base_torch,
                    "ratio_to_baseline": round(seconds / base, 3)}
        result["cases"][name] = row
    print(json.dumps(result))


if __name__ == "__main__":
    main()
