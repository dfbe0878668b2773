"""``liveml advise deploy``: one SLA and one measured model version in, every serving and alerting
output out, each checked by its validator.

Written to the output directory::

    plan.json               the inputs (SLA, measurement, holdout figures), every derived figure, prices
    measurement.json        the measurement used (pass it back with --measurement to reproduce the plan)
    lambda.yaml             CloudFormation: provisioned concurrency on the live alias, on a schedule
    alarms.yaml             CloudFormation: burn-rate, p99, drift and live-accuracy alarms
    eks/*.yaml              Deployment, Service, HPA, PDB, ServiceAccount (kustomize base)
    prometheus-rules.yaml   recording and alerting rules for the EKS path
    grafana-dashboard.json  the EKS path against its SLA
    summary.md              what the tool printed: settings, cost, validators
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from liveml.advise import cloudwatch, grafana, prometheus, validate
from liveml.advise.constants import API_GATEWAY_REST_TIERS, PRICES, PRICES_AS_OF, PRICES_REGION
from liveml.advise.measured import Measurement, base_manifests
from liveml.advise.plan import BURST, DeployPlan, plan_deploy
from liveml.advise.sla import Sla

#: Holdout figures the live-quality alarms compare against.
HOLDOUT_METRICS = ("accuracy", "roc_auc", "r2", "rmse")


@dataclass(frozen=True)
class DeployAdvice:
    plan: DeployPlan
    checks: list[validate.Check]
    written: list[Path]
    summary: str

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


class _PlainDumper(yaml.SafeDumper):
    """Writes a shared object out each time: CloudFormation rejects YAML aliases, and people read these."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _yaml(path: Path, docs: list[dict[str, Any]] | dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    many = docs if isinstance(docs, list) else [docs]
    text = yaml.dump_all(many, Dumper=_PlainDumper, sort_keys=False, width=120)
    path.write_text(text, encoding="utf-8")
    return path


def _json(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def advise_deploy(
    sla: Sla,
    measurement: Measurement,
    *,
    model: str,
    version: int,
    metrics: dict[str, float],
    out: Path,
    image: str = "liveml-predict:latest",
    role_arn: str = "arn:aws:iam::123456789012:role/liveml-predict",
    namespace: str = "liveml",
    region: str = "us-east-1",
) -> DeployAdvice:
    """Plan, write every output under ``out`` and validate each one."""
    holdout = {k: float(metrics[k]) for k in HOLDOUT_METRICS if k in metrics}
    plan = plan_deploy(sla, measurement, model=model, version=version, holdout=holdout)
    lambda_frag = cloudwatch.lambda_fragment(plan)
    alarms = cloudwatch.alarms_fragment(plan)
    manifests = base_manifests(
        plan.eks.peak, image=image, role_arn=role_arn, namespace=namespace, region=region
    )
    rules = prometheus.rules(plan)
    board = grafana.dashboard(plan)

    written = [
        _json(out / "plan.json", plan.as_dict()),
        _json(out / "measurement.json", asdict(measurement)),
        _yaml(out / "lambda.yaml", lambda_frag),
        _yaml(out / "alarms.yaml", alarms),
        *(_yaml(out / "eks" / name, docs) for name, docs in manifests.items()),
        _yaml(out / "prometheus-rules.yaml", rules),
        _json(out / "grafana-dashboard.json", board),
    ]
    k8s_docs = [d for name, docs in manifests.items() if name != "kustomization.yaml" for d in docs]
    checks = [
        validate.cloudformation("lambda.yaml", lambda_frag, function=cloudwatch.function_properties(plan)),
        validate.cloudformation("alarms.yaml", alarms),
        validate.kubernetes("eks/", k8s_docs),
        validate.prometheus("prometheus-rules.yaml", rules),
        validate.grafana("grafana-dashboard.json", board),
    ]
    summary = render_summary(plan, checks)
    written.append(out / "summary.md")
    (out / "summary.md").write_text(summary, encoding="utf-8")
    return DeployAdvice(plan, checks, written, summary)


def _tier(upto: float, price: float) -> str:
    return f"${price:g} up to {upto:g}M" if upto != float("inf") else f"${price:g} beyond"


def render_summary(plan: DeployPlan, checks: list[validate.Check]) -> str:
    sla, m, lam, eks = plan.sla, plan.measurement, plan.lambda_, plan.eks
    s = eks.peak
    lines = [
        f"# {plan.model} v{plan.version}: serving and alerting from the SLA",
        "",
        f"SLA: p99 {sla.latency_ms.p99:g} ms, {sla.traffic.mean_rps:g} req/s mean, "
        f"{sla.traffic.peak_rps:g} at the peak ({sla.traffic.peak_hours:g} h from "
        f"{sla.traffic.peak_start_utc:02d}:00 UTC), {sla.availability:g}% available "
        f"(error budget {sla.error_budget_fraction:.3%} over {sla.error_budget.window_days} days), "
        f"drift <= {sla.quality.max_drift:g}, accuracy loss <= {sla.quality.max_accuracy_loss:g}, "
        f"<= ${sla.cost.max_monthly_usd:,.0f}/month.",
        f"Measured: {m.cpu_ms_per_request:.3f} ms median, {m.p99_ms:.3f} ms p99 per request, "
        f"{m.rss_mb:.0f} MB resident ({m.requests} requests).",
        "",
        "## Lambda",
        f"- memory {lam.memory_mb} MB: predicted p50 {lam.predicted_p50_ms:g} ms, p99 "
        f"{lam.predicted_p99_ms:g} ms at the API ({'meets' if lam.meets_latency else 'MISSES'} the SLA)",
        f"- provisioned concurrency {lam.provisioned_peak} at the peak, {lam.provisioned_off_peak} "
        "off-peak (concurrent requests stay within it 99.9% of the time; beyond it they meet a cold start)",
        f"- reserved concurrency {lam.reserved_concurrency} (room for {BURST:g}x the peak, then 429)",
        f"- ~${lam.monthly_total_usd:,.2f}/month: "
        + ", ".join(f"{k} ${v:,.2f}" for k, v in lam.monthly_usd.items()),
        "",
        "## EKS",
        f"- {s.replicas} replicas at the peak (HPA {s.hpa_min}-{s.hpa_max} at "
        f"{s.hpa_cpu_target_percent}% CPU, ~{s.rps_per_pod:g} req/s per pod), predicted p99 "
        f"{eks.predicted_p99_ms:g} ms ({'meets' if eks.meets_latency else 'MISSES'} the SLA)",
        f"- cpu {s.cpu_request_m}m/{s.cpu_limit_m}m, memory {s.memory_request_mi}/{s.memory_limit_mi}Mi",
        f"- ~${eks.monthly_total_usd:,.2f}/month on Fargate: "
        + ", ".join(f"{k} ${v:,.2f}" for k, v in eks.monthly_usd.items())
        + " (load balancer not included)",
        "",
        f"Prices: AWS list prices, {PRICES_REGION}, as of {PRICES_AS_OF}: "
        + ", ".join(f"{k} {v:g}" for k, v in PRICES.items())
        + "; API Gateway REST per million: "
        + ", ".join(_tier(upto, price) for upto, price in API_GATEWAY_REST_TIERS),
        "",
        "## Findings",
        *(f"- {f}" for f in plan.findings or ["none: both paths meet the SLA within the cost ceiling"]),
        "",
        "## Validators",
        *(
            f"- {c.output}: {'passed' if c.passed else 'FAILED'} ({c.validator})"
            + "".join(f"\n  - {p}" for p in c.problems)
            for c in checks
        ),
        "",
    ]
    return "\n".join(lines)
