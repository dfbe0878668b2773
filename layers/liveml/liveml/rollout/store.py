"""Rollout records and the one-rollout-per-model lock, in the registry table.

| pk | sk | what |
|---|---|---|
| ``MODEL#<name>`` | ``ROLLOUT#LOCK`` | the rollout in progress: its id, version, execution, expiry |
| ``MODEL#<name>`` | ``ROLLOUT#<id>`` | a rollout's record: status, routing, steps and checks (JSON) |

A second rollout of a model is **refused** (not queued): the lock is a conditional put, and the
refusal names the rollout holding it. Refusing keeps the order of rollouts a person's decision; a
queue would roll out a version that was approved while an older one was still being judged. A lock
outlives a crashed holder only until it expires (the longest a rollout can take, plus a margin).
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime
from typing import Any

from liveml.aws import client
from liveml.config import Settings
from liveml.rollout.errors import RolloutError, RolloutLockedError

LOCK = "ROLLOUT#LOCK"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class RolloutStore:
    def __init__(self, table: str | None = None, *, dynamodb: Any = None) -> None:
        self.table = table or Settings().require("registry_table")
        self._db = dynamodb or client("dynamodb")

    # ------------------------------------------------------------------ lock
    def acquire(self, model: str, rollout_id: str, version: int, execution: str, ttl_s: int) -> None:
        now = int(time.time())
        try:
            self._db.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": f"MODEL#{model}"},
                    "sk": {"S": LOCK},
                    "rollout_id": {"S": rollout_id},
                    "version": {"N": str(version)},
                    "execution": {"S": execution},
                    "expires_at": {"N": str(now + ttl_s)},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR rollout_id = :me",
                ExpressionAttributeValues={":now": {"N": str(now)}, ":me": {"S": rollout_id}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            held = self.holder(model) or {}
            raise RolloutLockedError(
                f"refused: rollout {held.get('rollout_id', '?')} of {model} v{held.get('version', '?')} "
                "is in progress; wait for it, or end it with `liveml rollout abort|promote|rollback`"
            ) from None

    def holder(self, model: str) -> dict[str, Any] | None:
        item = self._db.get_item(
            TableName=self.table, Key={"pk": {"S": f"MODEL#{model}"}, "sk": {"S": LOCK}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return {
            "rollout_id": item["rollout_id"]["S"],
            "version": int(item["version"]["N"]),
            "execution": item["execution"]["S"],
            "expires_at": int(item["expires_at"]["N"]),
        }

    def release(self, model: str, rollout_id: str) -> None:
        """Release the lock if ``rollout_id`` holds it (never someone else's)."""
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.delete_item(
                TableName=self.table,
                Key={"pk": {"S": f"MODEL#{model}"}, "sk": {"S": LOCK}},
                ConditionExpression="rollout_id = :me",
                ExpressionAttributeValues={":me": {"S": rollout_id}},
            )

    # ------------------------------------------------------------------ records
    def save(self, record: dict[str, Any]) -> None:
        record = {**record, "updated_at": _now()}
        self._db.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": f"MODEL#{record['model']}"},
                "sk": {"S": f"ROLLOUT#{record['rollout_id']}"},
                "doc": {"S": json.dumps(record, default=str)},
                "started_at": {"S": str(record.get("started_at", _now()))},
            },
        )

    def get(self, model: str, rollout_id: str) -> dict[str, Any]:
        item = self._db.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"MODEL#{model}"}, "sk": {"S": f"ROLLOUT#{rollout_id}"}},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            raise RolloutError(f"model {model!r} has no rollout {rollout_id!r}")
        doc: dict[str, Any] = json.loads(item["doc"]["S"])
        return doc

    def history(self, model: str) -> list[dict[str, Any]]:
        """Every rollout of ``model``, newest first."""
        pages = self._db.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"MODEL#{model}"}, ":prefix": {"S": "ROLLOUT#"}},
            ConsistentRead=True,
        )
        docs = [json.loads(i["doc"]["S"]) for page in pages for i in page["Items"] if i["sk"]["S"] != LOCK]
        return sorted(docs, key=lambda d: str(d.get("started_at", "")), reverse=True)
