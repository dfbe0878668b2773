"""``liveml advise model``: real versions from a (moto) registry compared on one holdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liveml.advise import Candidate, ModelAdvice, candidates_of, compare
from liveml.advise.artifacts import fetch_version
from liveml.advise.compare import recommend
from liveml.advise.errors import AdviseError
from liveml.cli import app
from liveml.registry import Stage


def test_cli_compares_every_candidate_and_recommends_one(stack: Any, tmp_path: Path) -> None:
    out, report = tmp_path / "advice.json", tmp_path / "advice.html"
    result = CliRunner().invoke(
        app, ["advise", "model", "--model", "churn", "--out", str(out), "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    page = report.read_text()
    assert page.count("<img ") == 4  # roc_auc per version, calibration, by device, by country
    assert "churn: ship v" in page and "calibration error" in page
    assert "Recommended: v" in result.output
    data = json.loads(out.read_text())
    assert [c["version"] for c in data["candidates"]] == [1, 2, 3]
    assert data["holdout_version"] == 3 and data["production"] == 1
    assert data["segment_columns"] == ["device", "country"]
    for c in data["candidates"]:
        assert c["excluded"] is None
        assert 0.5 < c["metrics"]["roc_auc"] <= 1 and 0 <= c["calibration_error"] < 0.5
        assert all(0 <= p <= 1 and 0 <= o <= 1 for p, o in c["calibration_curve"])
        assert set(c["segments"]) == {"device", "country"} and c["segment_gap"] is not None
    # The compact format carries TF-IDF text too, so every version has an on-device model.
    assert [c["on_device"] for c in data["candidates"]] == [True, True, True]
    assert data["recommended"] in (1, 2, 3) and data["reasons"]
    assert data["facts"][f"v{data['recommended']}.roc_auc"] == next(
        c["metrics"]["roc_auc"] for c in data["candidates"] if c["version"] == data["recommended"]
    )


def test_the_comparison_is_reproducible(stack: Any, tmp_path: Path) -> None:
    pairs = [(v, fetch_version(v, tmp_path)) for v in stack.versions]
    a, b = compare("churn", pairs, production=1), compare("churn", pairs, production=1)

    def strip(advice: ModelAdvice) -> list[dict[str, Any]]:  # latency is measured; the rest must not move
        return [{k: val for k, val in c.__dict__.items() if k != "latency_us"} for c in advice.candidates]

    assert strip(a) == strip(b) and a.recommended == b.recommended and a.reasons == b.reasons


def test_metrics_on_the_shared_holdout_match_the_newest_versions_own_evaluation(
    stack: Any, tmp_path: Path
) -> None:
    pairs = [(v, fetch_version(v, tmp_path)) for v in stack.versions]
    advice = compare("churn", pairs)
    v3 = next(c for c in advice.candidates if c.version == 3)
    assert v3.metrics["roc_auc"] == pytest.approx(stack.versions[2].metrics["roc_auc"], abs=1e-4)


def test_a_tampered_artifact_is_refused(stack: Any, tmp_path: Path) -> None:
    version = stack.versions[0]
    uri = version.artifacts["model.onnx"].uri
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    stack.s3.put_object(Bucket=bucket, Key=key, Body=b"not the model")
    with pytest.raises(AdviseError, match="differs from the expected"):
        fetch_version(version, tmp_path)


def test_bad_options_are_clear_errors(stack: Any) -> None:
    runner = CliRunner()
    for args, message in [
        (["--versions", "1,x"], "--versions must be numbers"),
        (["--versions", "1,9"], "--versions [9]: not registered"),
        (["--segment", "spend"], "--segment ['spend']: not feature columns"),
        (["--llm", "gpt"], "--llm must be bedrock"),
    ]:
        result = runner.invoke(app, ["advise", "model", "--model", "churn", *args])
        assert result.exit_code != 0 and message in str(result.exception), (args, result.output)


def test_rejected_and_archived_versions_are_not_candidates(stack: Any) -> None:
    stack.registry.set_stage("churn", 2, Stage.ARCHIVED, expected=Stage.CANDIDATE)
    assert [v.version for v in candidates_of(stack.registry.versions("churn"), None)] == [1, 3]
    assert [v.version for v in candidates_of(stack.registry.versions("churn"), [2])] == [2]


def _c(version: int, auc: float, **kw: Any) -> Candidate:
    return Candidate(version, "f", "Approved", "candidate", {"roc_auc": auc}, **kw)


def test_the_rule_prefers_on_device_then_fairness_then_calibration_then_size_among_equals() -> None:
    chosen, reasons = recommend(
        [_c(1, 0.800, on_device=True, onnx_bytes=5), _c(2, 0.803, onnx_bytes=1), _c(3, 0.760)],
        "roc_auc",
        0.005,
        2,
        2,
        100,
    )
    assert chosen == 1
    assert "within 0.005 of the best (v2, 0.8030)" in reasons[0]
    assert any("runs on the device" in r for r in reasons)
    assert any("v3 (f) scores 0.7600, 0.0430 below the best" in r for r in reasons)
    assert any("replace production v2" in r for r in reasons)
    fair, _ = recommend(
        [_c(1, 0.8, segment_gap=0.10), _c(2, 0.8, segment_gap=0.02)], "roc_auc", 0.005, None, 2, 100
    )
    assert fair == 2
    calibrated, _ = recommend(
        [_c(1, 0.8, calibration_error=0.01), _c(2, 0.8, calibration_error=0.05)],
        "roc_auc",
        0.005,
        None,
        2,
        100,
    )
    assert calibrated == 1
    smaller, _ = recommend(
        [_c(1, 0.8, onnx_bytes=10), _c(2, 0.8, onnx_bytes=20)], "roc_auc", 0.005, None, 2, 100
    )
    assert smaller == 1
    newer, _ = recommend([_c(1, 0.8), _c(2, 0.8)], "roc_auc", 0.005, None, 2, 100)
    assert newer == 2
    none, why = recommend(
        [Candidate(1, "f", "Approved", "candidate", excluded="needs columns")], "roc_auc", 0.005, None, 1, 10
    )
    assert none is None and "needs columns" in why[0]


def test_a_version_that_needs_columns_the_shared_holdout_lacks_is_shown_as_excluded(
    stack: Any, tmp_path: Path
) -> None:
    # v2 was trained without the free-text column, so its holdout cannot feed v1, which reads it.
    pairs = [(v, fetch_version(v, tmp_path)) for v in stack.versions[:2]]
    advice = compare("churn", pairs, production=1)
    v1 = advice.candidates[0]
    assert advice.holdout_version == 2 and v1.excluded and "feedback" in v1.excluded
    assert advice.recommended == 2
    assert any(r.startswith("v1 could not be compared") for r in advice.reasons)
