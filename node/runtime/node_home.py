"""A node's own directory (``--home``): files only this node writes, never uploaded.

``HOME/task-<id>/`` holds the task's personal model (``node.runtime.personal_model``) and
``checked-round``: the last finalized round this node recomputed and found right (or saw
challenged). ``node status`` can show it, and the demo's dev-chain time keeper ends a
challenge window as soon as every running node has checked the round, instead of holding it
open for a fixed wall time (``node.demo.timekeeper``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CHECKED_FILE", "read_checked", "record_checked", "task_home"]

CHECKED_FILE = "checked-round"


def task_home(home: str | Path, task: int) -> Path:
    """Where a node keeps its own files of ``task``."""
    return Path(home) / f"task-{task}"


def record_checked(home: str | Path, task: int, round_: int) -> None:
    """Record that round ``round_`` of ``task`` was checked (atomic: a reader never sees half)."""
    directory = task_home(home, task)
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{CHECKED_FILE}.{os.getpid()}"
    partial.write_text(f"{round_}\n")
    partial.replace(directory / CHECKED_FILE)


def read_checked(home: str | Path, task: int) -> int:
    """The last round recorded as checked (0: none, or no readable record)."""
    try:
        return int((task_home(home, task) / CHECKED_FILE).read_text())
    except (OSError, ValueError):
        return 0
