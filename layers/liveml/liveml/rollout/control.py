"""What an operator does to rollouts (`liveml rollout …`): start, status, promote, roll back, abort.

``promote``, ``rollback`` and ``abort`` act at once: they stop the rollout's execution (so it cannot
move ``live`` again) and then run the same steps the state machine would, as the operator.
``rollback`` without a rollout in progress puts the model back on the version its last promoted
rollout replaced — in one alias update when nothing moved since, else by publishing live's binding
with only that model's entry put back — and restores the registry's production pointer to match.
Every other model keeps what it serves.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from liveml.aws import client
from liveml.aws.stepfunctions import ExecutionTimeoutError, wait_for_execution
from liveml.binding import Binding
from liveml.registry import Registry, Stage, StaleStateError
from liveml.rollout.aliases import PredictFunction
from liveml.rollout.errors import RolloutError, RolloutLockedError
from liveml.rollout.settings import RolloutSettings
from liveml.rollout.steps import RolloutSteps
from liveml.rollout.store import RolloutStore


@dataclass
class Controller:
    state_machine_arn: str
    function: PredictFunction
    registry: Registry
    store: RolloutStore
    sfn: Any = None

    def __post_init__(self) -> None:
        self.sfn = self.sfn or client("stepfunctions")

    def steps(self) -> RolloutSteps:
        return RolloutSteps(registry=self.registry, store=self.store, function=self.function)

    # ------------------------------------------------------------------ start
    def start(self, model: str, version: int, settings: dict[str, Any]) -> str:
        """Start a rollout execution; its ARN. Settings are checked here, so a typo fails before starting."""
        version_doc = self.registry.get(model, version)
        RolloutSettings.resolve(version_doc.lineage.settings.get("rollout"), settings)
        # Another rollout moving live (of this model or another) is no reason to refuse: the execution
        # waits for it in Prepare, queued (liveml rollout status shows it).
        name = f"{model}-v{version}-{datetime.now(UTC):%Y%m%dT%H%M%S}"[:80]
        answer = self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=name,
            input=json.dumps({"model": model, "version": version, "settings": settings}),
        )
        return str(answer["executionArn"])

    def wait(self, execution_arn: str, timeout_s: float = 1800) -> dict[str, Any]:
        try:
            wait_for_execution(execution_arn, timeout_s=timeout_s, sfn=self.sfn)
        except ExecutionTimeoutError as exc:
            raise RolloutError(str(exc)) from None
        return dict(self.sfn.describe_execution(executionArn=execution_arn))

    # ------------------------------------------------------------------ status
    @property
    def scope(self) -> str:
        return self.function.lock_scope

    def current(self, model: str) -> dict[str, Any] | None:
        """The record of the model's rollout in progress (None when none is)."""
        held = self.store.holder(self.scope)
        if not held or held["model"] != model:
            return None
        try:
            return self.store.get(model, held["rollout_id"])
        except RolloutError:  # locked a moment ago; its record is written once the version is published
            return {**held, "model": model, "status": "preparing"}

    def status(self, model: str) -> dict[str, Any]:
        routing = self.function.routing()
        history = self.store.history(model)
        production = self.registry.production(model)
        latest = history[0] if history else None
        execution = None
        if latest and str(latest.get("execution", "")).startswith("arn:"):
            try:
                execution = self.sfn.describe_execution(executionArn=latest["execution"])["status"]
            except Exception:  # an execution record may have expired; the rollout record stands
                execution = None
        from liveml.rollout.shadow import Shadow

        shadow = Shadow(self.function, registry=self.registry, table=self.store.table)
        held = self.store.holder(self.scope)
        return {
            "model": model,
            "shadow": {"state": shadow.state(model), "report": shadow.report(model)},
            "live": {"version": routing.version, "extra": routing.extra, "weight": routing.weight},
            "in_progress": held if held and held["model"] == model else None,
            "alias_held_by": held,
            "queued": self.store.queued(model),
            "production": production.version if production else None,
            "latest": latest,
            "execution_status": execution,
            "history": history[:10],
        }

    # ------------------------------------------------------------------ operator actions
    def _stop(self, record: dict[str, Any], why: str) -> None:
        execution = str(record.get("execution", ""))
        if execution.startswith("arn:"):
            with contextlib.suppress(self.sfn.exceptions.ExecutionDoesNotExist):
                self.sfn.stop_execution(executionArn=execution, error="StoppedByOperator", cause=why[:256])

    def _in_progress(self, model: str) -> dict[str, Any]:
        record = self.current(model)
        if record is None:
            raise RolloutError(f"no rollout of {model} is in progress (liveml rollout status {model})")
        if "candidate" not in record:
            raise RolloutError(f"the rollout of {model} has not published its version yet: try again shortly")
        return record

    def promote(self, model: str, by: str = "cli") -> dict[str, Any]:
        """Skip the remaining steps: 100% to the new version now."""
        record = self._in_progress(model)
        self._stop(record, f"promoted by {by}")
        return self.steps().promote(record, by=by)

    def abort(self, model: str, by: str = "cli", reason: str = "") -> dict[str, Any]:
        """Stop the rollout: live back to 100% stable; the version stays approved (a candidate)."""
        record = self._in_progress(model)
        why = reason or f"aborted by {by}"
        self._stop(record, why)
        return self.steps().rollback({**record, "reason": why}, by=by, reject=False, outcome="aborted")

    def rollback(self, model: str, by: str = "cli", reason: str = "") -> dict[str, Any]:
        """live back to the previous version in one alias update, at any time."""
        why = reason or f"rolled back by {by}"
        record = self.current(model)
        if record is not None and "candidate" in record:
            self._stop(record, why)
            return self.steps().rollback({**record, "reason": why}, by=by)
        promoted = next((r for r in self.store.history(model) if r.get("status") == "promoted"), None)
        if promoted is None:
            raise RolloutError(f"{model} has no promoted rollout to roll back")
        rollout_id = f"rollback-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        try:
            self.store.acquire(self.scope, model, rollout_id, int(promoted["version"]), "cli", 600)
        except RolloutLockedError as exc:
            raise RolloutError(f"cannot roll back {model} now: {exc}; wait for it or end it first") from None
        try:
            self._route_model_back(model, promoted)
        finally:
            self.store.release(self.scope, rollout_id)
        self._restore_registry(model, promoted, why, by)
        done = {**promoted, "status": "rolled_back", "reason": why, "percent": 0}
        done["events"] = [*promoted.get("events", []), {"at": datetime.now(UTC).isoformat(), "event": why}]
        self.store.save(done)
        self.steps()._notify(
            done, "rolled_back", f"LiveML: {model} v{promoted['version']} rolled back",
            [f"{by} rolled back model {model} v{promoted['version']}.", f"Why: {why}",
             f"Traffic: live is back at 100% version {promoted['stable']}."],
        )  # fmt: skip
        return done

    def _route_model_back(self, model: str, promoted: dict[str, Any]) -> None:
        """live serves ``model`` as before ``promoted``, every other model as it serves it now."""
        routing = self.function.routing()
        if routing == type(routing)(str(promoted["candidate"])):
            self.function.route(promoted["stable"])  # nothing moved since: the one call that moves traffic
            return
        if routing.split:
            raise RolloutError(f"live is split ({routing}) with no rollout holding it: rollback that first")
        now = self.function.binding_of(routing.version)
        before = self.function.binding_of(str(promoted["stable"]))
        entry = before.get(model) if before else None
        if now is None or entry is None:
            raise RolloutError(f"{model} served nothing before v{promoted['version']}: nothing to go back to")
        binding: Binding = now.with_model(entry)
        version = self.function.publish(binding, description=f"rollback of {model} to {entry.describe()}")
        self.function.route(version)

    def _restore_registry(self, model: str, promoted: dict[str, Any], why: str, by: str) -> None:
        try:
            previous = promoted.get("stable_model_version")
            if previous:
                prev = self.registry.get(model, int(previous))
                if prev.stage is not Stage.PRODUCTION:  # archives the rolled-back version in the same write
                    self.registry.set_stage(model, prev.version, Stage.PRODUCTION, expected=prev.stage, by=by,
                                            reason=why)  # fmt: skip
            bad = self.registry.get(model, int(promoted["version"]))
            if bad.stage is Stage.PRODUCTION:
                self.registry.set_stage(model, bad.version, Stage.ARCHIVED, expected=Stage.PRODUCTION, by=by,
                                        reason=why)  # fmt: skip
            self.registry.revoke(model, bad.version, by=by, reason=why)
        except StaleStateError:
            pass  # the alias is what serves; the registry was changed by someone else meanwhile
