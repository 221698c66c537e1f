"""Node start-up on an idle machine: process launch to the node's first action; ONE JSON line.

A three-shop demo is set up without launching its nodes (anvil, the market, the task, the shops'
CSV and keystore), then ``fedledger node run`` is launched alone, ``--repeat`` times, each on a
fresh deployment, under ``scripts/timed_node.py``. Measured per launch:

* ``first_action_s``: launch to the block holding the node's ``join`` (its first action: the
  task is in its join window), read from the chain (block timestamps are not used: wall time
  of the receipt as polled every 20 ms);
* ``first_read_s``: launch to the node's first chain read (``timed_node``'s ``startup``):
  interpreter, imports, key, CSV, task manifest;

and two baselines in the same run, so the numbers survive a noisy machine: ``python -c pass``
(the interpreter alone) and ``python -c "import torch"``. Reported: medians, and the ratio of
the first action to the torch import.

Usage: ``.venv/bin/python scripts/bench_startup.py [--repeat 3] [--out FILE]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from node.demo.run import DEMO_PASSWORD, DemoConfig, DemoRun
from node.runtime.keystore import PASSWORD_ENV

SCRIPTS = Path(__file__).resolve().parent


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def _one_launch(workdir: Path) -> dict[str, float]:
    run = DemoRun.start(DemoConfig(workdir=workdir, participants=3, rounds=1), launch=False)
    timings = workdir / "timings"
    timings.mkdir()
    try:
        node = run.nodes[0]
        command = run.node_command(node)
        command = [command[0], str(SCRIPTS / "timed_node.py"), *command[3:]]
        env = {**os.environ, PASSWORD_ENV: DEMO_PASSWORD, "FEDLEDGER_TIMINGS": str(timings)}
        launched = time.perf_counter()
        with open(node.log, "ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            joined = None
            deadline = launched + 120
            while joined is None and time.perf_counter() < deadline:
                if run.market.member(run.posted.task, node.account.address).is_member:
                    joined = time.perf_counter() - launched
                else:
                    time.sleep(0.02)
            if joined is None:
                raise RuntimeError(f"the node did not join within 120 s; see {node.log}")
            first_read = None
            while first_read is None and time.perf_counter() < deadline:
                record = timings / f"{node.client_id}.json"
                if record.exists():
                    first_read = json.loads(record.read_text())["seconds"].get("startup")
                if first_read is None:
                    time.sleep(0.05)
        finally:
            process.kill()
            process.wait()
        return {"first_action_s": joined, "first_read_s": first_read or float("nan")}
    finally:
        run.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON line here")
    args = parser.parse_args(argv)
    python = sys.executable
    launches = []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        for i in range(args.repeat):
            launches.append(_one_launch(Path(tmp) / f"run-{i}"))
            print(f"bench_startup: {launches[-1]}", file=sys.stderr, flush=True)
    interpreter = statistics.median(_seconds([python, "-c", "pass"]) for _ in range(3))
    torch_import = statistics.median(_seconds([python, "-c", "import torch"]) for _ in range(3))
    first_action = statistics.median(x["first_action_s"] for x in launches)
    report = {
        "bench": "startup", "repeat": args.repeat, "cpus": os.cpu_count(),
        "first_action_s": round(first_action, 3),
        "first_read_s": round(statistics.median(x["first_read_s"] for x in launches), 3),
        "launches": [{k: round(v, 3) for k, v in x.items()} for x in launches],
        "baseline_interpreter_s": round(interpreter, 3),
        "baseline_import_torch_s": round(torch_import, 3),
        "first_action_over_torch_import": round(first_action / torch_import, 2),
        "goal_first_action_within_3s": first_action <= 3.0,
    }
    line = json.dumps(report)
    print(line)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
