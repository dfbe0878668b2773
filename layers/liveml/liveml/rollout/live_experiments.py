"""A/B experiments running on the live alias, recorded in S3: create, status, conclude. (Their design
and statistics — sample size, tests, verdicts — are ``liveml.experiments``, which this module uses.)

``s3://<artifacts>/experiments/<name>/experiment.yaml`` is the design (``liveml.experiments.Experiment``),
``state.json`` beside it what was done: the function version(s) serving it, the version ``live``
pointed at before, status and winner. Two modes:

* ``sticky`` (default): one function version binds every variant with the experiment's salt; the
  predict function assigns each player a variant from a stable hash, so a player keeps theirs.
* ``alias``: one function version per variant and ``live``'s weights split requests at random —
  not sticky, for when stickiness does not matter (and at most two variants).

Either way every other model keeps the binding it had: only the experiment's model changes.

``conclude`` rolls the winner out through the rollout state machine (smoke test, canary, checks).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from liveml.aws import client
from liveml.binding import Binding, ModelBinding
from liveml.binding.build import experiment_binding, single_binding
from liveml.config import Settings
from liveml.registry import Approval, ModelVersion, Registry
from liveml.rollout.aliases import PredictFunction
from liveml.rollout.errors import RolloutError
from liveml.rollout.store import RolloutStore

if TYPE_CHECKING:
    from liveml.experiments import Experiment
    from liveml.rollout.control import Controller

PREFIX = "experiments"


class ExperimentRegistry:
    def __init__(
        self,
        function: PredictFunction,
        *,
        registry: Registry | None = None,
        bucket: str | None = None,
        s3: Any = None,
        store: RolloutStore | None = None,
    ) -> None:
        self.function = function
        self.registry = registry or Registry()
        self.bucket = bucket or Settings().require("artifacts_bucket")
        self._s3 = s3 or client("s3")
        self.store = store or RolloutStore()

    def _key(self, name: str, file: str) -> str:
        return f"{PREFIX}/{name}/{file}"

    def state(self, name: str) -> dict[str, Any]:
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=self._key(name, "state.json"))["Body"].read()
        except self._s3.exceptions.NoSuchKey:
            raise RolloutError(f"no experiment {name!r} (liveml experiment create)") from None
        state: dict[str, Any] = json.loads(body)
        return state

    def _save(self, state: dict[str, Any]) -> None:
        state["updated_at"] = datetime.now(UTC).isoformat()
        self._s3.put_object(
            Bucket=self.bucket,
            Key=self._key(state["name"], "state.json"),
            Body=json.dumps(state, indent=1).encode(),
        )

    def create(self, experiment: Experiment, design_yaml: str, *, mode: str = "sticky") -> dict[str, Any]:
        """Publish the experiment's binding and point ``live`` at it; the state (plan included)."""
        try:
            existing = self.state(experiment.name)
        except RolloutError:
            existing = None
        if existing and existing.get("status") == "running":
            raise RolloutError(f"experiment {experiment.name!r} is already running")
        versions = {v: self.registry.get(experiment.model, int(n)) for v, n in experiment.variants.items()}
        for variant, version in versions.items():
            if version.approval is not Approval.APPROVED:
                raise RolloutError(
                    f"variant {variant}: {version.model} v{version.version} is {version.approval}"
                )
        first = min(v.version for v in versions.values())
        with self.store.holding(self.function.lock_scope, experiment.model, first, "experiment"):
            state = self._route(experiment, versions, mode)
            self._s3.put_object(
                Bucket=self.bucket,
                Key=self._key(experiment.name, "experiment.yaml"),
                Body=design_yaml.encode(),
            )
            self._save(state)
        return state

    def _route(self, experiment: Experiment, versions: dict[str, ModelVersion], mode: str) -> dict[str, Any]:
        """Publish the experiment's versions and point ``live`` at them; the experiment's state."""
        routing = self.function.routing()
        if routing.split:
            raise RolloutError("live is split between two versions (a rollout?): finish it first")
        description = f"experiment {experiment.name}"
        stable = self.function.binding_of(routing.version)

        def beside_others(model: ModelBinding) -> Binding:
            return stable.with_model(model) if stable else Binding.one(model)

        if mode == "sticky":
            model = experiment_binding(versions, experiment.split, name=experiment.name, salt=experiment.salt)
            serving = [self.function.publish(beside_others(model), description=model.describe())]
            self.function.route(serving[0])
        elif mode == "alias":
            if len(versions) != 2:
                raise RolloutError("alias mode splits between exactly two variants")
            serving = [
                self.function.publish(beside_others(single_binding(v)), description=f"{description}: {name}")
                for name, v in versions.items()
            ]
            self.function.route(serving[0], serving[1], experiment.split[experiment.treatment])
        else:
            raise RolloutError(f"mode must be sticky or alias, not {mode!r}")
        return {
            "name": experiment.name,
            "model": experiment.model,
            "mode": mode,
            "status": "running",
            "variants": experiment.variants,
            "split": experiment.split,
            "serving_versions": serving,
            "previous_version": routing.version,
            "required_per_variant": experiment.required_sample_size(),
            "created_at": datetime.now(UTC).isoformat(),
        }

    def status(self, name: str) -> dict[str, Any]:
        state = self.state(name)
        routing = self.function.routing()
        state["live"] = {"version": routing.version, "extra": routing.extra, "weight": routing.weight}
        state["live_serves_it"] = routing.version in state["serving_versions"]
        return state

    def conclude(
        self, name: str, winner: str, controller: Controller, settings: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Roll the winning variant's model version out; the experiment ends (its state says how)."""
        state = self.state(name)
        if state.get("status") != "running":
            raise RolloutError(f"experiment {name!r} is {state.get('status')}, not running")
        if winner not in state["variants"]:
            raise RolloutError(f"winner must be one of {sorted(state['variants'])}, not {winner!r}")
        version = int(state["variants"][winner])
        if state["mode"] == "alias":
            with self.store.holding(self.function.lock_scope, state["model"], version, "experiment"):
                self.function.route(state["serving_versions"][0])  # a rollout starts from an unsplit alias
        execution = controller.start(state["model"], version, settings or {})
        state.update(status="concluded", winner=winner, rollout_execution=execution)
        self._save(state)
        return state
