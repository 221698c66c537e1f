#!/usr/bin/env python3
"""Slither on ``contracts/``: fails on any High or Medium finding not explained here.

Runs the Slither of ``--slither`` (its own virtualenv: slither-analyzer 0.11.6 needs
web3 < 8, the project pins web3 8.0.0) through ``scripts/solc_shim.js`` and reads its JSON.
A finding passes only if it is explained below, one reason per finding (or, for the
strict-equality detector, by a rule that still catches the dangerous case). Anything
else, including a new finding of an excluded kind elsewhere, fails ``make test``.

Usage: python scripts/slither_gate.py --slither .venv-slither/bin/slither
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# (detector, Contract.function, what it points at) -> why it is not a bug.
EXPLAINED: dict[tuple[str, str, str], str] = {
    ("divide-before-multiply", "MarketBase._phaseAt",
     "attempt = (t - c.roundStart) / len | start = c.roundStart + attempt * len"):
        "the floor is the point: the start of the current attempt's window",
    ("divide-before-multiply", "MarketBase._phaseAt",
     "attempt = (t - c.roundStart) / len | (Phase.Closed,attempt,c.roundStart + attempt * len)"):
        "same floor, for the closed task's last attempt start",
    ("divide-before-multiply", "MarketBase._share",
     "share = cfg.bounty / cfg.rounds | share = cfg.bounty - share * (cfg.rounds - 1)"):
        "the last round takes the remainder, so the shares sum to the bounty exactly",
    ("uninitialized-local", "Membership._storePubkey", "body"):
        "assigned on every branch that does not revert",
}
# incorrect-equality warns of == on values others can move: an ether/token balance (forced
# sends) or a timestamp. Ids, enums, counters and bitmap bits cannot be moved that way.
_MOVABLE = re.compile(r"balance|timestamp\s*[=!]=|[=!]=\s*block\.timestamp")


def _key(result: dict) -> tuple[str, str, str]:
    first = result["elements"][0]
    parent = first.get("type_specific_fields", {}).get("parent", {})
    if first["type"] == "variable":
        contract = parent.get("type_specific_fields", {}).get("parent", {}).get("name", "")
        return result["check"], f"{contract}.{parent.get('name', '')}", first["name"]
    what = " | ".join(e["name"] for e in result["elements"][1:])
    return result["check"], f"{parent.get('name', '')}.{first['name']}", what


def _explained(key: tuple[str, str, str]) -> str | None:
    if key[0] == "incorrect-equality" and not _MOVABLE.search(key[2]):
        return "strict equality on an id, enum, counter or bitmap bit"
    if key[0] == "uninitialized-state" and key[1] == ".MarketBase":
        # FedMarket and its modules run on one storage (delegatecall): a variable the core
        # only reads is written by a module (e.g. _config by FedMarketLifecycle.createTask).
        # tests/contracts/test_market_layout.py holds every module to the same layout.
        return "written by another module of the same storage"
    return EXPLAINED.get(key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slither", default=str(REPO / ".venv-slither" / "bin" / "slither"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "slither.json"
        command = [args.slither, "contracts", "--solc", "scripts/solc_shim.js",
                   "--solc-standard-json", "--solc-remaps",
                   "@openzeppelin/=node_modules/@openzeppelin/",
                   "--solc-args", "--optimize --optimize-runs 200",
                   "--filter-paths", "node_modules", "--exclude-informational", "--exclude-low",
                   "--json", str(out)]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600,
                              check=False)
        if not out.exists():
            print(done.stdout + done.stderr, file=sys.stderr)
            print("slither_gate: Slither produced no report", file=sys.stderr)
            return 2
        report = json.loads(out.read_text())
    if not report.get("success", False):
        print(f"slither_gate: Slither failed: {report.get('error')}", file=sys.stderr)
        return 2
    findings = report.get("results", {}).get("detectors", [])
    unexplained = []
    for result in findings:
        key = _key(result)
        if result["impact"] in ("High", "Medium") and _explained(key) is None:
            unexplained.append((result["impact"], key, result["description"].strip()))
    seen = {_key(r) for r in findings}
    for stale in sorted(set(EXPLAINED) - seen):
        print(f"slither_gate: note: explained finding no longer reported: {stale}")
    print(f"slither_gate: {len(findings)} Medium/High finding(s), {len(unexplained)} unexplained")
    for impact, key, description in unexplained:
        print(f"  {impact} {key[0]} in {key[1]}: {description}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
