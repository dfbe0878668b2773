"""A Grafana dashboard for the EKS path: traffic against the SLA's rates, the error budget, p99 against
its target, replicas against the HPA's bounds, CPU and memory against requests and limits.

Queries read the same series as the alerting rules (``liveml.advise.prometheus``); the datasource is a
dashboard variable, so the file imports into any Grafana with a Prometheus datasource.
"""

from __future__ import annotations

import re
from typing import Any

from liveml.advise.plan import DeployPlan
from liveml.advise.prometheus import APP, CONTAINER

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _panel(
    panel_id: int,
    title: str,
    exprs: list[tuple[str, str]],
    *,
    unit: str,
    red_above: float | None = None,
    kind: str = "timeseries",
) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if red_above is not None:
        steps.append({"color": "red", "value": red_above})
    return {
        "id": panel_id,
        "type": kind,
        "title": title,
        # Two half-width panels a row, in the order of their ids.
        "gridPos": {"h": 8, "w": 12, "x": 12 * ((panel_id - 1) % 2), "y": 8 * ((panel_id - 1) // 2)},
        "datasource": DATASOURCE,
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
            for i, (expr, legend) in enumerate(exprs)
        ],
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
    }


def dashboard(plan: DeployPlan) -> dict[str, Any]:
    sla, s = plan.sla, plan.eks.peak
    svc = f'service="{APP}"'
    pod = f'pod=~"{APP}-.*",container="{CONTAINER}"'
    hpa = f'horizontalpodautoscaler=~"{APP}.*"'
    budget = sla.error_budget_fraction
    panels = [
        _panel(
            1,
            f"Requests per second (SLA peak {sla.traffic.peak_rps:g})",
            [
                (f"sum(rate(nginx_ingress_controller_requests{{{svc}}}[1m]))", "requests/s"),
                (f"vector({sla.traffic.peak_rps:g})", "SLA peak"),
            ],
            unit="reqps",
        ),
        _panel(
            2,
            f"5xx rate against the error budget ({budget:.3%})",
            [
                ("liveml:request_errors:ratio_rate5m", "5 min"),
                ("liveml:request_errors:ratio_rate1h", "1 h"),
                (f"vector({budget:g})", "budget"),
            ],
            unit="percentunit",
            red_above=14.4 * budget,
        ),
        _panel(
            3,
            f"p99 latency (SLA {sla.latency_ms.p99:g} ms)",
            [
                (
                    "histogram_quantile(0.99, sum by (le) (rate("
                    f"nginx_ingress_controller_request_duration_seconds_bucket{{{svc}}}[5m]))) * 1000",
                    "p99",
                ),
            ],
            unit="ms",
            red_above=sla.latency_ms.p99,
        ),
        _panel(
            4,
            f"Replicas (HPA {s.hpa_min}-{s.hpa_max})",
            [
                (f"kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}}", "current"),
                (f"kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}", "max"),
            ],
            unit="short",
        ),
        _panel(
            5,
            f"CPU per pod (request {s.cpu_request_m}m, limit {s.cpu_limit_m}m)",
            [(f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{pod}}}[5m])) * 1000", "{{pod}}")],
            unit="short",
            red_above=float(s.cpu_limit_m),
        ),
        _panel(
            6,
            f"Memory per pod (limit {s.memory_limit_mi}Mi)",
            [(f"max by (pod) (container_memory_working_set_bytes{{{pod}}})", "{{pod}}")],
            unit="bytes",
            red_above=0.9 * s.memory_limit_mi * 1024 * 1024,
        ),
    ]
    return {
        "id": None,
        "uid": re.sub(r"[^a-zA-Z0-9_-]", "-", f"liveml-{plan.model}")[:40],
        "title": f"LiveML {plan.model}: serving SLA",
        "description": f"{plan.model} v{plan.version} on EKS against its SLA",
        "tags": ["liveml", plan.model],
        "timezone": "utc",
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "label": "Prometheus", "query": "prometheus"}
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }
