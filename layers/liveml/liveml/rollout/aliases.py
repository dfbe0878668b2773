"""The predict function's versions and its weighted ``live`` alias.

A published version freezes its configuration, so binding the model in the environment and then
publishing makes "which model serves" a property of the Lambda version; an alias weight is then
exactly a model traffic split, and a rollback is one alias update.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from liveml.aws import client
from liveml.rollout.binding import MODEL_BINDING, Binding
from liveml.rollout.errors import AliasUpdateError, RolloutError

log = logging.getLogger(__name__)

#: The message of LocalStack's bug (FACTS.md): update_alias with non-empty weights cannot build its model.
_LOCALSTACK_ROUTING_BUG = "_create_routing_config_model() missing"


@dataclass(frozen=True)
class Routing:
    """Where the alias sends requests: ``version`` gets ``1 - weight``, ``extra`` gets ``weight``."""

    version: str
    extra: str | None = None
    weight: float = 0.0

    @property
    def split(self) -> bool:
        return self.extra is not None and self.weight > 0

    def share_of(self, version: str) -> float:
        if self.extra == version:
            return self.weight
        return 1 - self.weight if self.version == version else 0.0


class PredictFunction:
    """The predict function (``function``) and its alias, through a Lambda client."""

    def __init__(self, function: str, alias: str = "live", *, lam: Any = None) -> None:
        self.function = function
        self.alias = alias
        self._lam = lam or client("lambda")
        # For the first try of a weighted update: LocalStack answers its bug with a 500, which the
        # retrying client would repeat with back-off for ~20 s before we could take the fallback.
        self._lam_once = lam or client("lambda", retries={"max_attempts": 1, "mode": "standard"})

    # ------------------------------------------------------------------ versions
    def publish(self, binding: Binding, *, description: str, extra_env: dict[str, str] | None = None) -> str:
        """Merge the binding (and ``extra_env``) into $LATEST's environment, wait, publish a version.

        Other variables are kept: a deploy's settings stay as they are. Variables of ``extra_env`` that
        are absent here are removed from the new version, so a drill never leaks into the next one.
        """
        lam = self._lam
        current = lam.get_function_configuration(FunctionName=self.function)
        env = dict(current.get("Environment", {}).get("Variables", {}))
        # A drill or a shadow tee belongs to the version it was published with, never to the next one.
        for name in [k for k in env if k.startswith("LIVEML_DRILL_") or k == "LIVEML_SHADOW"]:
            del env[name]
        env[MODEL_BINDING] = json.dumps(binding, separators=(",", ":"))
        env.update(extra_env or {})
        lam.update_function_configuration(FunctionName=self.function, Environment={"Variables": env})
        lam.get_waiter("function_updated_v2").wait(FunctionName=self.function)
        # RevisionId: publish exactly the configuration written above, not a concurrent writer's.
        revision = lam.get_function_configuration(FunctionName=self.function)["RevisionId"]
        published = lam.publish_version(
            FunctionName=self.function, Description=description[:256], RevisionId=revision
        )
        version = str(published["Version"])
        lam.get_waiter("function_active_v2").wait(FunctionName=self.function, Qualifier=version)
        return version

    def binding_of(self, version: str) -> Binding | None:
        """The model binding frozen in ``version`` (None for a version published without one)."""
        config = self._lam.get_function_configuration(FunctionName=self.function, Qualifier=version)
        raw = config.get("Environment", {}).get("Variables", {}).get(MODEL_BINDING)
        return json.loads(raw) if raw else None

    def invoke(self, version: str, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke ``version`` directly (never through the alias) and return its decoded answer."""
        answer = self._lam.invoke(
            FunctionName=self.function, Qualifier=version, Payload=json.dumps(event).encode()
        )
        payload = answer["Payload"].read()
        if answer.get("FunctionError"):
            try:
                detail = json.loads(payload).get("errorMessage", "")
            except ValueError:
                detail = payload[:200].decode(errors="replace")
            raise RolloutError(
                f"{self.function}:{version} failed: {answer['FunctionError']} {detail}".strip()
            )
        result: dict[str, Any] = json.loads(payload)
        return result

    # ------------------------------------------------------------------ the alias
    def routing(self) -> Routing:
        alias = self._lam.get_alias(FunctionName=self.function, Name=self.alias)
        weights = alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}) or {}
        extra, weight = next(iter(weights.items()), (None, 0.0))
        return Routing(str(alias["FunctionVersion"]), extra, float(weight))

    def route(self, stable: str, new: str | None = None, weight: float = 0.0) -> Routing:
        """Point the alias at ``stable``, with ``weight`` (0..1) of requests to ``new``; one call on AWS."""
        if new is None or weight <= 0 or new == stable:
            target = Routing(stable)
        elif weight >= 1:
            target = Routing(new)
        else:
            target = Routing(stable, new, round(weight, 4))
        weights = {target.extra: target.weight} if target.split and target.extra else {}
        update = {
            "FunctionName": self.function,
            "Name": self.alias,
            "FunctionVersion": target.version,
            "RoutingConfig": {"AdditionalVersionWeights": weights},
        }
        try:
            (self._lam_once if weights else self._lam).update_alias(**update)
        except Exception as exc:
            if weights and _LOCALSTACK_ROUTING_BUG in str(exc):
                # Only LocalStack's known bug takes this path; AWS never raises it.
                log.warning("update_alias with weights hit LocalStack's bug; re-creating the alias")
                self._recreate(target.version, weights)
                return target
            if not weights:
                raise AliasUpdateError(f"cannot move {self.function}:{self.alias}: {exc}") from exc
            try:  # any other failure (throttling, a 5xx on AWS): the retrying client, as for every call
                self._lam.update_alias(**update)
            except Exception as again:
                raise AliasUpdateError(f"cannot move {self.function}:{self.alias}: {again}") from again
        return target

    def _recreate(self, version: str, weights: dict[str, float]) -> None:
        """LocalStack only: delete and re-create the alias with its weights, keeping its resource policy
        (API Gateway's invoke permission is on the alias ARN)."""
        lam = self._lam
        try:
            policy = json.loads(lam.get_policy(FunctionName=self.function, Qualifier=self.alias)["Policy"])
            statements = policy.get("Statement", [])
        except lam.exceptions.ResourceNotFoundException:
            statements = []
        lam.delete_alias(FunctionName=self.function, Name=self.alias)
        lam.create_alias(
            FunctionName=self.function,
            Name=self.alias,
            FunctionVersion=version,
            RoutingConfig={"AdditionalVersionWeights": weights},
        )
        try:
            remaining = json.loads(lam.get_policy(FunctionName=self.function, Qualifier=self.alias)["Policy"])
            present = {s.get("Sid") for s in remaining.get("Statement", [])}
        except lam.exceptions.ResourceNotFoundException:
            present = set()
        for statement in statements:
            if statement.get("Sid") in present:
                continue
            permission: dict[str, Any] = {
                "FunctionName": self.function,
                "Qualifier": self.alias,
                "StatementId": statement["Sid"],
                "Action": statement["Action"],
                "Principal": statement["Principal"].get("Service") or statement["Principal"].get("AWS"),
            }
            source = statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
            if source:
                permission["SourceArn"] = source
            lam.add_permission(**permission)
