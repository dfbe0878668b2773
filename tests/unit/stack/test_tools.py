"""Finding the project and the SAM CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveml.stack import StackError
from liveml.stack.tools import project_root, sam_executable


def test_project_root_is_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert project_root(nested) == tmp_path


def test_no_template_says_where_to_run(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="run this from the LiveML project folder"):
        project_root(tmp_path)


def test_missing_sam_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("LIVEML_SAM_BIN", raising=False)
    with pytest.raises(StackError, match="make tools"):
        sam_executable("sam", tmp_path)


def test_sam_from_the_project_venv_wins_over_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sam = tmp_path / ".venv-sam" / "bin" / "sam"
    sam.parent.mkdir(parents=True)
    sam.write_text("#!/bin/sh\n")
    sam.chmod(0o755)
    monkeypatch.delenv("LIVEML_SAM_BIN", raising=False)
    assert sam_executable("sam", tmp_path) == str(sam)
