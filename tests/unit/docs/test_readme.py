"""The README says only what runs: its offline shell examples are run here, and its table of
``LIVEML_*`` variables is the one ``liveml.config`` prints."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from liveml import config
from liveml.data import generate_players
from liveml.inference import load_model_dir
from tests.unit.cli import run_cli

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: the commands a reader can run without LocalStack or AWS (the rest need a deployed stack)
OFFLINE = ("liveml contract infer", "liveml data validate", "liveml train")
#: a short search budget for ``liveml train``, so the example runs in seconds here
SHORT_BUDGET = ["--trials", "2", "--time-budget", "30"]
#: a whole variable name (``LIVEML_ROLLOUT_*`` in prose names a family, not a variable)
NAME = re.compile(r"\bLIVEML_([A-Z0-9]+(?:_[A-Z0-9]+)*)\b")


def shell_examples() -> list[list[str]]:
    """Every offline ``liveml`` command in the README's bash blocks, as arguments (comments dropped)."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        for line in block.splitlines():
            if line.startswith(OFFLINE):
                commands.append(shlex.split(line, comments=True)[1:])
    return commands


def test_the_offline_examples_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = shell_examples()
    found = [next(p for p in OFFLINE if shlex.join(["liveml", *c]).startswith(p)) for c in commands]
    assert found == list(OFFLINE), "the README's training walk-through changed: update this test with it"
    monkeypatch.chdir(tmp_path)
    generate_players(600, 3).to_csv("players.csv", index=False)
    for args in commands:
        if args[0] == "train":
            args = [*args, *SHORT_BUDGET]
        assert run_cli(monkeypatch, *args) == 0, f"liveml {' '.join(args)}"
    bundle = load_model_dir(tmp_path / "model")  # what the last example wrote, every sha256 checked
    assert bundle.manifest["target"] == "churned"


def _readme_table() -> str:
    start, end = "<!-- liveml.config: start -->\n", "\n<!-- liveml.config: end -->"
    assert start in README and end in README, "the README lost its table of LIVEML_* variables"
    return README[README.index(start) + len(start) : README.index(end)]


def test_the_readme_lists_every_variable_as_liveml_config_does() -> None:
    assert _readme_table() == config.markdown_table(), "run `python -m liveml.config` and paste its table"


def test_every_variable_the_code_names_is_listed() -> None:
    named: set[str] = set()
    for folder in ("layers/liveml/liveml", "functions"):
        for path in (ROOT / folder).rglob("*.py"):
            named |= set(
                re.findall(r"\bLIVEML_([A-Z0-9]+(?:_[A-Z0-9]+)*)\b", path.read_text(encoding="utf-8"))
            )
    named |= set(re.findall(r"\bLIVEML_([A-Z0-9_]*[A-Z0-9])\b", (ROOT / "template.yaml").read_text()))
    assert named - set(config.BY_NAME) == set()


def test_env_refuses_an_unlisted_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEML_NOT_A_SETTING", "x")
    with pytest.raises(KeyError, match="LIVEML_NOT_A_SETTING"):
        config.env("NOT_A_SETTING")
    monkeypatch.setenv("LIVEML_DATA_BUCKET", "b")
    assert config.env("DATA_BUCKET") == "b" and os.environ["LIVEML_DATA_BUCKET"] == "b"
