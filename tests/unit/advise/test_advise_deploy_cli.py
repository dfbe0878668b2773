"""``liveml advise deploy`` end to end on a real model from a (moto) registry: measured in a fresh
process, planned, written and validated; a saved measurement reproduces the same files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from liveml.cli import app

EXAMPLE_SLA = Path(__file__).resolve().parents[3] / "examples" / "sla.yaml"
OUTPUTS = (
    "plan.json",
    "lambda.yaml",
    "alarms.yaml",
    "prometheus-rules.yaml",
    "grafana-dashboard.json",
    "eks/deployment.yaml",
    "eks/hpa.yaml",
    "summary.md",
)


def deploy(*args: str | int | Path, sla: Path = EXAMPLE_SLA) -> Result:
    """``liveml advise deploy --model churn --sla SLA ARGS``."""
    return CliRunner().invoke(
        app, ["advise", "deploy", "--model", "churn", "--sla", str(sla), *map(str, args)]
    )


def test_example_sla_to_validated_outputs_and_reproducible(stack: Any, tmp_path: Path) -> None:
    first = tmp_path / "first"
    result = deploy("--out", first, "--requests", 100)
    assert result.exit_code == 0, result.output
    summary = (first / "summary.md").read_text()
    assert "churn v1" in summary  # production by default
    assert summary.count(": passed (") == 5 and "FAILED" not in summary
    second = tmp_path / "second"
    result = deploy("--out", second, "--measurement", first / "measurement.json")
    assert result.exit_code == 0, result.output
    for name in OUTPUTS:
        assert (first / name).read_text() == (second / name).read_text(), name


def test_a_bad_sla_is_refused_before_anything_is_fetched(stack: Any, tmp_path: Path) -> None:
    bad = tmp_path / "sla.yaml"
    bad.write_text(EXAMPLE_SLA.read_text().replace("p50: 20", "p50: 200"))
    result = deploy("--out", tmp_path / "o", sla=bad)
    assert result.exit_code != 0 and "p50 (200 ms) must not exceed p99" in str(result.exception)
    assert not (tmp_path / "o").exists()


def test_a_broken_measurement_file_names_what_is_missing(stack: Any, tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text('{"cpu_ms_per_request": 1}')
    result = deploy("--measurement", bad, "--out", tmp_path / "o")
    assert result.exit_code != 0 and "needs numbers" in str(result.exception)


def test_a_local_model_directory_needs_no_stack(model_dirs: list[Path], tmp_path: Path) -> None:
    # No registry and no stack here (and no network in unit tests): the manifest's metrics are used.
    refused = deploy("--model-dir", model_dirs[1], "--out", tmp_path / "o")
    assert refused.exit_code != 0 and "--model-dir needs --version" in str(refused.exception)
    result = deploy("--model-dir", model_dirs[1], "--version", 7, "--out", tmp_path / "o", "--requests", 100)
    assert result.exit_code == 0, result.output
    summary = (tmp_path / "o" / "summary.md").read_text()
    assert "churn v7" in summary and summary.count(": passed (") == 5
    alarms = (tmp_path / "o" / "alarms.yaml").read_text()
    assert "LiveAccuracyLoss" in alarms and "Default: '7'" in alarms
