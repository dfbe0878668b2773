"""Rollouts: bind a model version to a published predict-function version, move the weighted ``live``
alias by strategy (all-at-once blue-green, canary, linear), judge the new version's health, promote or
roll back in one alias call, keep the registry's stages in step, and notify.

    from liveml.rollout import PredictFunction, RolloutSettings, RolloutSteps
    fn = PredictFunction("liveml-PredictFunction-abc")
    fn.route("7", "8", 0.1)            # live: 90% version 7, 10% version 8
    fn.route("7")                      # rollback: 100% version 7, one call

The state machine (``statemachines/rollout.asl.json``) runs ``RolloutSteps``; the CLI drives the
same code (``liveml.rollout.control``). Nothing here imports the serving stack (FastAPI, ONNX Runtime).
"""

from __future__ import annotations

from liveml.rollout.aliases import PredictFunction, Routing
from liveml.rollout.errors import AliasUpdateError, RolloutError, RolloutLockedError, SmokeTestError
from liveml.rollout.settings import Drill, RolloutSettings, Strategy
from liveml.rollout.steps import RolloutSteps, run_step
from liveml.rollout.store import RolloutStore

__all__ = [
    "AliasUpdateError",
    "Drill",
    "PredictFunction",
    "RolloutError",
    "RolloutLockedError",
    "RolloutSettings",
    "RolloutSteps",
    "RolloutStore",
    "Routing",
    "SmokeTestError",
    "Strategy",
    "run_step",
]
