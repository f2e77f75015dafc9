"""What the server process does at start-up, before its first request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPORT = """
import gc
import papercrane.asgi
print(gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_start_up_objects_are_kept_out_of_the_collectors_way(tmp_path: Path) -> None:
    env = {**os.environ, "PAPERCRANE_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    output = subprocess.run(
        [sys.executable, "-c", REPORT], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    frozen, tracked = int(output[-2]), int(output[-1])
    # The dictionary and the rest of start-up (hundreds of thousands of objects) are frozen,
    # so a full collection walks only what requests made since.
    assert frozen > 100_000
    assert tracked < frozen / 10
