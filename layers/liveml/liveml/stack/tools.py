"""Finding the project and the SAM CLI, which lives in its own virtual environment.

The SAM CLI pins versions that clash with LocalStack's, so `make` installs it into `.venv-sam`
beside the project's `.venv`; a `sam` on the PATH works too.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from liveml.config import env
from liveml.stack.errors import StackError


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` that holds ``template.yaml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file():
            return folder
    raise StackError(f"no template.yaml at or above {here}: run this from the LiveML project folder")


def sam_executable(name: str, root: Path) -> str:
    """Where ``sam`` or ``samlocal`` is: ``LIVEML_SAM_BIN``, then `.venv-sam/bin`, then the PATH."""
    folders = [env("SAM_BIN") or "", str(root / ".venv-sam" / "bin")]
    for folder in filter(None, folders):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise StackError(f"`{name}` was not found: run `make tools` to install the SAM CLI into .venv-sam")


def build_environment() -> dict[str, str]:
    """The environment for `sam build`: a `python3.12` must be on the PATH for the python3.12 runtime."""
    environment = dict(os.environ)
    if sys.version_info[:2] == (3, 12):
        environment["PATH"] = str(Path(sys.executable).parent) + os.pathsep + environment.get("PATH", "")
    if not shutil.which("python3.12", path=environment["PATH"]):
        raise StackError("`sam build` needs python3.12 on the PATH: run it through `make` or from the .venv")
    return environment
