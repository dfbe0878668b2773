"""The experiment definition and the sample size it needs, computed before any player is assigned.

Per-variant sample size for a two-sided test of ``B - A = delta`` at level ``alpha`` with ``power``:

    n_A = (z_{1-alpha/2} + z_{power})^2 * (var_A + var_B / r) / delta^2,    n_B = r * n_A,

with ``r = split_B / split_A``; ``var = p (1 - p)`` for a rate (``p_A`` = baseline, ``p_B`` = baseline +
MDE: the unpooled two-proportion formula), ``var = std^2`` in both arms for a mean (two-sample z). With
``looks > 1`` the group-sequential design (see :mod:`liveml.experiments.sequential`) multiplies it by
its inflation factor, so that stopping early at an O'Brien-Fleming boundary costs no power.
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from liveml import yamltext
from liveml.binding.assignment import validate_split
from liveml.binding.constants import BUCKETS
from liveml.binding.errors import BindingError
from liveml.errors import field_problems
from liveml.experiments.errors import ExperimentError
from liveml.experiments.sequential import boundaries, equal_fractions, inflation_factor


class MetricKind(StrEnum):
    RATE = "rate"  # a 0/1 outcome per player: day-1 retention, purchase
    MEAN = "mean"  # a continuous outcome per player: session length, spend


class Aggregate(StrEnum):
    """How several outcome rows of one player become the player's single value (the player is the unit)."""

    MAX = "max"
    SUM = "sum"
    MEAN = "mean"
    FIRST = "first"
    LAST = "last"


class Metric(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: MetricKind
    baseline: float = Field(description="expected rate (rate) or mean (mean) of the control variant")
    mde: float = Field(gt=0, description="minimum detectable effect, absolute: rate points or metric units")
    std: float | None = Field(None, gt=0, description="per-player standard deviation (mean metrics)")
    higher_is_better: bool = True
    aggregate: Aggregate | None = Field(None, description="default: max for rates, mean for means")
    missing_as_zero: bool | None = Field(
        None,
        description="an assigned player without outcomes counts as 0 (default for rates: no conversion) "
        "or is left out (default for means: no session, no length)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind is MetricKind.RATE:
            if not 0 < self.baseline < 1:
                raise ValueError(f"a rate's baseline must be in (0, 1), got {self.baseline}")
            if self.baseline + self.mde >= 1:
                raise ValueError(f"baseline + mde must stay below 1, got {self.baseline} + {self.mde}")
        elif self.std is None:
            raise ValueError("a mean metric needs the baseline per-player standard deviation `std`")
        return self

    @property
    def aggregation(self) -> Aggregate:
        if self.aggregate is not None:
            return self.aggregate
        return Aggregate.MAX if self.kind is MetricKind.RATE else Aggregate.MEAN

    @property
    def fills_missing(self) -> bool:
        return self.kind is MetricKind.RATE if self.missing_as_zero is None else self.missing_as_zero

    def variances(self) -> tuple[float, float]:
        """Per-player variance of A and of B under the planned effect."""
        if self.kind is MetricKind.RATE:
            pa, pb = self.baseline, self.baseline + self.mde
            return pa * (1 - pa), pb * (1 - pb)
        assert self.std is not None
        return self.std**2, self.std**2


class SampleSizePlan(BaseModel):
    """What an experiment needs, shown up front."""

    model_config = ConfigDict(frozen=True)

    fixed_horizon: dict[str, int] = Field(description="per variant, for one look at the end")
    per_variant: dict[str, int] = Field(description="per variant at the final look (inflated for looks)")
    total: int
    inflation: float
    looks: list[int] = Field(description="total players enrolled at each planned look")
    boundaries: list[float] = Field(description="|z| needed to stop at each look")


class Experiment(BaseModel):
    """An A/B test of two model versions on one primary metric. The first variant is the control (A)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    model: str = Field(min_length=1)
    variants: dict[str, str] = Field(description="variant name -> model version; first is control A")
    split: dict[str, float] = Field(description="variant name -> share of players, summing to 1")
    salt: str = Field(min_length=1)
    metric: Metric
    alpha: float = Field(0.05, gt=0, lt=0.5)
    power: float = Field(0.8, gt=0.5, lt=1)
    looks: int = Field(1, ge=1, le=20, description="planned analyses; 1 = fixed horizon only")
    srm_threshold: float = Field(0.001, gt=0, lt=1, description="p below this flags a sample-ratio mismatch")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(self.variants) != 2:
            # Several arms need a multiple-comparison correction the verdict does not make.
            raise ValueError(f"an experiment has exactly two variants (A, B), got {list(self.variants)}")
        if set(self.split) != set(self.variants):
            raise ValueError(f"split names {sorted(self.split)} but variants are {sorted(self.variants)}")
        if any(share <= 0 for share in self.split.values()):
            raise ValueError(f"every variant needs a positive share, got {self.split}")
        total = sum(self.split.values())
        if abs(total - 1) > 1e-9:
            raise ValueError(f"split must sum to 1, got {total:g} from {self.split}")
        off_grid = [
            v for v, share in self.split.items() if abs(share * BUCKETS - round(share * BUCKETS)) > 1e-6
        ]
        if off_grid:
            # Assignment hashes into 10,000 buckets: a finer share could not be served as planned.
            raise ValueError(f"split must be whole basis points (0.0001), got {self.split}")
        try:
            validate_split(self.split_bp())
        except BindingError as exc:
            raise ValueError(f"split must be whole basis points (0.0001) summing to 1: {exc}") from None
        return self

    @classmethod
    def parse(cls, data: Any) -> Experiment:
        """Validate a mapping, raising :class:`ExperimentError` naming every bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ExperimentError(f"invalid experiment: {field_problems(exc, top='experiment')}") from None

    @classmethod
    def from_yaml(cls, path: Path) -> Experiment:
        try:
            data = yamltext.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ExperimentError(f"cannot read experiment {path}: {exc}") from None
        return cls.parse(data)

    @property
    def control(self) -> str:
        return next(iter(self.variants))

    @property
    def treatment(self) -> str:
        return list(self.variants)[1]

    def split_bp(self) -> list[tuple[str, int]]:
        """The split in the basis points :mod:`liveml.binding.assignment` hashes into, in variant order."""
        return [(name, round(self.split[name] * BUCKETS)) for name in self.variants]

    def fractions(self) -> tuple[float, ...]:
        return equal_fractions(self.looks)

    def boundaries(self) -> tuple[float, ...]:
        return boundaries(self.fractions(), self.alpha)

    def required_sample_size(self) -> dict[str, int]:
        """Players per variant needed at the final look for ``power`` against the MDE."""
        return self.plan().per_variant

    def plan(self) -> SampleSizePlan:
        return plan_sample_size(
            self.metric, self.alpha, self.power, self.split[self.control], self.split[self.treatment],
            names=(self.control, self.treatment), looks=self.looks,
        )  # fmt: skip


def plan_sample_size(
    metric: Metric,
    alpha: float = 0.05,
    power: float = 0.8,
    share_a: float = 0.5,
    share_b: float = 0.5,
    *,
    names: tuple[str, str] = ("A", "B"),
    looks: int = 1,
) -> SampleSizePlan:
    """The per-variant sample size of the module docstring, and the looks of a sequential design."""
    from scipy import stats  # heavy: only when planning

    var_a, var_b = metric.variances()
    ratio = share_b / share_a
    z = float(stats.norm.isf(alpha / 2) + stats.norm.ppf(power))
    n_a = z**2 * (var_a + var_b / ratio) / metric.mde**2
    fractions = equal_fractions(looks)
    inflation = inflation_factor(fractions, alpha, power)
    fixed = {names[0]: math.ceil(n_a), names[1]: math.ceil(n_a * ratio)}
    per_variant = {names[0]: math.ceil(n_a * inflation), names[1]: math.ceil(n_a * ratio * inflation)}
    # Total enrolment at which each variant reaches its need in expectation.
    total = max(math.ceil(per_variant[names[0]] / share_a), math.ceil(per_variant[names[1]] / share_b))
    return SampleSizePlan(
        fixed_horizon=fixed,
        per_variant=per_variant,
        total=total,
        inflation=inflation,
        looks=[math.ceil(total * t - 1e-9) for t in fractions],
        boundaries=list(boundaries(fractions, alpha)),
    )
