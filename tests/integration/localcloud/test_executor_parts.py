"""The Lambda executor's pure parts, tested where LocalStack is installed: under LocalStack's own
interpreter (the dev venv cannot import the executor, whose base classes are LocalStack's)."""

from __future__ import annotations

import importlib
import os
import subprocess
from pathlib import Path

from liveml.localcloud import Status
from liveml.localcloud.config import LocalCloudConfig

_ROOT = Path(__file__).resolve().parents[3]
_CHECKS = _ROOT / "tests" / "localstack_venv" / "check_executor_parts.py"
#: pytest and what it imports: pure Python, lent to LocalStack's interpreter through PYTHONPATH
_PYTEST = ("pytest", "_pytest", "pluggy", "iniconfig", "py")


def test_executor_parts_pass_under_localstacks_interpreter(localstack: Status, tmp_path: Path) -> None:
    # ``localstack``: its interpreter exists once LocalStack has been brought up (``liveml local up``).
    lent = tmp_path / "pytest-only"
    lent.mkdir()
    for name in _PYTEST:
        module = importlib.import_module(name)
        source = Path(module.__file__ or "")
        target = source.parent if source.name == "__init__.py" else source
        (lent / target.name).symlink_to(target)
    env = {
        **os.environ,
        # This work tree's liveml first, then only pytest: nothing else of the dev venv.
        "PYTHONPATH": os.pathsep.join([str(_ROOT / "layers" / "liveml"), str(lent)]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [
            LocalCloudConfig().python,
            "-m",
            "pytest",
            str(_CHECKS),
            "-q",
            "-rs",
            "--noconftest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-o",
            "addopts=",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert " passed" in out and "skipped" not in out and "error" not in out.lower(), out
