"""schemathesis against the OpenAPI document of the app served by the container's start command.

Positive and negative cases (``--mode all``) for every operation, all checks: no 5xx, no response
that violates the documented schema, no undocumented status, invalid data always rejected with a 4xx.
Bounded in time: a fixed number of examples per operation (schemathesis's --max-time would instead
keep fuzzing until the time is up) and a subprocess timeout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

MIN_REQUESTS = 1000


@pytest.mark.slow
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_fuzzing_the_openapi_finds_nothing(model_dir: Path, tmp_path: Path, local_server: Any) -> None:
    report = tmp_path / "schemathesis.json"
    st = Path(sys.executable).parent / "schemathesis"
    with local_server(model_dir) as url:
        done = subprocess.run(
            [
                str(st),
                "run",
                f"{url}/openapi.json",
                "--checks",
                "all",
                "--mode",
                "all",
                "--max-examples",
                "400",
                "--seed",
                "20260101",
                "--generation-database",
                "none",
                "--no-color",
                "--report",
                "json",
                "--report-json-path",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=330,
            cwd=tmp_path,
            check=False,
        )
    summary = json.loads(report.read_text())
    assert summary["failures"] == [] and summary["errors"] == [], done.stdout[-6000:]
    assert summary["test_cases"]["generated"] >= MIN_REQUESTS, summary["test_cases"]
    assert done.returncode == 0, done.stdout[-3000:]
