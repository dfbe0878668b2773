"""``liveml data synth|validate`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liveml.contract import Contract
from liveml.data import read_dataset
from tests.unit.cli import run_cli as run

CORPUS = Path(__file__).resolve().parents[2] / "data" / "bad"


@pytest.mark.parametrize(
    ("out", "task"),
    [("players.csv", "binary"), ("seg.csv.gz", "multiclass"), ("p.parquet", "binary"), ("p.jsonl", "binary")],
)
def test_synth_then_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str, task: str) -> None:
    data = tmp_path / out
    assert (
        run(monkeypatch, "data", "synth", "--rows", "300", "--seed", "3", "--out", str(data), "--task", task)
        == 0
    )
    contract_path = tmp_path / (out.split(".")[0] + ".contract.yaml")
    contract = Contract.load(contract_path)
    assert len(read_dataset(data)) == 300
    report_path = tmp_path / "report.json"
    assert (
        run(
            monkeypatch,
            "data",
            "validate",
            str(data),
            "--contract",
            str(contract_path),
            "--json",
            str(report_path),
        )
        == 0
    )
    report = json.loads(report_path.read_text())
    assert report["passed"] is True and report["contract_sha256"] == contract.sha256


def test_validate_bad_file_exits_1_with_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = tmp_path / "r.json"
    code = run(
        monkeypatch,
        "data",
        "validate",
        str(CORPUS / "fake_gzip.csv.gz"),
        "--contract",
        str(CORPUS / "contract.yaml"),
        "--json",
        str(report_path),
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "unreadable" in out and "FAILED" in out and "Traceback" not in out
    assert json.loads(report_path.read_text())["issues"][0]["code"] == "unreadable"


def test_validate_with_a_broken_contract_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("name: x\n")
    assert run(monkeypatch, "data", "validate", str(CORPUS / "good.csv"), "--contract", str(bad)) == 1
    err = capsys.readouterr().err
    assert "task: Field required" in err and "Traceback" not in err


def test_synth_rejects_unknown_extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(monkeypatch, "data", "synth", "--rows", "10", "--out", str(tmp_path / "p.xlsx")) == 1
