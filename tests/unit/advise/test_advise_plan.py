"""The plan's arithmetic: deterministic, follows the SLA and the measurement, and says when a target
or the cost ceiling cannot be met."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from liveml.advise import Sla, plan_deploy
from liveml.advise.measured import Measurement
from liveml.advise.plan import LAMBDA_FULL_VCPU_MB, poisson_quantile

EXAMPLE_SLA = Path(__file__).resolve().parents[3] / "examples" / "sla.yaml"
MEASURED = Measurement(cpu_ms_per_request=0.62, p99_ms=1.4, rss_mb=151.0, requests=500)


@pytest.fixture(scope="module")
def sla() -> Sla:
    return Sla.load(EXAMPLE_SLA)


def _with(sla: Sla, **changes: object) -> Sla:
    data = sla.model_dump()
    for dotted, value in changes.items():
        section, _, name = dotted.partition("__")
        if name:
            data[section][name] = value
        else:
            data[section] = value
    return Sla.model_validate(data)


def test_same_inputs_same_plan(sla: Sla) -> None:
    a = plan_deploy(sla, MEASURED, model="churn", version=4, holdout={}).as_dict()
    b = plan_deploy(sla, MEASURED, model="churn", version=4, holdout={}).as_dict()
    assert a == b


def test_poisson_quantile_matches_its_definition() -> None:
    from scipy.stats import poisson

    for mean in (0.5, 3.2, 40.0):
        k = poisson_quantile(mean, 0.999)
        assert poisson.cdf(k, mean) >= 0.999 > poisson.cdf(k - 1, mean)


def test_lambda_concurrency_covers_the_peak_and_memory_the_latency(sla: Sla) -> None:
    plan = plan_deploy(sla, MEASURED, model="churn", version=4, holdout={})
    lam = plan.lambda_
    # Little's law: the peak's mean concurrency is rate x duration; provisioned sits above it.
    assert lam.provisioned_peak > sla.traffic.peak_rps * lam.duration_ms / 1000
    assert lam.provisioned_off_peak < lam.provisioned_peak <= lam.reserved_concurrency
    assert lam.memory_mb % 64 == 0 and lam.memory_mb >= plan.eks.peak.memory_limit_mi
    assert lam.meets_latency and lam.predicted_p99_ms <= sla.latency_ms.p99
    # A tighter p99 buys CPU (memory) on Lambda and a lower target utilization on EKS.
    tight = plan_deploy(
        _with(sla, latency_ms={"p50": 11, "p99": 13.5}), MEASURED, model="churn", version=4, holdout={}
    )
    assert tight.lambda_.memory_mb > lam.memory_mb
    assert tight.eks.target_utilization < plan.eks.target_utilization
    assert tight.eks.peak.rps_per_pod < plan.eks.peak.rps_per_pod


def test_eks_replicas_follow_the_peak_and_the_hpa_shrinks_off_peak(sla: Sla) -> None:
    eks = plan_deploy(sla, MEASURED, model="churn", version=4, holdout={}).eks
    capacity = eks.peak.replicas * eks.peak.rps_per_pod
    assert capacity >= sla.traffic.peak_rps
    assert eks.peak.hpa_min == eks.off_peak_replicas < eks.peak.replicas < eks.peak.hpa_max
    assert eks.peak.hpa_max >= math.ceil(1.5 * sla.traffic.peak_rps / eks.peak.rps_per_pod)


def test_an_unreachable_latency_and_a_low_cost_ceiling_are_findings(sla: Sla) -> None:
    slow = replace(MEASURED, cpu_ms_per_request=60.0, p99_ms=95.0)
    plan = plan_deploy(_with(sla, cost={"max_monthly_usd": 10}), slow, model="churn", version=4, holdout={})
    assert not plan.lambda_.meets_latency and not plan.eks.meets_latency
    text = " ".join(plan.findings)
    assert "Lambda cannot meet p99 80 ms" in text and "EKS cannot meet p99 80 ms" in text
    assert "above the ceiling of $10.00" in text


def test_cost_adds_up_from_the_price_table(sla: Sla) -> None:
    from liveml.advise.constants import API_GATEWAY_REST_TIERS, SECONDS_PER_MONTH

    lam = plan_deploy(sla, MEASURED, model="churn", version=4, holdout={}).lambda_
    requests = sla.traffic.mean_rps * SECONDS_PER_MONTH
    # 1.3 billion requests a month: 333 million at the first tier's price, 667 million at the
    # second's, the rest at the third's.
    tiers = API_GATEWAY_REST_TIERS
    expected = 333 * tiers[0][1] + 667 * tiers[1][1] + (requests / 1e6 - 1000) * tiers[2][1]
    assert requests > 1e9 and lam.monthly_usd["api_gateway"] == pytest.approx(expected, abs=0.01)
    assert lam.monthly_total_usd == pytest.approx(sum(lam.monthly_usd.values()), abs=0.01)
    assert LAMBDA_FULL_VCPU_MB == 1769
