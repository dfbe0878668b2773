"""CloudFormation fragments for the Lambda path: provisioned concurrency on a schedule, and alarms.

Each fragment is a small template of its own (``Parameters`` + ``Resources``): deploy it as a stack
beside the main one, or paste its resources into ``template.yaml``. The alarms page on the stack's
alerts topic:

* error-budget burn, multi-window (SRE workbook): a composite alarm fires when the 5xx rate over a long
  window *and* over its short window both exceed ``burn x budget`` — 14.4x over 1 h and 5 min (2% of a
  30-day budget in an hour), 6x over 6 h and 30 min, 3x over 1 d and 2 h (CloudWatch evaluates at most
  one day, so the workbook's 3-day window becomes 1 day);
* p99 latency over the SLA for 15 minutes (API Gateway's ``Latency``, which players see);
* drift above the SLA's maximum, and live accuracy / ROC AUC more than the allowed loss below the
  version's holdout figures (the monitor's metrics, ``liveml.advise.constants.MONITOR_METRICS``).
"""

from __future__ import annotations

from typing import Any

from liveml.advise.constants import (
    DRIFT_SCORE,
    LIVE_ACCURACY,
    LIVE_ROC_AUC,
    METRICS_NAMESPACE,
    MODEL_DIMENSION,
    VERSION_DIMENSION,
)
from liveml.advise.plan import DeployPlan

#: (name, long window s, short window s, burn rate): fires when both windows burn this fast.
BURN_WINDOWS = (
    ("Fast", 3600, 300, 14.4),
    ("Medium", 21600, 1800, 6.0),
    ("Slow", 86400, 7200, 3.0),
)


def _api_dimensions() -> list[dict[str, Any]]:
    # A fresh list each time: a shared one would be written as a YAML alias, which CloudFormation rejects.
    return [
        {"Name": "ApiName", "Value": {"Ref": "ApiName"}},
        {"Name": "Stage", "Value": {"Ref": "StageName"}},
    ]


def _error_rate_alarm(period: int, threshold: float, description: str) -> dict[str, Any]:
    def stat(metric: str, metric_id: str) -> dict[str, Any]:
        return {
            "Id": metric_id,
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/ApiGateway",
                    "MetricName": metric,
                    "Dimensions": _api_dimensions(),
                },
                "Period": period,
                "Stat": "Sum",
            },
        }

    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Metrics": [
                stat("5XXError", "errors"),
                stat("Count", "requests"),
                {
                    "Id": "rate",
                    "Expression": "IF(requests > 0, errors / requests, 0)",
                    "Label": "5xx rate",
                    "ReturnData": True,
                },
            ],
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": threshold,
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
        },
    }


def _monitor_alarm(
    metric: str, statistic: str, op: str, threshold: float, description: str
) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": METRICS_NAMESPACE,
            "MetricName": metric,
            "Dimensions": [
                {"Name": MODEL_DIMENSION, "Value": {"Ref": "ModelName"}},
                {"Name": VERSION_DIMENSION, "Value": {"Ref": "ModelVersion"}},
            ],
            "Statistic": statistic,
            "Period": 3600,
            "EvaluationPeriods": 1,
            "ComparisonOperator": op,
            "Threshold": threshold,
            # The monitor runs on a schedule; an hour without a figure is not an incident.
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlertsTopicArn"}],
        },
    }


def alarms_fragment(plan: DeployPlan) -> dict[str, Any]:
    sla = plan.sla
    budget = sla.error_budget_fraction
    resources: dict[str, Any] = {}
    for name, long_s, short_s, burn in BURN_WINDOWS:
        threshold = round(burn * budget, 10)
        long_id, short_id = f"ErrorBudgetBurn{name}Long", f"ErrorBudgetBurn{name}Short"
        why = f"5xx rate above {burn:g}x the error budget ({threshold:.4%})"
        resources[long_id] = _error_rate_alarm(long_s, threshold, f"{why} over {long_s // 60} min")
        resources[short_id] = _error_rate_alarm(short_s, threshold, f"{why} over {short_s // 60} min")
        resources[f"ErrorBudgetBurn{name}"] = {
            "Type": "AWS::CloudWatch::CompositeAlarm",
            "Properties": {
                "AlarmDescription": (
                    f"Error budget ({budget:.3%} of requests over {sla.error_budget.window_days} days) "
                    f"burning at {burn:g}x: both the {long_s // 60}-minute and the {short_s // 60}-minute "
                    "windows are above it"
                ),
                "AlarmRule": {"Fn::Sub": f'ALARM("${{{long_id}}}") AND ALARM("${{{short_id}}}")'},
                "AlarmActions": [{"Ref": "AlertsTopicArn"}],
            },
        }
    resources["LatencyP99"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": f"p99 latency above the SLA's {sla.latency_ms.p99:g} ms for 15 minutes",
            "Namespace": "AWS/ApiGateway",
            "MetricName": "Latency",
            "Dimensions": _api_dimensions(),
            "ExtendedStatistic": "p99",
            "Period": 300,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 3,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": sla.latency_ms.p99,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlertsTopicArn"}],
        },
    }
    resources["Drift"] = _monitor_alarm(
        DRIFT_SCORE,
        "Maximum",
        "GreaterThanThreshold",
        sla.quality.max_drift,
        f"feature drift above the SLA's {sla.quality.max_drift:g}",
    )
    loss = sla.quality.max_accuracy_loss
    for metric, holdout_name, resource in (
        (LIVE_ACCURACY, "accuracy", "LiveAccuracyLoss"),
        (LIVE_ROC_AUC, "roc_auc", "LiveRocAucLoss"),
    ):
        if holdout_name in plan.holdout:
            floor = round(plan.holdout[holdout_name] - loss, 4)
            resources[resource] = _monitor_alarm(
                metric,
                "Minimum",
                "LessThanThreshold",
                floor,
                f"live {holdout_name} below {floor:g}: more than {loss:g} under the holdout's "
                f"{plan.holdout[holdout_name]:.4f} (v{plan.version})",
            )
    return {
        "Description": f"LiveML alarms for {plan.model} v{plan.version}, from its SLA",
        "Parameters": {
            "ApiName": {"Type": "String", "Description": "the prediction API's name (PredictApi)"},
            "StageName": {"Type": "String", "Default": "prod"},
            "AlertsTopicArn": {"Type": "String", "Description": "the stack's AlertsTopic"},
            "ModelName": {"Type": "String", "Default": plan.model},
            "ModelVersion": {"Type": "String", "Default": str(plan.version)},
        },
        "Resources": resources,
    }


def lambda_fragment(plan: DeployPlan) -> dict[str, Any]:
    """Provisioned concurrency on the ``live`` alias: the peak's during the daily peak, the mean's
    otherwise (Application Auto Scaling scheduled actions, UTC)."""
    lam = plan.lambda_
    peak_start_hour = plan.sla.traffic.peak_start_utc
    end_hour = int((peak_start_hour + plan.sla.traffic.peak_hours) % 24)
    end_minute = round((plan.sla.traffic.peak_hours % 1) * 60)

    def action(name: str, minute: int, hour: int, capacity: int) -> dict[str, Any]:
        return {
            "ScheduledActionName": name,
            "Schedule": f"cron({minute} {hour} * * ? *)",
            "ScalableTargetAction": {"MinCapacity": capacity, "MaxCapacity": capacity},
        }

    return {
        "Description": (
            f"LiveML Lambda settings for {plan.model} v{plan.version}: set MemorySize "
            f"{lam.memory_mb} and ReservedConcurrentExecutions {lam.reserved_concurrency} on the "
            "predict function; this stack schedules its provisioned concurrency"
        ),
        "Parameters": {
            "PredictFunctionName": {"Type": "String", "Description": "the predict function's name"},
        },
        "Resources": {
            "ProvisionedConcurrency": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ServiceNamespace": "lambda",
                    "ScalableDimension": "lambda:function:ProvisionedConcurrency",
                    "ResourceId": {"Fn::Sub": "function:${PredictFunctionName}:live"},
                    "MinCapacity": lam.provisioned_off_peak,
                    "MaxCapacity": lam.provisioned_peak,
                    "ScheduledActions": [
                        action("peak-start", 0, peak_start_hour, lam.provisioned_peak),
                        action("peak-end", end_minute, end_hour, lam.provisioned_off_peak),
                    ],
                },
            }
        },
    }


def function_properties(plan: DeployPlan) -> dict[str, Any]:
    """What the predict function's own properties become (they live in ``template.yaml``)."""
    return {
        "MemorySize": plan.lambda_.memory_mb,
        "ReservedConcurrentExecutions": plan.lambda_.reserved_concurrency,
    }
