"""How a rollout runs: strategy, steps, bake and check timing, health thresholds.

Sources, explicit first: the rollout request (CLI options, or the state machine's input), the model's
``rollout:`` block in ``datasets/<model>/liveml.yaml`` (recorded in the version's lineage), then the
stack's ``LIVEML_ROLLOUT_*`` defaults. Times go down to seconds so tests can bake briefly.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from liveml.binding.constants import ROLLOUT_DEFAULTS
from liveml.binding.environment import read
from liveml.errors import field_problems
from liveml.rollout.errors import RolloutError


class Strategy(StrEnum):
    ALL_AT_ONCE = "all-at-once"  # blue-green: green takes 100% after its smoke test, blue stays for rollback
    CANARY = "canary"  # percent for bake_s, then 100%
    LINEAR = "linear"  # step_percent more after each bake_s (the interval), then 100%


class Drill(BaseModel):
    """Faults injected into the new version only, to rehearse an automatic rollback (game days, tests)."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int = Field(0, ge=0, le=10_000)


class RolloutSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: false: a ModelApproved event does not start a rollout for this model (the CLI still can).
    auto: bool = True
    strategy: Strategy = Strategy.CANARY
    percent: int = Field(10, ge=1, le=99, description="canary share of requests, percent")
    step_percent: int = Field(25, ge=1, le=99, description="linear: more traffic per step, percent")
    bake_s: int = Field(300, ge=0, le=86_400, description="time at each traffic step before moving on")
    check_every_s: int = Field(60, ge=1, le=3_600, description="health checks during a bake")
    #: Health thresholds of the new version.
    max_error_rate: float = Field(0.01, ge=0, le=1)
    max_p99_ms: float = Field(1_000, gt=0)
    #: Total variation distance between predicted-class shares on probe rows and on the holdout.
    max_class_shift: float = Field(0.25, gt=0, le=1)
    probe_requests: int = Field(40, ge=1, le=500)
    drill: Drill | None = None

    @model_validator(mode="after")
    def _bake_fits_checks(self) -> RolloutSettings:
        self.check_every_s = min(self.check_every_s, max(self.bake_s, 1))
        return self

    @classmethod
    def resolve(cls, *layers: dict[str, Any] | None) -> RolloutSettings:
        """Stack defaults (environment), then each layer in order; a later layer wins field by field."""
        import json

        merged: dict[str, Any] = {}
        raw = read(ROLLOUT_DEFAULTS)
        if raw:
            try:
                merged.update(json.loads(raw))
            except ValueError:
                raise RolloutError(f"{ROLLOUT_DEFAULTS} is not a JSON object") from None
        for layer in layers:
            merged.update({k: v for k, v in (layer or {}).items() if v is not None})
        try:
            return cls.model_validate(merged)
        except ValidationError as exc:
            raise RolloutError(f"invalid rollout settings: {field_problems(exc, top='(root)')}") from None

    def schedule(self) -> list[int]:
        """Traffic percentages to the new version, step by step, before the promotion to 100%."""
        if self.strategy is Strategy.ALL_AT_ONCE:
            return [100]
        if self.strategy is Strategy.CANARY:
            return [self.percent]
        return list(range(self.step_percent, 100, self.step_percent))
