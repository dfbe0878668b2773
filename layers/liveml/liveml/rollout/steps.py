"""The rollout state machine's steps (``statemachines/rollout.asl.json``), one method each.

The execution carries a small ``rollout`` document (ids, versions, schedule, position, last check);
each step takes it and returns the next one. Model files stay in S3; nothing big passes through.

    Prepare -> Smoke -> Shift -> Bake (Wait) -> Check -> (Bake | Shift | Promote | Rollback)

Failures raise typed errors; the state machine's ``Catch`` sends them to ``rollback`` (which puts
``live`` back on the stable version if it moved, rejects the version, and says why) or, before
anything was locked, to ``refused``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from liveml.aws import client
from liveml.binding import Binding
from liveml.binding import build as bindings
from liveml.binding.constants import DRILL_LATENCY_MS, PREDICT_ALIAS, PREDICT_FUNCTION
from liveml.binding.environment import read
from liveml.errors import catch_reason
from liveml.modeldir import GOLDEN_REQUESTS, HOLDOUT_ROWS, MANIFEST
from liveml.registry import Approval, ModelVersion, Registry, Stage, StaleStateError
from liveml.rollout import health, notify
from liveml.rollout.aliases import PredictFunction, Routing
from liveml.rollout.artifacts import read_model_file, read_model_json
from liveml.rollout.errors import RolloutError, RolloutLockedError
from liveml.rollout.probe import probe, smoke_test
from liveml.rollout.settings import RolloutSettings
from liveml.rollout.store import RolloutStore

log = logging.getLogger(__name__)

BY = "rollout"
#: The lock outlives a crashed rollout by this much beyond its longest possible run.
LOCK_MARGIN_S = 3600


def _now() -> str:
    return datetime.now(UTC).isoformat()


class RolloutSteps:
    """The steps, with their ports (tests pass fakes; defaults are the stack's resources)."""

    def __init__(
        self,
        *,
        registry: Registry | None = None,
        store: RolloutStore | None = None,
        function: PredictFunction | None = None,
        sns: Any = None,
        cloudwatch: Any = None,
        s3: Any = None,
    ) -> None:
        self.registry = registry or Registry()
        self.store = store or RolloutStore()
        name = read(PREDICT_FUNCTION)
        if function is None and not name:
            raise RolloutError(f"{PREDICT_FUNCTION} is not set")
        self.function = function or PredictFunction(str(name), read(PREDICT_ALIAS, "live") or "live")
        self._sns = sns
        self._cloudwatch = cloudwatch
        self._s3 = s3

    @property
    def scope(self) -> str:
        return self.function.lock_scope

    # ------------------------------------------------------------------ Prepare
    def prepare(self, request: dict[str, Any], execution: str = "cli") -> dict[str, Any]:
        """Lock the alias, check, bind and publish. Input: ``{"model", "version", "settings"?}`` or an
        EventBridge ``ModelApproved`` event. ``{"skipped": true, ...}`` when the model opted out of
        automatic rollouts or a newer approved version supersedes this one. ``RolloutLockedError`` when
        another rollout moves the alias: the state machine retries (the wait shows in the queue)."""
        trigger = "cli"
        if "detail" in request and "detail-type" in request:
            trigger, request = str(request["detail-type"]), dict(request["detail"])
        try:
            model, number = str(request["model"]), int(request["version"])
        except (KeyError, TypeError, ValueError):
            raise RolloutError("a rollout needs a model name and an integer version") from None
        version = self.registry.get(model, number)
        settings = RolloutSettings.resolve(version.lineage.settings.get("rollout"), request.get("settings"))
        if trigger != "cli" and not settings.auto:
            return {"skipped": True, "model": model, "version": number, "reason": "rollout.auto is false"}
        over = (
            version.stage in (Stage.PRODUCTION, Stage.ARCHIVED) or version.approval is not Approval.APPROVED
        )
        if trigger != "cli" and over:
            # EventBridge delivers at least once: a repeated event finds its version's rollout over.
            why = f"v{number} is {version.stage.value} and {version.approval.value}: nothing to roll out"
            return {"skipped": True, "model": model, "version": number, "reason": why}
        rollout_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        longest = (settings.bake_s + 120) * (len(settings.schedule()) + 1)
        try:
            self.store.acquire(self.scope, model, rollout_id, number, execution, longest + LOCK_MARGIN_S)
        except RolloutLockedError:
            self.store.enqueue(model, number, execution, self.store.holder(self.scope) or {})
            raise
        try:
            self.store.dequeue(model, number)
            newer = self._newer_approved(version)
            if newer is not None:
                return self._supersede(version, newer, rollout_id)
            return self._prepare_locked(version, settings, rollout_id, execution, trigger)
        except Exception:
            self.store.release(self.scope, rollout_id)
            raise

    def _newer_approved(self, version: ModelVersion) -> ModelVersion | None:
        """The newest approved version of the model above ``version`` that is still in the running."""
        newer = [
            v
            for v in self.registry.versions(version.model)
            if v.version > version.version
            and v.approval is Approval.APPROVED
            and v.stage is not Stage.ARCHIVED
        ]
        return max(newer, key=lambda v: v.version, default=None)

    def _supersede(self, version: ModelVersion, newer: ModelVersion, rollout_id: str) -> dict[str, Any]:
        """A newer approved version waits or serves: this one is archived, saying by which."""
        model, number = version.model, version.version
        why = f"superseded by v{newer.version}, approved while v{number} waited for its rollout"
        try:
            if version.stage is not Stage.PRODUCTION:
                self.registry.set_stage(
                    model, number, Stage.ARCHIVED, expected=version.stage, by=BY, reason=why
                )
        except StaleStateError as exc:
            log.warning("%s v%s not archived: %s", model, number, exc)
        self.store.release(self.scope, rollout_id)
        return {
            "skipped": True,
            "model": model,
            "version": number,
            "superseded_by": newer.version,
            "reason": why,
        }

    def _prepare_locked(
        self, version: ModelVersion, settings: RolloutSettings, rollout_id: str, execution: str, trigger: str
    ) -> dict[str, Any]:
        model, number = version.model, version.version
        if version.approval is not Approval.APPROVED:
            raise RolloutError(f"{model} v{number} is {version.approval}: only an approved version rolls out")
        routing = self.function.routing()
        if routing.split:
            raise RolloutError(
                f"{self.function.function}:{self.function.alias} is split between versions {routing.version} "
                f"and {routing.extra} with no rollout holding it: `liveml rollout rollback` resets it"
            )
        stable = routing.version
        served = self.function.binding_of(stable)
        current = served.get(model) if served else None
        if current is not None and current.experiment is None and current.versions == [str(number)]:
            raise RolloutError(f"{model} v{number} already serves from version {stable}: nothing to roll out")
        new = bindings.single_binding(version)
        binding = served.with_model(new) if served else Binding.one(new)
        schedule = settings.schedule()
        if current is None:
            # Nothing serves this model yet: a canary would send most of its requests to "no such model".
            schedule = [100]
        extra_env = {}
        if settings.drill and settings.drill.latency_ms:
            extra_env[DRILL_LATENCY_MS] = str(settings.drill.latency_ms)
        description = f"{new.describe()} (rollout {rollout_id})"
        candidate = self.function.publish(binding, description=description, extra_env=extra_env)
        if version.stage is not Stage.PRODUCTION:
            self.registry.set_stage(
                model, number, Stage.STAGING, expected=version.stage, by=BY, reason=f"rollout {rollout_id}"
            )
        state: dict[str, Any] = {
            "rollout_id": rollout_id,
            "model": model,
            "version": number,
            "function": self.function.function,
            "alias": self.function.alias,
            "stable": stable,
            "stable_model_version": current.variants[0].version if current else None,
            "candidate": candidate,
            "settings": settings.model_dump(mode="json"),
            "schedule": schedule,
            "first": current is None,
            "step": 0,
            "percent": 0,
            "wait_s": settings.check_every_s,
            "checks": 0,
            "execution": execution,
            "trigger": trigger,
            "started_at": _now(),
            "status": "smoke_testing",
            "events": [{"at": _now(), "event": f"published version {candidate}: {binding.describe()}"}],
        }
        self.store.save(state)
        return state

    # ------------------------------------------------------------------ Smoke
    def smoke(self, state: dict[str, Any]) -> dict[str, Any]:
        version = self.registry.get(state["model"], state["version"])
        golden = read_model_json(version, GOLDEN_REQUESTS, s3=self._s3)
        result = smoke_test(self.function, state["candidate"], golden, state["model"])
        return self._event(
            state,
            f"smoke test passed: {result['golden_requests']} golden requests",
            status="shifting",
            smoke=result,
        )

    # ------------------------------------------------------------------ Shift
    def shift(self, state: dict[str, Any]) -> dict[str, Any]:
        percent = int(state["schedule"][state["step"]])
        self.function.route(
            state["stable"], state["candidate"], percent / 100, revision=state.get("alias_revision")
        )
        settings = RolloutSettings.model_validate(state["settings"])
        return self._event(
            state,
            f"live: {percent}% to version {state['candidate']}",
            status="baking",
            percent=percent,
            bake_started=time.time(),
            wait_s=min(settings.check_every_s, max(settings.bake_s, 1)),
            verdict="bake",
            alias_revision=self.function.revision,
        )

    # ------------------------------------------------------------------ Check
    def check(self, state: dict[str, Any]) -> dict[str, Any]:
        settings = RolloutSettings.model_validate(state["settings"])
        version = self.registry.get(state["model"], state["version"])
        manifest = read_model_json(version, MANIFEST, s3=self._s3)
        rows = self._probe_rows(version, settings.probe_requests)
        probed = probe(self.function, state["candidate"], rows, state["model"])
        since = datetime.fromtimestamp(float(state.get("bake_started", time.time())), UTC)
        traffic = health.traffic_metrics(self._cw(), state["model"], str(state["version"]), since)
        verdict = health.judge(settings, probed, health.holdout_class_shares(manifest), traffic)
        state = {**state, "checks": int(state.get("checks", 0)) + 1, "health": verdict.to_dict()}
        if not verdict.healthy:
            why = "; ".join(verdict.reasons)
            return self._event(state, f"health check failed: {why}", verdict="rollback", reason=why)
        elapsed = time.time() - float(state["bake_started"])
        remaining = settings.bake_s - elapsed
        if remaining >= 1:
            return self._event(
                state, f"healthy at {state['percent']}%", verdict="bake",
                wait_s=int(max(1, min(settings.check_every_s, remaining))),
            )  # fmt: skip
        if state["step"] + 1 < len(state["schedule"]):
            return self._event(state, f"healthy after the bake at {state['percent']}%", verdict="next",
                               step=state["step"] + 1)  # fmt: skip
        return self._event(state, f"healthy after the bake at {state['percent']}%", verdict="promote")

    def _probe_rows(self, version: ModelVersion, n: int) -> list[dict[str, Any]]:
        if HOLDOUT_ROWS in version.artifacts:
            text = read_model_file(version, HOLDOUT_ROWS, s3=self._s3).decode()
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            if rows:
                manifest = read_model_json(version, MANIFEST, s3=self._s3)
                keep = set(manifest.get("feature_order") or rows[0]) | {manifest.get("event_time")}
                return [{k: v for k, v in r.items() if k in keep} for r in rows[:n]]
        golden = read_model_json(version, GOLDEN_REQUESTS, s3=self._s3)
        return [r["features"] for r in golden["requests"]][:n]

    # ------------------------------------------------------------------ Promote
    def promote(self, state: dict[str, Any], *, by: str = BY) -> dict[str, Any]:
        self.function.route(state["candidate"], revision=state.get("alias_revision"))
        model, number = state["model"], state["version"]
        current = self.registry.get(model, number)
        if current.stage is not Stage.PRODUCTION:
            self.registry.set_stage(
                model,
                number,
                Stage.PRODUCTION,
                expected=current.stage,
                by=by,
                reason=f"rollout {state['rollout_id']}",
            )
        state = self._event(
            state, f"promoted: live is 100% version {state['candidate']}", status="promoted",
            percent=100, finished_at=_now(), alias_revision=self.function.revision,
        )  # fmt: skip
        self.store.release(self.scope, state["rollout_id"])
        previous = f"v{state['stable_model_version']}" if state.get("stable_model_version") else "nothing"
        self._notify(
            state, "promoted", f"LiveML: {model} v{number} promoted",
            [
                f"Model {model} v{number} is in production: {state['function']}:{state['alias']} serves "
                f"version {state['candidate']} to 100% of requests (it replaced {previous}).",
                f"Strategy: {state['settings']['strategy']} {state['schedule']}, "
                f"{state.get('checks', 0)} health checks passed.",
                f"Rollback: liveml rollout rollback {model}  (back to version {state['stable']})",
            ],
        )  # fmt: skip
        return state

    # ------------------------------------------------------------------ Rollback
    def rollback(
        self,
        state: dict[str, Any],
        error: dict[str, Any] | None = None,
        *,
        by: str = BY,
        reject: bool = True,
        outcome: str = "rolled_back",
    ) -> dict[str, Any]:
        """``live`` back to 100% stable in one call (if it moved), the version rejected, the lock released,
        and a notification saying why."""
        why = state.get("reason") or catch_reason(error) or "rolled back"
        routing = self.function.routing()
        moved = routing != Routing(state["stable"])
        if moved:
            self._route_back(state, routing)
        elif outcome == "rolled_back":
            outcome = "stopped"  # caught before any traffic moved (the smoke test)
        model, number = state["model"], state["version"]
        if reject:
            self._reject(model, number, why, by)
        else:
            self._restage(model, number, Stage.CANDIDATE, why, by)
        traffic = f"live is back at 100% version {state['stable']}" if moved else "no traffic had moved"
        state = self._event(state, f"{outcome}: {traffic}: {why}", status=outcome, reason=why,
                            percent=0, finished_at=_now())  # fmt: skip
        self.store.release(self.scope, state["rollout_id"])
        verdict = "rejected" if reject else "left a candidate"
        self._notify(
            state, outcome, f"LiveML: {model} v{number} {outcome.replace('_', ' ')}",
            [
                f"The rollout of model {model} v{number} was {outcome.replace('_', ' ')} by {by}.",
                f"Why: {why}",
                f"Traffic: {traffic} ({state['function']}:{state['alias']}).",
                f"Registry: v{number} is {verdict}.",
                f"Rollout {state['rollout_id']}, execution {state.get('execution')}",
            ],
        )  # fmt: skip
        return state

    def refused(self, request: dict[str, Any], error: dict[str, Any] | None) -> dict[str, Any]:
        """Prepare failed (locked, not approved, bad input): nothing moved; say why."""
        if "detail" in request:
            request = request["detail"]
        model = str(request.get("model", "?"))
        why = catch_reason(error)
        return notify.publish(
            model, "refused", f"LiveML: rollout of {model} v{request.get('version', '?')} not started",
            [f"The rollout of model {model} v{request.get('version', '?')} did not start.", f"Why: {why}",
             "Nothing changed: live serves what it served."],
            sns=self._sns,
        )  # fmt: skip

    def rollback_failed(self, state: dict[str, Any], error: dict[str, Any] | None) -> dict[str, Any]:
        """The Rollback step itself failed: say so loudly, with where live's traffic stands now."""
        try:
            routing = self.function.routing()
            where = f"version {routing.version} {1 - routing.weight:.0%}" + (
                f", version {routing.extra} {routing.weight:.0%}" if routing.split else ""
            )
        except Exception as exc:  # the alias cannot even be read: say that
            where = f"unknown ({exc})"
        model = state.get("model", "?")
        return notify.publish(
            model, "rollback_failed", f"LiveML: rollback of {model} v{state.get('version', '?')} FAILED",
            [f"The rollback of model {model} v{state.get('version', '?')} failed: {catch_reason(error)}",
             f"live is still split: {where} ({state.get('function')}:{state.get('alias')}).",
             f"Fix it by hand: liveml rollout rollback {model}  (back to version {state.get('stable')})",
             f"Rollout {state.get('rollout_id')}, execution {state.get('execution')}"],
            sns=self._sns,
        )  # fmt: skip

    # ------------------------------------------------------------------ helpers
    def _route_back(self, state: dict[str, Any], routing: Routing) -> None:
        """live back to 100% stable, unless someone moved it since this rollout did (it is theirs then)."""
        if state["candidate"] not in (routing.version, routing.extra):
            log.warning("live no longer routes to version %s: leaving it as it is", state["candidate"])
            return
        self.function.route(state["stable"])

    def _reject(self, model: str, number: int, why: str, by: str) -> None:
        try:
            current = self.registry.get(model, number)
            if current.approval is Approval.APPROVED and current.stage is not Stage.PRODUCTION:
                self.registry.revoke(model, number, by=by, reason=why[:500])
            self._restage(model, number, Stage.ARCHIVED, why, by)
        except StaleStateError as exc:  # the registry moved meanwhile: the alias is what matters now
            log.warning("registry not updated for %s v%s: %s", model, number, exc)

    def _restage(self, model: str, number: int, stage: Stage, why: str, by: str) -> None:
        current = self.registry.get(model, number)
        if current.stage is Stage.STAGING:
            self.registry.set_stage(model, number, stage, expected=Stage.STAGING, by=by, reason=why[:500])

    def _event(self, state: dict[str, Any], text: str, **fields: Any) -> dict[str, Any]:
        events = [*state.get("events", []), {"at": _now(), "event": text}][-50:]
        state = {**state, **fields, "events": events}
        self.store.save(state)
        return state

    def _notify(self, state: dict[str, Any], outcome: str, subject: str, lines: list[str]) -> None:
        notify.publish(state["model"], outcome, subject, lines, sns=self._sns)

    def _cw(self) -> Any:
        if self._cloudwatch is None:
            self._cloudwatch = client("cloudwatch")
        return self._cloudwatch


def run_step(action: str, event: dict[str, Any]) -> dict[str, Any]:
    """The rollout function's dispatch: ``{"action", "rollout" | "request", "error"?, "execution"?}``."""
    steps = RolloutSteps()
    if action == "prepare":
        return steps.prepare(event["request"], str(event.get("execution", "cli")))
    if action == "refused":
        return steps.refused(event.get("request", {}), event.get("error"))
    state = event["rollout"]
    if action == "smoke":
        return steps.smoke(state)
    if action == "shift":
        return steps.shift(state)
    if action == "check":
        return steps.check(state)
    if action == "promote":
        return steps.promote(state)
    if action == "rollback":
        return steps.rollback(state, event.get("error"))
    if action == "rollback_failed":
        return steps.rollback_failed(state, event.get("error"))
    raise RolloutError(f"unknown rollout action {action!r}")


__all__ = ["RolloutSteps", "run_step"]
