"""Code run in a fresh interpreter, for tests of what a module imports: the test process has long
since imported everything, so only a new one shows what a Lambda's cold start would load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code: str, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a new interpreter at the repository's root; its last line of output. A failure
    fails the test with the child's traceback."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1", **(env or {})},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def loaded_after(code: str, packages: Iterable[str], env: dict[str, str] | None = None) -> list[str]:
    """Which of ``packages`` (top-level names) a fresh interpreter has loaded after running ``code``."""
    top = "{m.split('.')[0] for m in sys.modules}"
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({top} & {set(packages)!r})))"
    result: list[str] = json.loads(run_fresh(probe, env))
    return result


def unimportable(*packages: str) -> str:
    """Lines that make ``packages`` fail to import, as they do in a function whose package lacks them."""
    return "".join(f"import sys; sys.modules[{name!r}] = None\n" for name in packages)
