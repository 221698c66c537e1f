"""Derived seeds: one task seed fans out into independent, reproducible streams.

A participant's training in round r must draw the same random numbers in the one-process
simulator and in its own node process, whatever else those processes did before. So no
code relies on global RNG state: every random draw uses a generator seeded by
``derive_seed(task_seed, *labels)``, a sha256 of the labels, independent of call order.
"""

from __future__ import annotations

import hashlib
import json

__all__ = ["derive_seed"]


def derive_seed(task_seed: int, *labels: int | str) -> int:
    """Returns a 63-bit seed for the stream named by ``labels`` under ``task_seed``.

    Example: ``derive_seed(seed, "train", round_index, client_id)``.

    Raises:
        TypeError: a label that is neither ``int`` nor ``str`` (``bool`` included), so
            that ``1`` and ``"1"`` or ``True`` cannot silently name the same stream.
    """
    for label in (task_seed, *labels):
        if isinstance(label, bool) or not isinstance(label, (int, str)):
            raise TypeError(f"seed label must be int or str, got {type(label).__name__}")
    # JSON keeps 1 and "1" apart and needs no separator that a label could contain.
    text = json.dumps([task_seed, *labels], ensure_ascii=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") >> 1
