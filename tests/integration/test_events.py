"""Player events through API Gateway on LocalStack: ``POST /events`` reaches the ingest function (not
the predict alias), lands the good events of a partly bad batch once in S3, and refuses malformed
batches with the contract's 4xx."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from liveml.aws import client
from liveml.stack import StackOutputs
from liveml.stack.api import call_api


def post_raw(stack: StackOutputs, body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
    request = urllib.request.Request(stack.api_url + "/events", data=body, method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("x-api-key", stack.api_key)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def events(game: str, n: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "event_id": f"{game}-{i}",
            "player_id": f"p{i % 5}",
            "type": "session_start",
            "timestamp": (now - timedelta(minutes=i)).isoformat(),
            "properties": {"level": i},
        }
        for i in range(n)
    ]


def stored_ids(stack: StackOutputs, game: str) -> list[str]:
    s3 = client("s3")
    ids = []
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=stack.data_bucket, Prefix=f"raw/events/game={game}/"
    )
    for page in pages:
        for obj in page.get("Contents", []):
            raw = s3.get_object(Bucket=stack.data_bucket, Key=obj["Key"])["Body"].read()
            ids += [json.loads(line)["event_id"] for line in gzip.decompress(raw).splitlines()]
    return ids


def test_a_partly_bad_batch_lands_its_good_events_once(stack: StackOutputs) -> None:
    game = f"it-{uuid.uuid4().hex[:8]}"
    batch = events(game, 50)
    batch[5]["timestamp"] = "2026-12-01T10:00:00"  # no offset
    batch[20]["player_id"] = ""
    batch[33]["sequence"] = "x"
    status, first = call_api(stack, "POST", "/events", {"game": game, "events": batch})
    assert status == 200, first
    assert first["accepted"] == 47 and first["duplicates"] == 0
    assert [r["index"] for r in first["rejected"]] == [5, 20, 33]
    assert [r["reason"].split(":")[0] for r in first["rejected"]] == ["timestamp", "player_id", "sequence"]

    status, second = call_api(stack, "POST", "/events", {"game": game, "events": batch})
    assert status == 200, second
    assert second["accepted"] == 0 and second["duplicates"] == 47
    ids = stored_ids(stack, game)
    assert len(ids) == 47 and len(set(ids)) == 47


def test_malformed_batches_get_their_4xx(stack: StackOutputs) -> None:
    good = json.dumps({"events": events("m", 1)}).encode()
    ahead = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    cases: list[tuple[bytes, str, int, str]] = [
        (b"{not json", "application/json", 400, "bad_request"),
        (good, "text/plain", 415, "unsupported_media_type"),
        (b'{"events": [' + b" " * 1_100_000 + b"]}", "application/json", 413, "payload_too_large"),
        (json.dumps({"events": events("m", 501)}).encode(), "application/json", 422, "validation_error"),
        (b'{"events": "all of them"}', "application/json", 422, "validation_error"),
        (b'{"game": 7, "events": []}', "application/json", 422, "validation_error"),
        (
            json.dumps({"events": [{**e, "timestamp": ahead} for e in events("m", 3)]}).encode(),
            "application/json",
            422,
            "validation_error",
        ),
    ]
    for body, content_type, status, error in cases:
        got, answer = post_raw(stack, body, content_type)
        assert (got, answer["error"]) == (status, error), (body[:60], answer)
        assert answer["fields"] and answer["correlation_id"]


def test_events_need_the_api_key(stack: StackOutputs) -> None:
    status, _ = call_api(stack, "POST", "/events", {"events": events("k", 1)}, with_key=False)
    assert status == 403
