"""The registry on DynamoDB: one table, conditional writes, an event for every change.

Layout (single table, ``pk``/``sk``):

| pk | sk | what |
|---|---|---|
| ``MODELS`` | ``MODEL#<name>`` | the list of models |
| ``MODEL#<name>`` | ``COUNTER`` | the last allocated version number (atomic ``ADD``) |
| ``MODEL#<name>`` | ``VERSION#<000001>`` | a version: its JSON document and the attributes conditions test |
| ``MODEL#<name>`` | ``STAGE#production`` | which version serves in production |
| ``MODEL#<name>`` | ``DATASET#<version id>`` | an uploaded dataset version (``liveml.registry.datasets``) |
| ``MODEL#<name>`` | ``RUN#<run id>`` | the version a pipeline run registered (a retried Register gets it) |
| ``MODEL#<name>`` | ``ROLLOUT#…``, ``SHADOW#…`` | rollouts, their lock, shadow counts (``liveml.rollout``) |
| ``OUTBOX`` | ``EVENT#<time>#…`` | registry events committed with their change, not yet delivered |

Exactly once: a registration writes the counter, the version, its run mapping and its events in one
transaction, so a retried Register finds the version its first attempt made instead of allocating
another. Events are never published from memory: every change writes them to the outbox in the same
transaction, and they are delivered (then deleted) from there; a failed delivery leaves them in the
outbox for the next write, a retry or ``deliver_pending()``, so a change and its event cannot disagree.
Delivery is at least once; each event carries its ``event_id`` for consumers that must deduplicate.

A version's document is stored as JSON (metrics are floats, which DynamoDB's number type would
turn into Decimals); ``revision``, ``stage`` and ``approval`` sit beside it so writes can be
conditional: a change computed from a stale read is refused instead of overwriting a newer one.
"""

from __future__ import annotations

import json
import random
import time
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from liveml.aws import client
from liveml.config import Settings
from liveml.registry.errors import EventDeliveryError, RegistryError, StaleStateError, VersionNotFoundError
from liveml.registry.events import EventBridgePublisher, EventPublisher
from liveml.registry.model import Approval, Artifact, HistoryEntry, Lineage, ModelVersion, Stage


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _version_key(model: str, version: int) -> dict[str, Any]:
    return {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": f"VERSION#{version:06d}"}}


def _run_key(model: str, run_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": f"RUN#{run_id}"}}


_COUNTER = "COUNTER"
_OUTBOX = "OUTBOX"
#: concurrent registrations of one model race for the next number; the loser takes the one after
_ALLOCATE_ATTEMPTS = 25


class Registry:
    """Model versions, stages and lineage. Takes its ports, so tests can pass fakes."""

    def __init__(
        self, table: str | None = None, *, dynamodb: Any = None, publisher: EventPublisher | None = None
    ) -> None:
        self.table = table or Settings().require("registry_table")
        self._db = dynamodb or client("dynamodb")
        # botocore builds a client's exception classes on first use, without a lock: threads sharing
        # the client could each build their own, and `except` one set would miss the other's raise.
        _ = self._db.exceptions
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
        run_id: str | None = None,
    ) -> ModelVersion:
        """Record the next version (approved at once when the policy is auto), exactly once per ``run_id``.

        The counter, the version, the run → version mapping and the events are one transaction: called
        again for the same run (a retried Register), it returns the version the first call made.
        """
        if run_id and (made := self._registered_by(model, run_id)) is not None:
            self.deliver_pending()
            return made
        self._list_model(model)
        for attempt in range(_ALLOCATE_ATTEMPTS):
            latest = self._latest(model)
            now = _now()
            registered = ModelVersion(
                model=model,
                version=latest + 1,
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
            events = [("ModelRegistered", self._detail(registered))]
            if auto_approve:
                by, reason = "policy:auto", "approval policy is auto"
                registered = self._changed(
                    registered, f"approval {Approval.PENDING} -> {Approval.APPROVED}", by, reason,
                    approval=Approval.APPROVED,
                )  # fmt: skip
                events.append(("ModelApproved", {**self._detail(registered), "by": by, "reason": reason}))
            writes = [
                self._counter_update(model, latest),
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": self._item(registered),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                *self._outbox_puts(events),
            ]
            if run_id:
                writes.append(
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": {
                                **_run_key(model, run_id),
                                "version": {"N": str(registered.version)},
                                "at": {"S": now},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                )
            try:
                self._db.transact_write_items(TransactItems=writes)
            except self._db.exceptions.TransactionCanceledException:
                if run_id and (made := self._registered_by(model, run_id)) is not None:
                    self.deliver_pending()  # a concurrent attempt of the same run won
                    return made
                time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # another run took the number
                continue
            self.deliver_pending()
            return registered
        raise StaleStateError(f"{model}: no version number allocated, too many concurrent registrations")

    def registered_by(self, model: str, run_id: str) -> ModelVersion | None:
        """The version pipeline run ``run_id`` registered, if it did."""
        return self._registered_by(model, run_id)

    def deliver_pending(self) -> int:
        """Publish every committed event still in the outbox, oldest first; returns how many were sent.

        Raises ``EventDeliveryError`` when the bus refuses one: it stays in the outbox for the next try.
        """
        pages = self._db.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": _OUTBOX}},
            ConsistentRead=True,
        )
        sent = 0
        for page in pages:
            for item in page["Items"]:
                detail_type, detail = item["detail_type"]["S"], json.loads(item["detail"]["S"])
                try:
                    self._publisher.publish(detail_type, detail)
                except Exception as exc:
                    raise EventDeliveryError(
                        f"{detail.get('model')} v{detail.get('version')} is recorded, but its {detail_type} "
                        f"event could not be delivered ({exc}); it stays in the outbox: retry to deliver it"
                    ) from exc
                self._db.delete_item(TableName=self.table, Key={"pk": item["pk"], "sk": item["sk"]})
                sent += 1
        return sent

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
        event = ("ModelRejected", {**self._detail(updated), "by": by, "reason": reason})
        self._transact([self._conditional_put(updated, current.revision)], f"{model} v{version}", [event])
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
        event = ("ModelStageChanged", {**self._detail(updated), "from": current.stage.value})
        self._transact(writes, f"{model} v{version}", [event])
        return updated

    # ------------------------------------------------------------------ internals
    def _list_model(self, model: str) -> None:
        # List the model once; a model already listed fails the condition, which is fine.
        with suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.put_item(
                TableName=self.table,
                Item={"pk": {"S": "MODELS"}, "sk": {"S": f"MODEL#{model}"}, "created_at": {"S": _now()}},
                ConditionExpression="attribute_not_exists(pk)",
            )

    def _latest(self, model: str) -> int:
        key = {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": _COUNTER}}
        item = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        # No counter yet reads as 0; a wrong read only fails the transaction's condition, which retries.
        return int(item.get("latest", {}).get("N", 0)) if item else 0

    def _counter_update(self, model: str, latest: int) -> dict[str, Any]:
        """Move the counter from ``latest`` to the next number: refused if another registration moved it."""
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": _COUNTER}},
            "UpdateExpression": "SET latest = :next",
            "ExpressionAttributeValues": {":next": {"N": str(latest + 1)}},
        }
        if latest:
            update["ConditionExpression"] = "latest = :latest"
            update["ExpressionAttributeValues"][":latest"] = {"N": str(latest)}
        else:
            update["ConditionExpression"] = "attribute_not_exists(latest)"
        return {"Update": update}

    def _registered_by(self, model: str, run_id: str) -> ModelVersion | None:
        item = self._db.get_item(TableName=self.table, Key=_run_key(model, run_id), ConsistentRead=True)
        return self.get(model, int(item["Item"]["version"]["N"])) if "Item" in item else None

    def _outbox_puts(self, events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Outbox items for ``events``, in order: they commit with the change they describe."""
        stamp = _now()
        puts = []
        for n, (detail_type, detail) in enumerate(events):
            event_id = f"{stamp}#{detail.get('model')}#{int(detail.get('version', 0)):06d}#{n:02d}"
            item = {
                "pk": {"S": _OUTBOX},
                "sk": {"S": f"EVENT#{event_id}"},
                "detail_type": {"S": detail_type},
                "detail": {"S": json.dumps({**detail, "event_id": event_id})},
            }
            puts.append({"Put": {"TableName": self.table, "Item": item}})
        return puts

    def _decide(self, model: str, version: int, approval: Approval, *, by: str, reason: str) -> ModelVersion:
        current = self.get(model, version)
        if current.approval is not Approval.PENDING:
            raise StaleStateError(f"{model} v{version} is already {current.approval}")
        updated = self._changed(
            current, f"approval {current.approval} -> {approval}", by, reason, approval=approval
        )
        kind = "ModelApproved" if approval is Approval.APPROVED else "ModelRejected"
        event = (kind, {**self._detail(updated), "by": by, "reason": reason})
        self._transact([self._conditional_put(updated, current.revision)], f"{model} v{version}", [event])
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

    def _transact(
        self, writes: list[dict[str, Any]], what: str, events: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """Commit ``writes`` with their ``events`` in the outbox, then deliver them."""
        try:
            self._db.transact_write_items(TransactItems=[*writes, *self._outbox_puts(events)])
        except self._db.exceptions.TransactionCanceledException:
            raise StaleStateError(
                f"{what} changed while this change was computed: read it again and retry"
            ) from None
        self.deliver_pending()

    @staticmethod
    def _detail(version: ModelVersion) -> dict[str, Any]:
        return {
            "model": version.model,
            "version": version.version,
            "stage": version.stage.value,
            "approval": version.approval.value,
            "metrics": version.metrics,
        }
