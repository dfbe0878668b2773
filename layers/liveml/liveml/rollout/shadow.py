"""Shadow mode: a candidate scores a sample of live requests in the background; players never see it.

    start(model, version, rate)   publish the candidate (its own binding) and a copy of the stable
                                  version that tees ``rate`` of answered /predict requests to the shadow
                                  queue; live moves to that copy (one alias update; stop moves it back)
    consume(messages)             the shadow function: invoke the candidate version directly with each
                                  request, compare with the player's answer, count in the registry table
    report(model)                 agreement, errors and latency per candidate

Counters (``MODEL#<name>`` / ``SHADOW#<candidate function version>``) use DynamoDB ``ADD``, so
concurrent consumers never lose a count. Latency is kept as a histogram (upper bounds in ms).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from liveml.aws import client
from liveml.binding.build import single_binding
from liveml.binding.constants import SHADOW
from liveml.config import Settings
from liveml.registry import Registry
from liveml.rollout.aliases import PredictFunction
from liveml.rollout.errors import RolloutError
from liveml.rollout.probe import api_event, predict_path
from liveml.rollout.store import RolloutStore

STATE = "SHADOW#STATE"
BUCKETS_MS = (10, 25, 50, 100, 250, 500, 1000, 2500)


class Shadow:
    def __init__(
        self,
        function: PredictFunction,
        *,
        registry: Registry | None = None,
        table: str | None = None,
        dynamodb: Any = None,
    ) -> None:
        self.function = function
        self.registry = registry
        self.table = table or Settings().require("registry_table")
        self._db = dynamodb or client("dynamodb")
        self.store = RolloutStore(self.table, dynamodb=self._db)

    # ------------------------------------------------------------------ operator
    def start(self, model: str, version: int, rate: float) -> dict[str, Any]:
        if not 0 < rate <= 1:
            raise RolloutError(f"the shadow sample rate must be in (0, 1], got {rate}")
        with self.store.holding(self.function.lock_scope, model, version, "shadow"):
            return self._start(model, version, rate)

    def _start(self, model: str, version: int, rate: float) -> dict[str, Any]:
        candidate_doc = (self.registry or Registry()).get(model, version)
        routing = self.function.routing()
        if routing.split:
            raise RolloutError("live is split between two versions (a rollout?): finish it first")
        stable_binding = self.function.binding_of(routing.version)
        if not stable_binding or stable_binding.get(model) is None:
            raise RolloutError(f"live's version {routing.version} does not serve {model}: nothing to shadow")
        # The candidate serves every other model as live does, so its answers differ only where it should.
        candidate = self.function.publish(
            stable_binding.with_model(single_binding(candidate_doc)),
            description=f"{model} v{version} (shadow candidate)",
        )
        config = {"candidate": candidate, "model": model, "model_version": str(version), "sample_rate": rate}
        primary = self.function.publish(
            stable_binding,
            description=f"{stable_binding.describe()} + shadow of {model} v{version} at {rate:g}",
            extra_env={SHADOW: json.dumps(config)},
        )
        self.function.route(primary)
        state = {
            **config,
            "previous": routing.version,
            "primary": primary,
            "status": "running",
            "started_at": datetime.now(UTC).isoformat(),
        }
        self._put_state(model, state)
        return state

    def stop(self, model: str) -> dict[str, Any]:
        state = self.state(model)
        if not state or state.get("status") != "running":
            raise RolloutError(f"no shadow of {model} is running")
        with self.store.holding(self.function.lock_scope, model, int(state["model_version"]), "shadow"):
            if self.function.routing().version == state["primary"]:
                self.function.route(state["previous"])
        state = {**state, "status": "stopped", "stopped_at": datetime.now(UTC).isoformat()}
        self._put_state(model, state)
        return state

    def state(self, model: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self.table, Key=self._key(model, STATE), ConsistentRead=True).get(
            "Item"
        )
        return json.loads(item["doc"]["S"]) if item else None

    # ------------------------------------------------------------------ consumer
    def consume(self, message: dict[str, Any], model: str | None = None) -> dict[str, Any]:
        """Score one shadow sample with its candidate and count the outcome."""
        candidate = str(message["candidate"])
        primary = message.get("primary") or {}
        started = time.perf_counter()
        status, answer = 0, None
        try:
            path = predict_path(message.get("model"))
            raw = self.function.invoke(candidate, api_event("POST", path, message.get("request")))
            status = int(raw.get("statusCode", 0))
            answer = json.loads(raw.get("body") or "null")
        except (RolloutError, ValueError):
            status = 500
        latency = (time.perf_counter() - started) * 1000
        error = status != 200 or not isinstance(answer, dict)
        agree = (
            not error and isinstance(answer, dict) and answer.get("prediction") == primary.get("prediction")
        )
        diff = 0.0
        if (
            not error
            and isinstance(answer, dict)
            and answer.get("probabilities")
            and primary.get("probabilities")
        ):
            diff = max(
                abs(float(answer["probabilities"].get(k, 0)) - float(v))
                for k, v in primary["probabilities"].items()
            )
        bucket = next((f"le_{b}" for b in BUCKETS_MS if latency <= b), "le_inf")
        name = model or str(message.get("model") or (answer or {}).get("model") or "")
        counts = {"requests": 1, "errors": int(error), "agree": int(agree), bucket: 1}
        self._db.update_item(
            TableName=self.table,
            Key=self._key(name or "unknown", f"SHADOW#{candidate}"),
            UpdateExpression="ADD " + ", ".join(f"{k} :{k}" for k in counts) + ", latency_ms_sum :lat, "
            "abs_diff_sum :diff SET model_version = :mv",
            ExpressionAttributeValues={
                **{f":{k}": {"N": str(v)} for k, v in counts.items()},
                ":lat": {"N": f"{latency:.3f}"},
                ":diff": {"N": f"{diff:.6f}"},
                ":mv": {"S": str(message.get("model_version") or "?")},
            },
        )
        return {"status": status, "agree": agree, "latency_ms": latency}

    def report(self, model: str) -> list[dict[str, Any]]:
        items = self._db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": {"S": f"MODEL#{model}"}, ":p": {"S": "SHADOW#"}},
            ConsistentRead=True,
        )["Items"]
        out = []
        for item in items:
            if item["sk"]["S"] == STATE:
                continue
            n = float(item.get("requests", {}).get("N", 0))
            if not n:
                continue
            hist = {b: float(item.get(f"le_{b}", {}).get("N", 0)) for b in (*BUCKETS_MS, "inf")}
            seen, p99 = 0.0, "inf"
            for b, count in hist.items():
                seen += count
                if seen >= 0.99 * n:
                    p99 = str(b)
                    break
            out.append({
                "candidate": item["sk"]["S"].removeprefix("SHADOW#"),
                "model_version": item.get("model_version", {}).get("S"),
                "requests": int(n),
                "agreement": float(item.get("agree", {}).get("N", 0)) / n,
                "error_rate": float(item.get("errors", {}).get("N", 0)) / n,
                "mean_latency_ms": float(item.get("latency_ms_sum", {}).get("N", 0)) / n,
                "p99_latency_ms_at_most": p99,
                "mean_abs_probability_diff": float(item.get("abs_diff_sum", {}).get("N", 0)) / n,
            })  # fmt: skip
        return out

    def _key(self, model: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": sk}}

    def _put_state(self, model: str, state: dict[str, Any]) -> None:
        self._db.put_item(
            TableName=self.table, Item={**self._key(model, STATE), "doc": {"S": json.dumps(state)}}
        )
