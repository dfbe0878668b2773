"""The registry on DynamoDB: one table, conditional writes, an event for every change.

Layout (single table, ``pk``/``sk``):

| pk | sk | what |
|---|---|---|
| ``MODELS`` | ``MODEL#<name>`` | the list of models |
| ``MODEL#<name>`` | ``COUNTER`` | the last allocated version number (atomic ``ADD``) |
| ``MODEL#<name>`` | ``VERSION#<000001>`` | a version: its JSON document and the attributes conditions test |
| ``MODEL#<name>`` | ``STAGE#production`` | which version serves in production |
| ``MODEL#<name>`` | ``DATASET#<version id>`` | an uploaded dataset version (``liveml.registry.datasets``) |
| ``MODEL#<name>`` | ``ROLLOUT#…``, ``SHADOW#…`` | rollouts, their lock, shadow counts (``liveml.rollout``) |

A version's document is stored as JSON (metrics are floats, which DynamoDB's number type would
turn into Decimals); ``revision``, ``stage`` and ``approval`` sit beside it so writes can be
conditional: a change computed from a stale read is refused instead of overwriting a newer one.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from liveml.aws import client
from liveml.config import Settings
from liveml.registry.errors import RegistryError, StaleStateError, VersionNotFoundError
from liveml.registry.events import EventBridgePublisher, EventPublisher
from liveml.registry.model import Approval, Artifact, HistoryEntry, Lineage, ModelVersion, Stage


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _version_key(model: str, version: int) -> dict[str, Any]:
    return {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": f"VERSION#{version:06d}"}}


class Registry:
    """Model versions, stages and lineage. Takes its ports, so tests can pass fakes."""

    def __init__(
        self, table: str | None = None, *, dynamodb: Any = None, publisher: EventPublisher | None = None
    ) -> None:
        self.table = table or Settings().require("registry_table")
        self._db = dynamodb or client("dynamodb")
        self._publisher = publisher or EventBridgePublisher()

    # ------------------------------------------------------------------ reading
    def get(self, model: str, version: int) -> ModelVersion:
        item = self._db.get_item(TableName=self.table, Key=_version_key(model, version), ConsistentRead=True)
        if "Item" not in item:
            raise VersionNotFoundError(f"model {model!r} has no version {version}")
        return ModelVersion.model_validate_json(item["Item"]["doc"]["S"])

    def versions(self, model: str) -> list[ModelVersion]:
        pages = self._db.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"MODEL#{model}"}, ":prefix": {"S": "VERSION#"}},
            ConsistentRead=True,
        )
        return [ModelVersion.model_validate_json(i["doc"]["S"]) for page in pages for i in page["Items"]]

    def models(self) -> list[str]:
        pages = self._db.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "MODELS"}},
        )
        return [item["sk"]["S"].removeprefix("MODEL#") for page in pages for item in page["Items"]]

    def production(self, model: str) -> ModelVersion | None:
        """The version serving in production, if any."""
        key = {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": "STAGE#production"}}
        item = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return self.get(model, int(item["version"]["N"])) if item else None

    # ------------------------------------------------------------------ writing
    def register(
        self,
        model: str,
        *,
        lineage: Lineage,
        artifacts: dict[str, Artifact],
        metrics: dict[str, float],
        family: str,
        auto_approve: bool,
        evaluation: dict[str, Any] | None = None,
    ) -> ModelVersion:
        """Allocate the next version atomically and record it; approve it at once when the policy is auto."""
        version = self._allocate(model)
        now = _now()
        registered = ModelVersion(
            model=model,
            version=version,
            approval=Approval.PENDING,
            stage=Stage.CANDIDATE,
            family=family,
            metrics=metrics,
            evaluation=evaluation or {},
            artifacts=artifacts,
            lineage=lineage,
            created_at=now,
            updated_at=now,
            history=[HistoryEntry(at=now, change="registered")],
        )
        self._db.put_item(
            TableName=self.table,
            Item=self._item(registered),
            ConditionExpression="attribute_not_exists(pk)",
        )
        self._publisher.publish("ModelRegistered", self._detail(registered))
        if auto_approve:
            return self.approve(model, version, by="policy:auto", reason="approval policy is auto")
        return registered

    def approve(self, model: str, version: int, *, by: str = "liveml", reason: str = "") -> ModelVersion:
        return self._decide(model, version, Approval.APPROVED, by=by, reason=reason)

    def reject(self, model: str, version: int, *, by: str = "liveml", reason: str = "") -> ModelVersion:
        return self._decide(model, version, Approval.REJECTED, by=by, reason=reason)

    def revoke(self, model: str, version: int, *, by: str = "liveml", reason: str = "") -> ModelVersion:
        """Withdraw an approval after the fact (a rollout found the version unhealthy)."""
        current = self.get(model, version)
        if current.approval is not Approval.APPROVED:
            raise StaleStateError(
                f"{model} v{version} is {current.approval}, not Approved: nothing to revoke"
            )
        updated = self._changed(
            current,
            f"approval {current.approval} -> {Approval.REJECTED}",
            by,
            reason,
            approval=Approval.REJECTED,
        )
        self._transact([self._conditional_put(updated, current.revision)], f"{model} v{version}")
        self._publisher.publish("ModelRejected", {**self._detail(updated), "by": by, "reason": reason})
        return updated

    def set_stage(
        self, model: str, version: int, stage: Stage, *, expected: Stage, by: str = "liveml", reason: str = ""
    ) -> ModelVersion:
        """Move a version from ``expected`` to ``stage``; promoting to production archives the old one.

        Refused with ``StaleStateError`` when the version is no longer in ``expected``.
        """
        current = self.get(model, version)
        if current.stage is not expected:
            raise StaleStateError(
                f"{model} v{version} is {current.stage}, not {expected}: refusing to move it to {stage}"
            )
        if stage is Stage.PRODUCTION and current.approval is not Approval.APPROVED:
            raise RegistryError(f"{model} v{version} is {current.approval}: only an approved version serves")
        updated = self._changed(current, f"stage {current.stage} -> {stage}", by, reason, stage=stage)
        writes: list[dict[str, Any]] = [self._conditional_put(updated, current.revision)]
        previous = self.production(model) if stage is Stage.PRODUCTION else None
        if previous and previous.version != version:
            archived = self._changed(
                previous,
                f"stage production -> archived (replaced by v{version})",
                by,
                reason,
                stage=Stage.ARCHIVED,
            )
            writes.append(self._conditional_put(archived, previous.revision))
        if stage is Stage.PRODUCTION:
            writes.append(self._pointer_put(model, version, previous.version if previous else None))
        elif current.stage is Stage.PRODUCTION:
            writes.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": "STAGE#production"}},
                    }
                }
            )
        self._transact(writes, f"{model} v{version}")
        self._publisher.publish("ModelStageChanged", {**self._detail(updated), "from": current.stage.value})
        return updated

    # ------------------------------------------------------------------ internals
    def _allocate(self, model: str) -> int:
        # List the model once; a model already listed fails the condition, which is fine.
        with suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.put_item(
                TableName=self.table,
                Item={"pk": {"S": "MODELS"}, "sk": {"S": f"MODEL#{model}"}, "created_at": {"S": _now()}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        # ADD is atomic: two concurrent registrations never get the same number.
        answer = self._db.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"MODEL#{model}"}, "sk": {"S": "COUNTER"}},
            UpdateExpression="ADD latest :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["latest"]["N"])

    def _decide(self, model: str, version: int, approval: Approval, *, by: str, reason: str) -> ModelVersion:
        current = self.get(model, version)
        if current.approval is not Approval.PENDING:
            raise StaleStateError(f"{model} v{version} is already {current.approval}")
        updated = self._changed(
            current, f"approval {current.approval} -> {approval}", by, reason, approval=approval
        )
        self._transact([self._conditional_put(updated, current.revision)], f"{model} v{version}")
        event = "ModelApproved" if approval is Approval.APPROVED else "ModelRejected"
        self._publisher.publish(event, {**self._detail(updated), "by": by, "reason": reason})
        return updated

    @staticmethod
    def _changed(current: ModelVersion, change: str, by: str, reason: str, **fields: Any) -> ModelVersion:
        now = _now()
        entry = HistoryEntry(at=now, change=change, by=by, reason=reason)
        return current.model_copy(
            update={
                **fields,
                "updated_at": now,
                "revision": current.revision + 1,
                "history": [*current.history, entry],
            }
        )

    def _item(self, version: ModelVersion) -> dict[str, Any]:
        return {
            **_version_key(version.model, version.version),
            "doc": {"S": version.model_dump_json()},
            "revision": {"N": str(version.revision)},
            "stage": {"S": version.stage.value},
            "approval": {"S": version.approval.value},
        }

    def _conditional_put(self, version: ModelVersion, expected_revision: int) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table,
                "Item": self._item(version),
                "ConditionExpression": "revision = :r",
                "ExpressionAttributeValues": {":r": {"N": str(expected_revision)}},
            }
        }

    def _pointer_put(self, model: str, version: int, previous: int | None) -> dict[str, Any]:
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                "pk": {"S": f"MODEL#{model}"},
                "sk": {"S": "STAGE#production"},
                "version": {"N": str(version)},
            },
        }
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :v"
            put["ExpressionAttributeValues"] = {":v": {"N": str(previous)}}
        return {"Put": put}

    def _transact(self, writes: list[dict[str, Any]], what: str) -> None:
        try:
            self._db.transact_write_items(TransactItems=writes)
        except self._db.exceptions.TransactionCanceledException:
            raise StaleStateError(
                f"{what} changed while this change was computed: read it again and retry"
            ) from None

    @staticmethod
    def _detail(version: ModelVersion) -> dict[str, Any]:
        return {
            "model": version.model,
            "version": version.version,
            "stage": version.stage.value,
            "approval": version.approval.value,
            "metrics": version.metrics,
        }
