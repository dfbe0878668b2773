"""Prometheus alerting rules for the EKS path, and a pydantic model of Prometheus' rules file.

Request metrics come from ingress-nginx in front of the ``liveml-predict`` Service
(``nginx_ingress_controller_requests``, ``…_request_duration_seconds_bucket``); capacity from
kube-state-metrics and cAdvisor. The error-budget alerts are the same multi-window burn rates as the
CloudWatch alarms (``liveml.advise.cloudwatch.BURN_WINDOWS``), here with the workbook's windows.
"""

from __future__ import annotations

import re
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from liveml.advise.measured import Sizing
from liveml.advise.plan import DeployPlan

APP = "liveml-predict"
CONTAINER = "predict"
_DURATION = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: (severity, long window, short window, burn rate, for): page on fast burns, ticket on slow ones.
BURN_WINDOWS = (
    ("page", "1h", "5m", 14.4, "2m"),
    ("page", "6h", "30m", 6.0, "15m"),
    ("ticket", "1d", "2h", 3.0, "1h"),
    ("ticket", "3d", "6h", 1.0, "3h"),
)


# --- the rules file's documented structure -------------------------------------------------------


def _duration(value: str | None) -> str | None:
    if value is not None and (not value or not _DURATION.match(value)):
        raise ValueError(f"{value!r} is not a Prometheus duration (like 5m, 1h30m)")
    return value


class Rule(BaseModel):
    """One alerting (``alert``) or recording (``record``) rule."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    alert: str | None = None
    record: str | None = None
    expr: str = Field(min_length=1)
    for_: str | None = Field(None, alias="for")
    keep_firing_for: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)

    _durations = field_validator("for_", "keep_firing_for")(_duration)

    @field_validator("labels", "annotations")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not _LABEL_NAME.match(k)]
        if bad:
            raise ValueError(f"invalid label names {bad}")
        return value

    @field_validator("expr")
    @classmethod
    def _parses(cls, value: str) -> str:
        import promql_parser

        try:
            promql_parser.parse(value)
        except ValueError as exc:
            raise ValueError(f"not PromQL: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.alert is None) == (self.record is None):
            raise ValueError("a rule has exactly one of alert or record")
        if self.record is not None:
            if not _METRIC_NAME.match(self.record):
                raise ValueError(f"record {self.record!r} is not a valid metric name")
            if self.for_ or self.keep_firing_for or self.annotations:
                raise ValueError("a recording rule has no for, keep_firing_for or annotations")
        elif not self.alert:
            raise ValueError("alert names the alert: it cannot be empty")
        return self


class RuleGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    interval: str | None = None
    limit: int | None = Field(None, ge=0)
    rules: list[Rule] = Field(min_length=1)

    _interval = field_validator("interval")(_duration)


class RulesFile(BaseModel):
    """A Prometheus rules file (``rule_files:``): group names are unique within it."""

    model_config = ConfigDict(extra="forbid")

    groups: list[RuleGroup] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_groups(self) -> Self:
        names = [g.name for g in self.groups]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate group names {dupes}")
        return self


# --- the rules -----------------------------------------------------------------------------------


def _error_ratio(window: str) -> str:
    return (
        f'sum(rate(nginx_ingress_controller_requests{{service="{APP}",status=~"5.."}}[{window}])) / '
        f'sum(rate(nginx_ingress_controller_requests{{service="{APP}"}}[{window}]))'
    )


def rules(plan: DeployPlan) -> dict[str, Any]:
    sla, sizing = plan.sla, plan.eks.peak
    budget = sla.error_budget_fraction
    windows = sorted({w for _, long_w, short_w, _, _ in BURN_WINDOWS for w in (long_w, short_w)})
    recording = [{"record": f"liveml:request_errors:ratio_rate{w}", "expr": _error_ratio(w)} for w in windows]
    labels = {"model": plan.model, "version": str(plan.version)}
    alerts: list[dict[str, Any]] = []
    for severity, long_w, short_w, burn, wait in BURN_WINDOWS:
        threshold = round(burn * budget, 10)
        alerts.append(
            {
                "alert": "LiveMLErrorBudgetBurn",
                "expr": (
                    f"liveml:request_errors:ratio_rate{long_w} > {threshold:g} and "
                    f"liveml:request_errors:ratio_rate{short_w} > {threshold:g}"
                ),
                "for": wait,
                "labels": {**labels, "severity": severity, "window": long_w},
                "annotations": {
                    "summary": f"error budget burning at {burn:g}x over {long_w} and {short_w}",
                    "description": (
                        f"5xx rate above {threshold:.4%} ({burn:g}x the {budget:.3%} budget of "
                        f"{sla.error_budget.window_days} days)"
                    ),
                },
            }
        )
    alerts += _latency_and_capacity(plan, sizing, labels)
    return {
        "groups": [
            {"name": "liveml-predict-slo-recording", "interval": "30s", "rules": recording},
            {"name": "liveml-predict-slo-alerts", "rules": alerts},
        ]
    }


def _latency_and_capacity(plan: DeployPlan, s: Sizing, labels: dict[str, str]) -> list[dict[str, Any]]:
    p99_s = plan.sla.latency_ms.p99 / 1000.0
    memory_limit_bytes = s.memory_limit_mi * 1024 * 1024
    pod = f'namespace=~".+",pod=~"{APP}-.*",container="{CONTAINER}"'
    hpa = f'horizontalpodautoscaler=~"{APP}.*"'
    return [
        {
            "alert": "LiveMLLatencyP99",
            "expr": (
                "histogram_quantile(0.99, sum by (le) (rate("
                f'nginx_ingress_controller_request_duration_seconds_bucket{{service="{APP}"}}[5m]))) '
                f"> {p99_s:g}"
            ),
            "for": "15m",
            "labels": {**labels, "severity": "page"},
            "annotations": {"summary": f"p99 latency above the SLA's {plan.sla.latency_ms.p99:g} ms"},
        },
        {
            "alert": "LiveMLAutoscalerAtMaximum",
            "expr": (
                f"kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}} >= "
                f"kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}"
            ),
            "for": "15m",
            "labels": {**labels, "severity": "ticket"},
            "annotations": {
                "summary": f"the HPA is at its maximum ({s.hpa_max} pods): traffic above "
                f"{s.hpa_max * s.rps_per_pod:.0f} req/s will queue"
            },
        },
        {
            "alert": "LiveMLMemoryNearLimit",
            "expr": f"max(container_memory_working_set_bytes{{{pod}}}) / {memory_limit_bytes} > 0.9",
            "for": "10m",
            "labels": {**labels, "severity": "ticket"},
            "annotations": {"summary": f"a pod uses over 90% of its {s.memory_limit_mi}Mi limit"},
        },
        {
            "alert": "LiveMLPodRestarts",
            "expr": f"increase(kube_pod_container_status_restarts_total{{{pod}}}[1h]) > 3",
            "labels": {**labels, "severity": "ticket"},
            "annotations": {"summary": "a prediction pod restarted more than 3 times in an hour"},
        },
    ]
