"""Names and prices the ops assistant's outputs rely on, in one place.

The monitor writes its live-quality metrics per model and version; the alarms and dashboards read
them by these names. The price table is what the cost summary states, with its date.
"""

from __future__ import annotations

import math

#: CloudWatch namespace and dimensions of the serving path's own metrics (EMF) and the monitor's.
from liveml.binding.constants import METRICS_NAMESPACE as METRICS_NAMESPACE
from liveml.config import env

MODEL_DIMENSION = "model"
VERSION_DIMENSION = "version"
#: The monitor's live-quality metrics, per model and version: name -> what it measures.
MONITOR_METRICS = {
    "LiveRocAuc": "ROC AUC of live predictions against the outcomes reported later",
    "LiveAccuracy": "accuracy of live predictions against the outcomes reported later",
    "DriftScore": "largest population stability index over the features, live vs the reference sample",
}
LIVE_ROC_AUC, LIVE_ACCURACY, DRIFT_SCORE = MONITOR_METRICS

#: The Bedrock model the optional explanation uses (``LIVEML_ADVISE_BEDROCK_MODEL``).
DEFAULT_BEDROCK_MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"


def bedrock_model_id(explicit: str | None = None) -> str:
    """An explicit model id wins over ``LIVEML_ADVISE_BEDROCK_MODEL``, which wins over the default."""
    return explicit or env("ADVISE_BEDROCK_MODEL") or DEFAULT_BEDROCK_MODEL


#: AWS list prices in USD, us-east-1, x86, as published by AWS in January 2025 (check the current
#: pricing pages before a budget decision; the summary prints this date).
PRICES_AS_OF = "2025-01"
PRICES_REGION = "us-east-1"
PRICES: dict[str, float] = {
    "lambda_request_per_million": 0.20,
    "lambda_gb_second": 0.0000166667,
    "lambda_provisioned_gb_second": 0.0000041667,  # concurrency kept warm, per GB-second
    "lambda_provisioned_duration_gb_second": 0.0000097222,  # duration on provisioned environments
    "eks_cluster_hour": 0.10,
    "fargate_vcpu_hour": 0.04048,
    "fargate_gb_hour": 0.004445,
}
#: API Gateway REST, per million requests a month: (up to this many millions, price), tier by tier.
API_GATEWAY_REST_TIERS = ((333.0, 3.50), (1000.0, 2.80), (20000.0, 2.38), (math.inf, 1.51))
HOURS_PER_MONTH = 730.0
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0


def api_gateway_monthly_usd(requests: float) -> float:
    """REST API requests a month at the tiered price (each tier's price applies to its slice)."""
    millions, cost, below = requests / 1e6, 0.0, 0.0
    for upto, price in API_GATEWAY_REST_TIERS:
        cost += max(0.0, min(millions, upto) - below) * price
        below = upto
    return cost
