"""The SLA spec (``sla.yaml``): what a studio promises its players, in service terms.

Strict like the pipeline settings: an unknown key is a typo, not a silent default, and every error
names its field. Latency is measured where players meet the service (API Gateway's ``Latency`` on
Lambda, the ingress on EKS); availability is the share of requests answered without a 5xx.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from liveml import yamltext
from liveml.advise.errors import SlaError
from liveml.errors import validated


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Latency(_Strict):
    """Latency targets in milliseconds; p99 is required, the others are checked when given."""

    p50: float | None = Field(None, gt=0)
    p95: float | None = Field(None, gt=0)
    p99: float = Field(gt=0, le=30_000)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        given = [
            (n, v) for n, v in (("p50", self.p50), ("p95", self.p95), ("p99", self.p99)) if v is not None
        ]
        for (low_name, low), (high_name, high) in pairwise(given):
            if low > high:
                raise ValueError(f"{low_name} ({low:g} ms) must not exceed {high_name} ({high:g} ms)")
        return self


class Traffic(_Strict):
    """Request rate: the daily mean, the daily peak and how many hours a day the peak lasts."""

    mean_rps: float = Field(gt=0)
    peak_rps: float = Field(gt=0)
    peak_hours: float = Field(4.0, gt=0, le=24)
    #: hour of the day (UTC) the peak starts: provisioned concurrency is scheduled around it
    peak_start_utc: int = Field(18, ge=0, le=23)

    @model_validator(mode="after")
    def _peak_above_mean(self) -> Self:
        if self.peak_rps < self.mean_rps:
            raise ValueError(f"peak_rps ({self.peak_rps:g}) must be at least mean_rps ({self.mean_rps:g})")
        return self


class ErrorBudget(_Strict):
    """The window the availability target is kept over; the budget is the rest of the requests."""

    window_days: int = Field(30, ge=1, le=90)


class Quality(_Strict):
    """When live quality needs attention: drift above ``max_drift``, or live accuracy (and ROC AUC)
    more than ``max_accuracy_loss`` below the holdout's (in absolute points, 0.03 = 3 points)."""

    max_drift: float = Field(0.2, gt=0, le=10)
    max_accuracy_loss: float = Field(0.03, gt=0, lt=1)


class Cost(_Strict):
    max_monthly_usd: float = Field(gt=0)


class Sla(_Strict):
    """One model's service-level agreement."""

    latency_ms: Latency
    traffic: Traffic
    #: percent of requests answered without a server error, over the error budget's window
    availability: float = Field(gt=90, lt=100)
    error_budget: ErrorBudget = Field(default_factory=ErrorBudget)
    quality: Quality = Field(default_factory=Quality)
    cost: Cost

    @property
    def error_budget_fraction(self) -> float:
        """Share of requests allowed to fail in the window (0.001 for 99.9%)."""
        return round(1.0 - self.availability / 100.0, 12)

    @classmethod
    def from_yaml(cls, text: str, *, where: str = "sla.yaml") -> Sla:
        """Parse a spec; errors name the field and why (``SlaError``)."""
        try:
            data: Any = yamltext.safe_load(text)
        except yaml.YAMLError as exc:
            raise SlaError(f"{where} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise SlaError(f"{where} must be a mapping of SLA fields, not {type(data).__name__}")
        return validated(cls, data, SlaError, where, top="(root)")

    @classmethod
    def load(cls, path: str | Path) -> Sla:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SlaError(f"{path}: {exc.strerror}") from None
        return cls.from_yaml(text, where=str(path))
