"""``POST /events`` bodies that API Gateway hands over base64-encoded: a body that is not valid base64 is a
400 naming it (``b64decode`` raised, a 5xx), decoded bytes that are not UTF-8 JSON are the batch's 400 or
422, and nothing is stored from a refused batch."""

from __future__ import annotations

import json
from base64 import b64encode
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from liveml.monitoring import EventIngestor, FolderEventStore, MemoryEventIds
from liveml.monitoring.ingest import handle_apigw


@pytest.fixture
def ingestor(tmp_path: Path) -> EventIngestor:
    return EventIngestor(FolderEventStore(tmp_path), MemoryEventIds())


def apigw(body: str, *, encoded: bool = True) -> dict[str, Any]:
    return {
        "resource": "/events",
        "path": "/events",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "x-api-key": "k"},
        "body": body,
        "isBase64Encoded": encoded,
        "requestContext": {"requestId": "req-1", "stage": "v1"},
    }


def b64(data: bytes) -> str:
    return b64encode(data).decode()


def batch() -> bytes:
    now = datetime.now(UTC).isoformat()
    events = [
        {"event_id": f"e-{i}", "player_id": "p1", "type": "session_start", "timestamp": now} for i in range(3)
    ]
    return json.dumps({"game": "g1", "events": events}).encode()


def stored_files(tmp_path: Path) -> list[Path]:
    return [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("!!!not base64***", 400, "body: isBase64Encoded is true but the body is not valid base64"),
        ("eyJhIjo", 400, "body: isBase64Encoded is true but the body is not valid base64"),
        ("eyJh\u00e9Ijo=", 400, "body: isBase64Encoded is true but the body is not valid base64"),
        (b64(bytes(range(256))), 400, "invalid JSON"),
        (b64(b'{"game": "g\xff", "events": []}'), 400, "invalid JSON"),
        (b64(b"[1, 2]"), 422, "expected a JSON object with an `events` list"),
        (b64(b"null"), 422, "expected a JSON object with an `events` list"),
    ],
)
def test_a_hostile_encoded_body_is_a_4xx_naming_it_and_stores_nothing(
    ingestor: EventIngestor, tmp_path: Path, body: str, status: int, message: str
) -> None:
    response, counts = handle_apigw(ingestor, apigw(body))
    assert response["statusCode"] == status, response
    answer = json.loads(response["body"])
    assert answer["message"].startswith(message), answer
    assert answer["correlation_id"] == "req-1" and answer["fields"][0]["field"] == "body"
    assert counts == {"EventBatchesRefused": 1}
    assert stored_files(tmp_path) == []


def test_a_valid_encoded_batch_is_stored_as_the_plain_one(ingestor: EventIngestor, tmp_path: Path) -> None:
    response, counts = handle_apigw(ingestor, apigw(b64(batch())))
    assert response["statusCode"] == 200, response
    assert counts["EventsAccepted"] == 3 and stored_files(tmp_path)
    again, _ = handle_apigw(ingestor, apigw(batch().decode(), encoded=False))
    assert json.loads(again["body"])["duplicates"] == 3
