"""The predict function's versions and its weighted ``live`` alias.

A published version freezes its configuration, so pinning the binding document in the environment and
then publishing makes "which models serve" a property of the Lambda version; an alias weight is then
exactly a traffic split, and a rollback is one alias update.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from liveml.aws import client
from liveml.binding import Binding, put_binding, read_binding
from liveml.binding.constants import ARTIFACTS_BUCKET, MODEL_BINDING, PER_VERSION, PER_VERSION_PREFIXES
from liveml.binding.environment import read
from liveml.rollout.errors import AliasUpdateError, RolloutError

log = logging.getLogger(__name__)

#: LocalStack's bug: update_alias with non-empty weights fails with this message (it cannot build its
#: routing model); deleting and re-creating the alias with the weights works.
_LOCALSTACK_ROUTING_BUG = "_create_routing_config_model() missing"
#: Lambda's environment holds 4 KB in all: a document this large goes to S3 even without a bucket named.
_INLINE_LIMIT = 2048


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

    def __init__(
        self,
        function: str,
        alias: str = "live",
        *,
        lam: Any = None,
        bucket: str | None = None,
        s3: Any = None,
    ) -> None:
        self.function = function
        self.alias = alias
        #: Where binding documents are stored (the artifacts bucket); without one a small document
        #: is pinned inline (tests).
        self.bucket = bucket or read(ARTIFACTS_BUCKET)
        self._s3 = s3
        #: RevisionId of the alias as this object last wrote it (None: not written yet).
        self.revision: str | None = None
        self._lam = lam or client("lambda")
        # For the first try of a weighted update: LocalStack answers its bug with a 500, which the
        # retrying client would repeat with back-off for ~20 s before we could take the fallback.
        self._lam_once = lam or client("lambda", retries={"max_attempts": 1, "mode": "standard"})

    @property
    def lock_scope(self) -> str:
        """What the rollout lock covers: the alias every model is served through."""
        return f"{self.function}:{self.alias}"

    # ------------------------------------------------------------------ versions
    def pin(self, binding: Binding) -> str:
        """The value of ``LIVEML_MODEL_BINDING`` for ``binding``: its sha256-addressed S3 object."""
        if self.bucket:
            return put_binding(binding, self.bucket, s3=self._s3_client())
        text = binding.canonical().decode()
        if len(text) > _INLINE_LIMIT:
            raise RolloutError(f"a binding of {len(text)} bytes needs {ARTIFACTS_BUCKET} to be stored in S3")
        return text

    def _s3_client(self) -> Any:
        if self._s3 is None:
            self._s3 = client("s3")
        return self._s3

    def publish(self, binding: Binding, *, description: str, extra_env: dict[str, str] | None = None) -> str:
        """Pin the binding (and ``extra_env``) in $LATEST's environment, wait, publish a version.

        Other variables are kept: a deploy's settings stay as they are. Variables of ``extra_env`` that
        are absent here are removed from the new version, so a drill never leaks into the next one.
        """
        lam = self._lam
        current = lam.get_function_configuration(FunctionName=self.function)
        env = dict(current.get("Environment", {}).get("Variables", {}))
        # A drill or a shadow tee belongs to the version it was published with, never to the next one.
        for name in [k for k in env if k in PER_VERSION or k.startswith(PER_VERSION_PREFIXES)]:
            del env[name]
        env[MODEL_BINDING] = self.pin(binding)
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
        """The binding document frozen in ``version`` (None for a version published without one)."""
        config = self._lam.get_function_configuration(FunctionName=self.function, Qualifier=version)
        raw = config.get("Environment", {}).get("Variables", {}).get(MODEL_BINDING)
        if not raw:
            return None
        s3 = None if raw.lstrip().startswith("{") else self._s3_client()
        return read_binding(raw, s3=s3, source=f"{self.function}:{version} {MODEL_BINDING}")

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

    def route(
        self, stable: str, new: str | None = None, weight: float = 0.0, *, revision: str | None = None
    ) -> Routing:
        """Point the alias at ``stable``, with ``weight`` (0..1) of requests to ``new``; one call on AWS.

        With ``revision`` (the RevisionId this rollout last wrote) the update only applies to the alias as
        it was written then: a concurrent writer makes it fail (``AliasUpdateError``) instead of being
        overwritten. ``self.revision`` holds the RevisionId of this write, for the next one.
        """
        if new is None or weight <= 0 or new == stable:
            target = Routing(stable)
        elif weight >= 1:
            target = Routing(new)
        else:
            target = Routing(stable, new, round(weight, 4))
        weights = {target.extra: target.weight} if target.split and target.extra else {}
        update: dict[str, Any] = {
            "FunctionName": self.function,
            "Name": self.alias,
            "FunctionVersion": target.version,
            "RoutingConfig": {"AdditionalVersionWeights": weights},
        }
        if revision:
            update["RevisionId"] = revision
        try:
            answer = (self._lam_once if weights else self._lam).update_alias(**update)
        except Exception as exc:
            if _is_stale(exc):
                raise AliasUpdateError(
                    f"{self.function}:{self.alias} was changed by someone else since this rollout moved it "
                    f"(revision {revision}): not overwriting it"
                ) from exc
            if weights and _LOCALSTACK_ROUTING_BUG in str(exc):
                # Only LocalStack's known bug takes this path; AWS never raises it.
                log.warning("update_alias with weights hit LocalStack's bug; re-creating the alias")
                self.revision = self._recreate(target.version, weights)
                return target
            if not weights:
                raise AliasUpdateError(f"cannot move {self.function}:{self.alias}: {exc}") from exc
            try:  # any other failure (throttling, a 5xx on AWS): the retrying client, as for every call
                answer = self._lam.update_alias(**update)
            except Exception as again:
                raise AliasUpdateError(f"cannot move {self.function}:{self.alias}: {again}") from again
        self.revision = answer.get("RevisionId") if isinstance(answer, dict) else None
        return target

    def _recreate(self, version: str, weights: dict[str, float]) -> str | None:
        """LocalStack only: delete and re-create the alias with its weights, keeping its resource policy
        (API Gateway's invoke permission is on the alias ARN)."""
        lam = self._lam
        try:
            policy = json.loads(lam.get_policy(FunctionName=self.function, Qualifier=self.alias)["Policy"])
            statements = policy.get("Statement", [])
        except lam.exceptions.ResourceNotFoundException:
            statements = []
        lam.delete_alias(FunctionName=self.function, Name=self.alias)
        created = lam.create_alias(
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
        revision = created.get("RevisionId") if isinstance(created, dict) else None
        return str(revision) if revision else None


def _is_stale(exc: Exception) -> bool:
    """Lambda's answer to an update whose RevisionId is no longer the alias's."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return str(code) == "PreconditionFailedException"
