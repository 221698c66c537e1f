"""``fedledger node run`` with a stopwatch on each kind of work (for ``bench_round.py``).

Usage: ``FEDLEDGER_TIMINGS=DIR python scripts/timed_node.py node run ...`` (the same
arguments as ``fedledger``). Nothing in the node changes: this wrapper only replaces a
few functions by timed versions of themselves before handing over to ``node.cli.app.main``,
then writes the seconds spent in each category to ``DIR/<client-id>.json`` after every
action (a node killed mid-run still leaves its last totals).

Categories (seconds of wall time inside this process):

* ``startup``: interpreter start to the first poll of the chain (imports, key, data);
* ``train``: ``client_update_bytes`` less the serialization inside it;
* ``serialize``: safetensors encode/decode (``node.codec.safetensors``) wherever it is called;
* ``store``: content store ``put``/``get``;
* ``chain_tx``: sending a transaction and waiting for its receipt (``Contract.transact``);
* ``chain_read``: view calls and event queries (``Contract.call``, ``Contract.events``: every
  read of every contract, whichever helper makes it);
* ``committee``: ``compute_round`` (aggregation, scores, Merkle tree) less store and
  serialization inside it;
* ``poll_sleep``: sleeping between polls, or waiting for the next block (``--wake blocks``):
  the node has nothing to do.

Beside the wall-time categories (``seconds``), ``cpu_seconds`` holds the main thread's CPU
time in each, and ``cpu_after_startup_s`` the CPU time (user + system, all threads) the
process used after start-up: on a machine with fewer cores than processes, CPU, not wall
time, is what one node takes from the others.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

_STARTED = time.perf_counter()  # before the node's heavy imports (torch, web3)

TOTALS: dict[str, float] = defaultdict(float)
CPU: dict[str, float] = defaultdict(float)  # main-thread CPU seconds per category
COUNTS: dict[str, int] = defaultdict(int)
_stack: list[str] = []  # categories currently timing: nested time goes to the innermost
_CPU_AT_FIRST_STEP: list[float] = []  # process CPU seconds when start-up ended


def _timed(category: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, start_cpu = time.perf_counter(), time.thread_time()
        _stack.append(category)
        try:
            return fn(*args, **kwargs)
        finally:
            _stack.pop()
            elapsed = time.perf_counter() - start
            elapsed_cpu = time.thread_time() - start_cpu
            TOTALS[category] += elapsed
            CPU[category] += elapsed_cpu
            COUNTS[category] += 1
            if _stack:  # the enclosing category did not spend this time itself
                TOTALS[_stack[-1]] -= elapsed
                CPU[_stack[-1]] -= elapsed_cpu
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


class _TimeProxy:
    """The ``time`` module with a timed ``sleep`` (given to the participant module only)."""

    sleep = staticmethod(_timed("poll_sleep", time.sleep))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def _output_path() -> str | None:
    directory = os.environ.get("FEDLEDGER_TIMINGS")
    if not directory or "--client-id" not in sys.argv:
        return None
    client_id = sys.argv[sys.argv.index("--client-id") + 1]
    return os.path.join(directory, f"{client_id}.json")


def _dump() -> None:
    path = _output_path()
    if path is None:
        return
    try:
        with open(f"{path}.tmp", "w") as out:
            cpu = time.process_time() - _CPU_AT_FIRST_STEP[0] if _CPU_AT_FIRST_STEP else 0.0
            json.dump({"seconds": {k: round(v, 4) for k, v in TOTALS.items()},
                       "cpu_seconds": {k: round(v, 4) for k, v in CPU.items()},
                       "calls": dict(COUNTS), "cpu_after_startup_s": round(cpu, 4)}, out)
        os.replace(f"{path}.tmp", path)
    except OSError as err:  # a stopwatch must never stop the node
        print(f"timed_node: cannot write {path}: {err}", file=sys.stderr)


def _start_profile() -> None:
    """With ``FEDLEDGER_PROFILE=DIR``: cProfile the main thread's CPU from the first step on, and
    write ``DIR/<client-id>.prof`` at exit (``python -m pstats`` reads it)."""
    directory, path = os.environ.get("FEDLEDGER_PROFILE"), _output_path()
    if not directory or path is None:
        return
    import cProfile

    profile = cProfile.Profile(time.thread_time)  # CPU of the main thread, not waiting
    target = os.path.join(directory, os.path.basename(path).replace(".json", ".prof"))
    atexit.register(lambda: (profile.disable(), profile.dump_stats(target)))
    profile.enable()


def install() -> None:
    """Wrap the node's work functions (module attributes, looked up at call time)."""
    import node.codec.safetensors
    import node.learning.task
    import node.runtime.participant
    import node.runtime.private_update
    import node.runtime.train_ahead
    from ledger.chain.contract import Contract
    from ledger.local_store import LocalStore

    participant = node.runtime.participant
    for trains in (node.runtime.train_ahead, node.runtime.private_update):
        trains.client_update_bytes = _timed("train", trains.client_update_bytes)
    participant.compute_round = _timed("committee", participant.compute_round)
    for module in (node.codec.safetensors, node.learning.task):
        for name in ("encode_tensors", "decode_tensors"):
            if hasattr(module, name):
                setattr(module, name, _timed("serialize", getattr(module, name)))
    import node.aggregation.round

    for name in ("encode_tensors", "decode_tensors"):
        if hasattr(node.aggregation.round, name):
            setattr(node.aggregation.round, name,
                    _timed("serialize", getattr(node.aggregation.round, name)))
    for name in ("put", "get"):
        setattr(LocalStore, name, _timed("store", getattr(LocalStore, name)))
    Contract.transact = _timed("chain_tx", Contract.transact)
    for name in ("call", "events"):
        setattr(Contract, name, _timed("chain_read", getattr(Contract, name)))

    node.runtime.participant.time = _TimeProxy()  # the participant's own `time` only
    from ledger.chain.new_heads import NewHeads

    NewHeads.wait = _timed("poll_sleep", NewHeads.wait)  # waiting for the next block

    original_step = node.runtime.participant.Participant.step

    def step(self: Any) -> Any:
        if "startup" not in TOTALS:
            TOTALS["startup"] = time.perf_counter() - _STARTED
            _CPU_AT_FIRST_STEP.append(time.process_time())
            _start_profile()
        action = original_step(self)
        if action:
            _dump()
        return action

    node.runtime.participant.Participant.step = step
    atexit.register(_dump)


def main() -> int:
    install()
    from node.cli.app import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
