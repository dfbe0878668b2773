"""The example SLA turned into every output, each passed by the validator that owns its format; and
each validator shown to refuse a broken output (so a pass means something)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from liveml.advise import Sla, advise_deploy, plan_deploy
from liveml.advise import validate as v
from liveml.advise.cloudwatch import alarms_fragment, function_properties, lambda_fragment
from liveml.advise.grafana import dashboard
from liveml.advise.measured import Measurement, base_manifests
from liveml.advise.prometheus import rules

EXAMPLE_SLA = Path(__file__).resolve().parents[3] / "examples" / "sla.yaml"
MEASURED = Measurement(cpu_ms_per_request=0.62, p99_ms=1.4, rss_mb=151.0, requests=500)
HOLDOUT = {"accuracy": 0.81, "roc_auc": 0.87}


@pytest.fixture(scope="module")
def sla() -> Sla:
    return Sla.load(EXAMPLE_SLA)


def test_example_sla_becomes_every_output_and_each_passes_its_validator(sla: Sla, tmp_path: Path) -> None:
    advice = advise_deploy(sla, MEASURED, model="churn", version=4, metrics=HOLDOUT, out=tmp_path)
    assert [(c.output, c.passed) for c in advice.checks] == [
        ("lambda.yaml", True),
        ("alarms.yaml", True),
        ("eks/", True),
        ("prometheus-rules.yaml", True),
        ("grafana-dashboard.json", True),
    ], advice.summary
    names = {p.relative_to(tmp_path).as_posix() for p in advice.written}
    assert {
        "plan.json",
        "measurement.json",
        "lambda.yaml",
        "alarms.yaml",
        "eks/hpa.yaml",
        "eks/deployment.yaml",
        "prometheus-rules.yaml",
        "grafana-dashboard.json",
        "summary.md",
    } <= names
    # What was written is what was validated.
    alarms = yaml.safe_load((tmp_path / "alarms.yaml").read_text())
    assert alarms == alarms_fragment(advice.plan)
    assert "grafana-dashboard.json: passed" in advice.summary and "FAILED" not in advice.summary
    assert "as of 2025-01" in advice.summary


def test_alarm_thresholds_come_from_the_sla_and_the_holdout(sla: Sla) -> None:
    plan = plan_deploy(sla, MEASURED, model="churn", version=4, holdout=HOLDOUT)
    resources = alarms_fragment(plan)["Resources"]
    fast = resources["ErrorBudgetBurnFastLong"]["Properties"]
    assert fast["Threshold"] == pytest.approx(14.4 * 0.001)
    assert fast["Metrics"][0]["MetricStat"]["Period"] == 3600
    assert resources["ErrorBudgetBurnFastShort"]["Properties"]["Metrics"][0]["MetricStat"]["Period"] == 300
    rule = resources["ErrorBudgetBurnFast"]["Properties"]["AlarmRule"]["Fn::Sub"]
    assert rule == 'ALARM("${ErrorBudgetBurnFastLong}") AND ALARM("${ErrorBudgetBurnFastShort}")'
    assert resources["LatencyP99"]["Properties"]["Threshold"] == 80
    assert resources["Drift"]["Properties"]["Threshold"] == 0.2
    assert resources["LiveAccuracyLoss"]["Properties"]["Threshold"] == pytest.approx(0.78)
    assert resources["LiveRocAucLoss"]["Properties"]["Threshold"] == pytest.approx(0.84)
    assert resources["LiveAccuracyLoss"]["Properties"]["MetricName"] == "LiveAccuracy"


def test_a_regression_model_gets_no_accuracy_alarms(sla: Sla) -> None:
    plan = plan_deploy(sla, MEASURED, model="ltv", version=1, holdout={"r2": 0.6})
    resources = alarms_fragment(plan)["Resources"]
    assert "Drift" in resources and "LiveAccuracyLoss" not in resources and "LiveRocAucLoss" not in resources
    assert v.cloudformation("alarms.yaml", alarms_fragment(plan)).passed


# --- each validator refuses a broken output ---------------------------------------------------------


def _plan(sla: Sla) -> Any:
    return plan_deploy(sla, MEASURED, model="churn", version=4, holdout=HOLDOUT)


def test_cfn_lint_refuses_a_broken_fragment(sla: Sla) -> None:
    plan = _plan(sla)
    negative = v.cloudformation(
        "lambda.yaml", lambda_fragment(plan), function={"ReservedConcurrentExecutions": -3}
    )
    assert not negative.passed and any("-3 is less than the minimum of 0" in p for p in negative.problems)
    broken = copy.deepcopy(alarms_fragment(plan))
    broken["Resources"]["LatencyP99"]["Properties"]["ComparisonOperator"] = "Above"
    check = v.cloudformation("alarms.yaml", broken)
    assert not check.passed and any("Above" in p for p in check.problems)
    assert v.cloudformation("lambda.yaml", lambda_fragment(plan), function=function_properties(plan)).passed


def test_kubernetes_validate_refuses_a_broken_manifest(sla: Sla) -> None:
    docs = base_manifests(_plan(sla).eks.peak, image="i:1", role_arn="arn:aws:iam::1:role/r", namespace="n")
    deployment = copy.deepcopy(docs["deployment.yaml"][0])
    deployment["spec"]["replicas"] = "three"
    check = v.kubernetes("eks/", [deployment])
    assert not check.passed and "spec.replicas" in check.problems[0]


def test_the_dashboard_schema_refuses_a_broken_dashboard(sla: Sla) -> None:
    board = dashboard(_plan(sla))
    broken = json.loads(json.dumps(board))
    broken["panels"][0]["gridPos"]["w"] = 30
    del broken["panels"][1]["targets"][0]["expr"]
    problems = v.grafana("d.json", broken).problems
    assert any(p.startswith("panels.0.gridPos.w") for p in problems)
    assert any(p.startswith("panels.1.targets.0") and "expr" in p for p in problems)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda r: r["groups"][1]["rules"][0].update({"for": "5 minutes"}), "for"),
        (lambda r: r["groups"][1]["rules"][0].update({"expr": "sum(rate(x[5m])"}), "not PromQL"),
        (lambda r: r["groups"][0]["rules"][0].update({"record": "bad name"}), "not a valid metric name"),
        (lambda r: r["groups"][0]["rules"][0].update({"alert": "Both"}), "exactly one of alert or record"),
        (lambda r: r["groups"][1]["rules"][0]["labels"].update({"bad-label": "x"}), "invalid label names"),
        (lambda r: r["groups"].append(r["groups"][0]), "duplicate group names"),
        (lambda r: r["groups"][1].update({"evaluation": "1m"}), "evaluation"),
    ],
)
def test_the_rules_model_refuses_a_broken_rules_file(sla: Sla, change: Any, named: str) -> None:
    broken = copy.deepcopy(rules(_plan(sla)))
    change(broken)
    check = v.prometheus("rules.yaml", broken)
    assert not check.passed and named in check.problems[0]


def test_the_dashboard_schema_wants_a_base_threshold_first(sla: Sla) -> None:
    broken = json.loads(json.dumps(dashboard(_plan(sla))))
    broken["panels"][2]["fieldConfig"]["defaults"]["thresholds"]["steps"][0]["value"] = 5
    problems = v.grafana("d.json", broken).problems
    assert problems and problems[0].startswith("panels.2.fieldConfig.defaults.thresholds.steps.0.value")
