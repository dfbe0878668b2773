"""The Unity core's figures under Mono: ``track_event_us``, ``compact_predict_us`` (100-tree model, one row),
``queue_flush_500_ms``, allocations per tracked event, beside a naive baseline (one string rewritten per
event). Builds the package and writes its fixtures first (``tests/unity/run.py bench``); needs Mono
(``make mono``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    bench = subprocess.run([sys.executable, str(ROOT / "tests/unity/run.py"), "bench"], check=False)
    raise SystemExit(bench.returncode)
