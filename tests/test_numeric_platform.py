"""The numeric-platform fingerprint that per-platform pins are keyed by."""

from __future__ import annotations

import subprocess
import sys

from tests import numeric_platform as platform
from tests.numeric_platform import REFERENCE, numeric_platform, pinned


def test_the_fingerprint_is_the_same_in_a_fresh_process_with_other_threads() -> None:
    script = ("import torch; torch.set_num_threads(2)\n"
              "from tests.numeric_platform import numeric_platform; print(numeric_platform())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == numeric_platform()
    assert len(numeric_platform()) == 16 and int(numeric_platform(), 16) >= 0


def test_pinned_takes_this_platforms_value_else_the_reference() -> None:
    assert pinned({REFERENCE: "first", numeric_platform(): "here"}) == "here"
    assert pinned({REFERENCE: "first"}) == "first"


def test_the_known_platforms_are_fingerprints() -> None:
    assert len(platform.AVX512_AMX) == 16 and platform.AVX512_AMX != REFERENCE
