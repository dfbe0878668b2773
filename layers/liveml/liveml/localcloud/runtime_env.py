"""LocalStack's own virtual environment (``<state>/venv``), created once by ``up``.

Why not the project venv: ``localstack-core[runtime]`` depends on ``moto-ext`` (LocalStack's fork,
installed as the ``moto`` package) while the project's tests use upstream ``moto``; in one venv the
last install wins and LocalStack's services fail ("cannot import name 'RESTError' from
'moto.core.exceptions'"). Its pins (``cryptography<47``, ``pyopenssl<26``) would also hold the
project back. The venv gets the ``local`` extra of ``pyproject.toml`` (one source of truth) and
the ``liveml`` package itself without dependencies, for the executor's plux entry point.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

from liveml.localcloud.config import LOCALSTACK_REQUIREMENTS, LocalCloudConfig, project_root
from liveml.localcloud.errors import LocalCloudError

MARKER = ".liveml-runtime"


def requirements(root: Path | None = None) -> list[str]:
    """The ``local`` extra of the project's ``pyproject.toml``, else the built-in list."""
    try:
        data = tomllib.loads(((root or project_root()) / "pyproject.toml").read_text())
        extra = data["project"]["optional-dependencies"]["local"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return list(LOCALSTACK_REQUIREMENTS)
    return [str(item) for item in extra] if extra else list(LOCALSTACK_REQUIREMENTS)


def base_python() -> str:
    """The Python 3.12+ to build the venv from: the one running us, outside any venv."""
    # (The package requires 3.12, so the version was checked when it was installed.)
    return str(getattr(sys, "_base_executable", sys.executable))


def _entry_points(root: Path) -> str:
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    return repr(sorted(data.get("project", {}).get("entry-points", {}).items()))


def _fingerprint(reqs: list[str], root: Path) -> str:
    # Entry points count too: an editable install records them at install time, and LocalStack finds
    # the executor only through them.
    return hashlib.sha256("\n".join([*reqs, str(root), _entry_points(root)]).encode()).hexdigest()


def is_ready(cfg: LocalCloudConfig) -> bool:
    root = project_root()
    marker = cfg.venv_dir / MARKER
    return marker.exists() and marker.read_text().strip() == _fingerprint(requirements(root), root)


def _pip(python: Path, args: list[str], what: str) -> None:
    argv = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LocalCloudError(f"{what} failed: {exc}") from None
    if done.returncode != 0:
        errors = [
            line for line in done.stderr.splitlines() if line.startswith("ERROR")
        ] or done.stderr.splitlines()
        raise LocalCloudError(f"{what} failed: {(errors or ['no output'])[-1].strip()[:300]}")


def ensure_runtime(cfg: LocalCloudConfig) -> Path:
    """Create or update ``<state>/venv`` when missing or when the ``local`` extra changed."""
    python = cfg.venv_dir / "bin" / "python"
    if is_ready(cfg):
        return python
    root = project_root()
    reqs = requirements(root)
    if not python.exists():
        try:
            subprocess.run(
                [base_python(), "-m", "venv", str(cfg.venv_dir)], check=True, capture_output=True, timeout=300
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise LocalCloudError(
                f"could not create LocalStack's venv at {cfg.venv_dir} ({exc}): "
                "on Debian install python3-venv, or set LIVEML_LOCALSTACK_PYTHON"
            ) from None
    _pip(python, reqs, f"installing LocalStack into {cfg.venv_dir}")
    # The executor's entry point; --no-deps keeps the project's libraries out of LocalStack.
    _pip(python, ["--no-deps", "-e", str(root)], "registering the liveml executor in LocalStack's venv")
    (cfg.venv_dir / MARKER).write_text(_fingerprint(reqs, root))
    return python
