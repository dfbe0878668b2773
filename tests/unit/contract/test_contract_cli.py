"""``liveml contract infer|check`` through the real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveml.contract import Contract
from liveml.data import generate_players
from tests.unit.cli import run_cli as run
from tests.unit.data.test_data_duplicates import insurance_like


def test_infer_writes_a_contract_that_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "players.csv"
    generate_players(400, 1).to_csv(data, index=False)
    out = tmp_path / "contract.yaml"
    assert run(monkeypatch, "contract", "infer", str(data), "--target", "churned", "--out", str(out)) == 0
    contract = Contract.load(out)
    assert contract.name == "players" and contract.target == "churned"
    assert run(monkeypatch, "contract", "check", str(out)) == 0
    assert contract.sha256 in capsys.readouterr().out.replace("\n", "")


def test_infer_to_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "p.csv"
    generate_players(300, 2).to_csv(data, index=False)
    assert run(monkeypatch, "contract", "infer", str(data)) == 0
    assert Contract.from_yaml(capsys.readouterr().out).target == "churned"


def test_check_bad_contract_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntask: binary\ntarget: y\ncolumns:\n  - {name: y, type: integr}\n")
    assert run(monkeypatch, "contract", "check", str(bad)) == 1
    err = capsys.readouterr().err
    assert "columns[0].type" in err and "Traceback" not in err


def test_infer_unreadable_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 4)
    assert run(monkeypatch, "contract", "infer", str(junk)) == 1
    assert "binary content" in capsys.readouterr().err


def test_a_file_with_repeated_rows_passes_its_drafted_gate_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "insurance.csv"
    insurance_like().to_csv(data, index=False)  # no id; 8% of the rows repeat an earlier one
    out = tmp_path / "contract.yaml"
    assert run(monkeypatch, "contract", "infer", str(data), "--target", "claimed", "--out", str(out)) == 0
    assert "duplicates: warn" in out.read_text()
    capsys.readouterr()
    assert run(monkeypatch, "data", "validate", str(data), "--contract", str(out)) == 0
    assert "duplicate_rows" in capsys.readouterr().out


def test_infer_from_a_file_with_no_feature_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "ids.csv"
    data.write_text("player_id,churned\na,0\nb,1\nc,0\n")
    assert run(monkeypatch, "contract", "infer", str(data), "--target", "churned") == 1
    err = capsys.readouterr().err
    assert "no feature columns" in err and "Traceback" not in err
