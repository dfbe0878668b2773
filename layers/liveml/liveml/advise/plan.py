"""From an SLA and a measurement to Lambda settings, EKS sizing and their monthly cost: pure arithmetic,
so the same spec and measurement always give the same plan.

Lambda (one request per environment, CPU in proportion to memory):
  * memory: at least the EKS sizing's memory limit (resident set plus headroom for batches); then the
    smallest 64 MB step whose predicted p99 — the measured p99 scaled by the vCPU share
    (1,769 MB = one vCPU) plus the gateway — meets the SLA (cost grows with memory, so smallest wins);
  * provisioned concurrency: concurrent requests at a rate ``r`` with duration ``d`` are Poisson with
    mean ``r*d``; a request beyond the warm environments meets a cold start (hundreds of ms, far above a
    p99 target), so the peak gets the 99.9th percentile of that count, off-peak the same for the mean
    rate (scheduled scaling switches between them);
  * reserved concurrency: the 99.99th percentile at ``BURST`` times the peak: above it players get
    429s instead of the account's other functions starving or the bill running away.

EKS (a single-worker pod is a queue): a pod at utilization ``u`` adds a waiting time whose p99 is
``S/(1-u) * ln(100u)`` (M/M/1, service time ``S``); the highest utilization (of 0.30..0.80) whose
measured p99 plus that wait meets the SLA becomes the HPA target; the serving path's ``size`` turns it
into replicas, requests, limits and HPA bounds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from liveml.advise.constants import (
    API_GATEWAY_REST_TIERS,
    HOURS_PER_MONTH,
    PRICES,
    PRICES_AS_OF,
    PRICES_REGION,
    SECONDS_PER_MONTH,
    api_gateway_monthly_usd,
)
from liveml.advise.measured import SERVER_OVERHEAD_MS, Measurement, Sizing, size
from liveml.advise.sla import Sla

#: One vCPU at this memory size (AWS Lambda documentation); below it a function gets a share.
LAMBDA_FULL_VCPU_MB = 1769
LAMBDA_MAX_MB = 10240
#: Mangum's event translation and the Lambda runtime's own hand-off per invocation (assumed).
LAMBDA_INVOKE_OVERHEAD_MS = 1.0
#: What API Gateway (REST) adds in front of the function (assumed; its Latency metric includes it).
GATEWAY_OVERHEAD_MS = 10.0
#: What the load balancer and ingress add in front of a pod (assumed).
INGRESS_OVERHEAD_MS = 2.0
#: Traffic above the stated peak that is still served (reserved concurrency, HPA maximum).
BURST = 1.5
PEAK_QUANTILE = 0.999
RESERVED_QUANTILE = 0.9999
UTILIZATIONS = tuple(round(0.80 - 0.05 * i, 2) for i in range(11))  # 0.80 .. 0.30


@dataclass(frozen=True)
class LambdaPlan:
    memory_mb: int
    predicted_p50_ms: float
    predicted_p99_ms: float
    duration_ms: float
    provisioned_peak: int
    provisioned_off_peak: int
    reserved_concurrency: int
    meets_latency: bool
    monthly_usd: dict[str, float]

    @property
    def monthly_total_usd(self) -> float:
        return round(sum(self.monthly_usd.values()), 2)


@dataclass(frozen=True)
class EksPlan:
    target_utilization: float
    predicted_p99_ms: float
    meets_latency: bool
    peak: Sizing
    off_peak_replicas: int
    monthly_usd: dict[str, float]

    @property
    def monthly_total_usd(self) -> float:
        return round(sum(self.monthly_usd.values()), 2)


@dataclass(frozen=True)
class DeployPlan:
    model: str
    version: int
    sla: Sla
    measurement: Measurement
    holdout: dict[str, float]
    lambda_: LambdaPlan
    eks: EksPlan
    findings: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return f"Serving plan for {self.model} v{self.version} from its SLA"

    @property
    def recommended(self) -> int | None:
        return None  # a plan recommends settings, not a version

    @property
    def reasons(self) -> list[str]:
        lam, eks = self.lambda_, self.eks
        return [
            f"Lambda: {lam.memory_mb} MB, provisioned concurrency {lam.provisioned_peak} at the peak and "
            f"{lam.provisioned_off_peak} off-peak, reserved {lam.reserved_concurrency}; predicted p99 "
            f"{lam.predicted_p99_ms:g} ms; ~${lam.monthly_total_usd:,.2f} a month",
            f"EKS: {eks.peak.replicas} replicas at the peak (HPA {eks.peak.hpa_min}-{eks.peak.hpa_max} at "
            f"{eks.peak.hpa_cpu_target_percent}% CPU); predicted p99 {eks.predicted_p99_ms:g} ms; "
            f"~${eks.monthly_total_usd:,.2f} a month",
            *self.findings,
        ]

    def facts(self) -> dict[str, float]:
        """Every number of the plan by its dotted name (what an LLM may cite)."""
        out: dict[str, float] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for key, sub in value.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), sub)
            elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                out[prefix] = float(value)

        walk("", {k: v for k, v in self.as_dict().items() if k != "prices"})
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "sla": self.sla.model_dump(mode="json"),
            "error_budget_fraction": self.sla.error_budget_fraction,
            "measurement": asdict(self.measurement),
            "holdout": self.holdout,
            "lambda": {**asdict(self.lambda_), "monthly_total_usd": self.lambda_.monthly_total_usd},
            "eks": {**asdict(self.eks), "monthly_total_usd": self.eks.monthly_total_usd},
            "prices": {
                "as_of": PRICES_AS_OF,
                "region": PRICES_REGION,
                **PRICES,
                "api_gateway_rest_tiers_per_million": [list(t) for t in API_GATEWAY_REST_TIERS],
            },
            "findings": self.findings,
        }


def poisson_quantile(mean: float, q: float) -> int:
    """The smallest ``k`` with P(N <= k) >= q for N ~ Poisson(mean)."""
    from scipy.stats import poisson

    return int(poisson.ppf(q, mean)) if mean > 0 else 0


def _lambda_latency(m: Measurement, memory_mb: int) -> tuple[float, float]:
    scale = max(1.0, LAMBDA_FULL_VCPU_MB / memory_mb)
    p50 = m.cpu_ms_per_request * scale + LAMBDA_INVOKE_OVERHEAD_MS
    p99 = m.p99_ms * scale + LAMBDA_INVOKE_OVERHEAD_MS
    return p50, p99


def plan_lambda(sla: Sla, m: Measurement, memory_floor_mb: int) -> LambdaPlan:
    floor = max(128, math.ceil(memory_floor_mb / 64) * 64)
    target_p99 = sla.latency_ms.p99 - GATEWAY_OVERHEAD_MS
    target_p50 = (sla.latency_ms.p50 or math.inf) - GATEWAY_OVERHEAD_MS
    memory, meets = LAMBDA_MAX_MB, False
    for candidate in range(floor, LAMBDA_MAX_MB + 1, 64):
        p50, p99 = _lambda_latency(m, candidate)
        if p99 <= target_p99 and p50 <= target_p50:
            memory, meets = candidate, True
            break
    p50, p99 = _lambda_latency(m, memory)
    duration_s = p50 / 1000.0
    prov_peak = max(1, poisson_quantile(sla.traffic.peak_rps * duration_s, PEAK_QUANTILE))
    prov_off = max(1, poisson_quantile(sla.traffic.mean_rps * duration_s, PEAK_QUANTILE))
    reserved = max(prov_peak, poisson_quantile(BURST * sla.traffic.peak_rps * duration_s, RESERVED_QUANTILE))
    gb = memory / 1024.0
    requests = sla.traffic.mean_rps * SECONDS_PER_MONTH
    peak_share = sla.traffic.peak_hours / 24.0
    warm_gb_s = (prov_peak * peak_share + prov_off * (1 - peak_share)) * gb * SECONDS_PER_MONTH
    monthly = {
        "lambda_requests": requests / 1e6 * PRICES["lambda_request_per_million"],
        "lambda_duration": requests * duration_s * gb * PRICES["lambda_provisioned_duration_gb_second"],
        "lambda_provisioned": warm_gb_s * PRICES["lambda_provisioned_gb_second"],
        "api_gateway": api_gateway_monthly_usd(requests),
    }
    return LambdaPlan(
        memory_mb=memory,
        predicted_p50_ms=round(p50 + GATEWAY_OVERHEAD_MS, 2),
        predicted_p99_ms=round(p99 + GATEWAY_OVERHEAD_MS, 2),
        duration_ms=round(p50, 3),
        provisioned_peak=prov_peak,
        provisioned_off_peak=prov_off,
        reserved_concurrency=reserved,
        meets_latency=meets,
        monthly_usd={k: round(v, 2) for k, v in monthly.items()},
    )


def _eks_p99(m: Measurement, utilization: float) -> float:
    service = m.cpu_ms_per_request + SERVER_OVERHEAD_MS
    wait = service / (1 - utilization) * math.log(100 * utilization) if utilization > 0.01 else 0.0
    return m.p99_ms + SERVER_OVERHEAD_MS + max(0.0, wait) + INGRESS_OVERHEAD_MS


def _fargate_pod_hour(s: Sizing) -> float:
    """A pod on Fargate is billed at its requests rounded up (0.25 vCPU, 0.5 GB steps; at least 0.5 GB)."""
    vcpu = math.ceil(s.cpu_request_m / 250) * 0.25
    gb = max(0.5, math.ceil(s.memory_request_mi / 512) * 0.5)
    return vcpu * PRICES["fargate_vcpu_hour"] + gb * PRICES["fargate_gb_hour"]


def plan_eks(sla: Sla, m: Measurement) -> EksPlan:
    target = sla.latency_ms.p99
    chosen = next((u for u in UTILIZATIONS if _eks_p99(m, u) <= target), UTILIZATIONS[-1])
    off_peak = size(m, sla.traffic.mean_rps, target_utilization=chosen, burst=BURST)
    # The HPA may shrink to what the mean rate needs outside the daily peak.
    peak = replace(
        size(m, sla.traffic.peak_rps, target_utilization=chosen, burst=BURST), hpa_min=off_peak.replicas
    )
    peak_share = sla.traffic.peak_hours / 24.0
    pod_hours = (peak.replicas * peak_share + off_peak.replicas * (1 - peak_share)) * HOURS_PER_MONTH
    monthly = {
        "eks_cluster": PRICES["eks_cluster_hour"] * HOURS_PER_MONTH,
        "fargate_pods": pod_hours * _fargate_pod_hour(peak),
    }
    p99 = _eks_p99(m, chosen)
    return EksPlan(
        target_utilization=chosen,
        predicted_p99_ms=round(p99, 2),
        meets_latency=p99 <= target,
        peak=peak,
        off_peak_replicas=off_peak.replicas,
        monthly_usd={k: round(v, 2) for k, v in monthly.items()},
    )


def plan_deploy(
    sla: Sla, m: Measurement, *, model: str, version: int, holdout: dict[str, float]
) -> DeployPlan:
    eks = plan_eks(sla, m)
    lam = plan_lambda(sla, m, eks.peak.memory_limit_mi)
    findings: list[str] = []
    if not lam.meets_latency:
        findings.append(
            f"Lambda cannot meet p99 {sla.latency_ms.p99:g} ms even at {LAMBDA_MAX_MB} MB "
            f"(predicted {lam.predicted_p99_ms:g} ms)"
        )
    if not eks.meets_latency:
        findings.append(
            f"EKS cannot meet p99 {sla.latency_ms.p99:g} ms even at {UTILIZATIONS[-1]:.0%} CPU "
            f"(predicted {eks.predicted_p99_ms:g} ms)"
        )
    ceiling = sla.cost.max_monthly_usd
    for name, total in (("Lambda", lam.monthly_total_usd), ("EKS", eks.monthly_total_usd)):
        if total > ceiling:
            findings.append(f"{name} costs ~${total:,.2f} a month, above the ceiling of ${ceiling:,.2f}")
    return DeployPlan(model, version, sla, m, holdout, lam, eks, findings)
