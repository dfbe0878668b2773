"""A studio's journey through the CLI on the deployed stack: draft a contract from its data, upload,
watch the run, find the registered version, approve it (manual policy), inspect its lineage."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from liveml.aws import client
from liveml.cli import app as cli
from liveml.data.synth import generate_players
from liveml.registry import Approval, Registry
from liveml.stack import StackOutputs
from tests.integration.cloud import unique_model


def test_from_a_csv_to_an_approved_version_with_the_cli(stack: StackOutputs, tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "250"})  # wide enough that rich tables do not truncate
    data = tmp_path / "players.csv"
    generate_players(1500, 11).to_csv(data, index=False)
    contract = tmp_path / "contract.yaml"
    settings = tmp_path / "liveml.yaml"
    settings.write_text(
        yaml.safe_dump({"trials": 3, "time_budget_s": 20, "cv_folds": 3, "approval": "manual"})
    )
    model = unique_model("studio")

    drafted = runner.invoke(
        cli, ["contract", "infer", str(data), "--target", "churned", "--out", str(contract)]
    )
    assert drafted.exit_code == 0, drafted.output
    uploaded = runner.invoke(
        cli, ["upload", str(data), "--model", model, "--contract", str(contract), "--settings", str(settings)]
    )
    assert uploaded.exit_code == 0, uploaded.output
    assert "registered version 1" in uploaded.output

    listed = runner.invoke(cli, ["models", "list", model])
    assert listed.exit_code == 0 and "PendingManualApproval" in listed.output
    approved = runner.invoke(cli, ["models", "approve", model, "1", "--reason", "looked good"])
    assert approved.exit_code == 0, approved.output
    assert Registry().get(model, 1).approval is Approval.APPROVED

    shown = runner.invoke(cli, ["models", "show", model, "1"])
    assert shown.exit_code == 0
    assert "players.csv" in shown.output and "model.onnx" in shown.output


def test_a_bad_settings_file_is_refused_before_anything_is_uploaded(
    stack: StackOutputs, tmp_path: Path
) -> None:
    data = tmp_path / "players.csv"
    generate_players(300, 12).to_csv(data, index=False)
    settings = tmp_path / "liveml.yaml"
    settings.write_text("trails: 3\n")
    model = unique_model("typo")

    result = CliRunner().invoke(cli, ["upload", str(data), "--model", model, "--settings", str(settings)])

    assert result.exit_code != 0
    assert "trails: Extra inputs are not permitted" in str(result.exception)
    listing = client("s3").list_objects_v2(Bucket=stack.data_bucket, Prefix=f"datasets/{model}/")
    assert listing.get("KeyCount", 0) == 0
