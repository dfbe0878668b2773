"""Rollout records, the waiting queue and the lock on the alias, in the registry table.

| pk | sk | what |
|---|---|---|
| ``ALIAS#<function>:<alias>`` | ``ROLLOUT#LOCK`` | the rollout (or shadow, or experiment) moving the alias |
| ``MODEL#<name>`` | ``ROLLOUT#<id>`` | a rollout's record: status, routing, steps and checks (JSON) |
| ``MODEL#<name>`` | ``QUEUE#<version>`` | a rollout waiting for the lock: since when, and behind whom |

Every model is served by the same alias, so one rollout moves it at a time, whichever model it is
for: the lock is a conditional put on the alias. A rollout that finds it held **waits** (the state
machine retries; its queue entry makes the wait visible), and when its turn comes the newest approved
version of its model wins. A lock outlives a crashed holder only until it expires (the longest a
rollout can take, plus a margin).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from liveml.aws import client
from liveml.config import Settings
from liveml.rollout.errors import RolloutError, RolloutLockedError

LOCK = "ROLLOUT#LOCK"
QUEUE = "QUEUE#"
#: A waiting rollout refreshes its queue entry at every retry (every 10 s); one not refreshed for this
#: long has stopped waiting (its execution was stopped or timed out) and no longer shows, then expires.
QUEUE_STALE_S = 120


def _now() -> str:
    return datetime.now(UTC).isoformat()


class RolloutStore:
    def __init__(self, table: str | None = None, *, dynamodb: Any = None) -> None:
        self.table = table or Settings().require("registry_table")
        self._db = dynamodb or client("dynamodb")

    # ------------------------------------------------------------------ lock
    def acquire(
        self, scope: str, model: str, rollout_id: str, version: int, execution: str, ttl_s: int
    ) -> None:
        """Take the lock of ``scope`` (``<function>:<alias>``); ``RolloutLockedError`` names its holder."""
        now = int(time.time())
        try:
            self._db.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": f"ALIAS#{scope}"},
                    "sk": {"S": LOCK},
                    "model": {"S": model},
                    "rollout_id": {"S": rollout_id},
                    "version": {"N": str(version)},
                    "execution": {"S": execution},
                    "expires_at": {"N": str(now + ttl_s)},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR rollout_id = :me",
                ExpressionAttributeValues={":now": {"N": str(now)}, ":me": {"S": rollout_id}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            held = self.holder(scope) or {}
            raise RolloutLockedError(
                f"{scope} is being moved by rollout {held.get('rollout_id', '?')} of "
                f"{held.get('model', '?')} v{held.get('version', '?')}"
            ) from None

    @contextlib.contextmanager
    def holding(self, scope: str, model: str, version: int, action: str, ttl_s: int = 600) -> Iterator[None]:
        """The lock of ``scope`` for one operator action that moves the alias (a shadow, an experiment):
        refused by name while a rollout moves it, and no rollout starts until the action is done."""
        lock_id = f"{action}-{uuid.uuid4().hex[:12]}"
        self.acquire(scope, model, lock_id, version, action, ttl_s)
        try:
            yield
        finally:
            self.release(scope, lock_id)

    def holder(self, scope: str) -> dict[str, Any] | None:
        """The rollout holding the lock of ``scope`` (None when free or expired)."""
        item = self._db.get_item(
            TableName=self.table, Key={"pk": {"S": f"ALIAS#{scope}"}, "sk": {"S": LOCK}}, ConsistentRead=True
        ).get("Item")
        if not item or int(item["expires_at"]["N"]) < time.time():
            return None
        return {
            "model": item.get("model", {}).get("S", "?"),
            "rollout_id": item["rollout_id"]["S"],
            "version": int(item["version"]["N"]),
            "execution": item["execution"]["S"],
            "expires_at": int(item["expires_at"]["N"]),
        }

    def release(self, scope: str, rollout_id: str) -> None:
        """Release the lock if ``rollout_id`` holds it (never someone else's)."""
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.delete_item(
                TableName=self.table,
                Key={"pk": {"S": f"ALIAS#{scope}"}, "sk": {"S": LOCK}},
                ConditionExpression="rollout_id = :me",
                ExpressionAttributeValues={":me": {"S": rollout_id}},
            )

    # ------------------------------------------------------------------ queue
    def enqueue(self, model: str, version: int, execution: str, behind: dict[str, Any]) -> None:
        """Record (or refresh) that ``model`` v``version`` waits for the lock, behind ``behind``."""
        key = {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": f"{QUEUE}{version:08d}"}}
        self._db.update_item(
            TableName=self.table,
            Key=key,
            UpdateExpression="SET since = if_not_exists(since, :now), checked_at = :now, execution = :ex, "
            "behind = :behind, expires_at = :expires",
            ExpressionAttributeValues={
                ":now": {"S": _now()},
                ":expires": {"N": str(int(time.time()) + QUEUE_STALE_S)},
                ":ex": {"S": execution},
                ":behind": {"S": json.dumps(behind, default=str)},
            },
        )

    def dequeue(self, model: str, version: int) -> None:
        self._db.delete_item(
            TableName=self.table, Key={"pk": {"S": f"MODEL#{model}"}, "sk": {"S": f"{QUEUE}{version:08d}"}}
        )

    def queued(self, model: str, now: float | None = None) -> list[dict[str, Any]]:
        """The rollouts of ``model`` waiting for the lock, oldest version first (not those that stopped
        waiting: DynamoDB's TTL deletes their entries only eventually)."""
        now = time.time() if now is None else now
        items = self._db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :q)",
            ExpressionAttributeValues={":pk": {"S": f"MODEL#{model}"}, ":q": {"S": QUEUE}},
            ConsistentRead=True,
        )["Items"]
        return [
            {
                "version": int(i["sk"]["S"].removeprefix(QUEUE)),
                "since": i["since"]["S"],
                "checked_at": i["checked_at"]["S"],
                "execution": i["execution"]["S"],
                "behind": json.loads(i["behind"]["S"]),
            }
            for i in items
            if "expires_at" not in i or int(i["expires_at"]["N"]) >= now
        ]

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
